/**
 * The CRL-number floor (issue #8 item 3; RFC 5280 §5.2.3: a CRL number is never issued twice):
 * every checkpoint of the home counts — the signing card's, and the copies of every other
 * card's (a root card's checkpoint also records the sub-CAs' numbers) — and a database below
 * the highest of them is refused with a typed error, unless the operator asked to sign past it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHECKPOINT_FORMAT, type Checkpoint } from '../../../src/ca/checkpoint.js';
import { CRL_FLOOR_OVERRIDE_FLAG, checkpointedCrlFloor, crlNumberFloorDecision } from '../../../src/ca/checkpoint-crl-floor.js';
import { CaError } from '../../../src/ca/errors.js';

const HOME = 'home-1';
function cp(card: string, cas: Record<string, string>, o: Partial<Checkpoint> = {}): Checkpoint {
  return {
    format: CHECKPOINT_FORMAT,
    homeId: HOME,
    card,
    auditSeq: 10,
    auditHead: 'ab'.repeat(32),
    cas: Object.fromEntries(Object.entries(cas).map(([k, v]) => [k, { serials: 1, crlNumber: v }])),
    at: '2027-01-01T00:00:00.000Z',
    reason: `crl ${Object.keys(cas)[0]} #${Object.values(cas)[0]}`,
    ...o,
  };
}

test('the floor is the highest number over every checkpoint of this home, naming where it is', () => {
  const f = checkpointedCrlFloor(
    [
      { cp: cp('SUB', { servers: '2' }), source: 'card SUB' },
      { cp: cp('ROOT', { root: '1', servers: '5' }), source: 'file checkpoint-ROOT.json' },
      { cp: cp('SUB', { servers: '3' }), source: 'file checkpoint-SUB.json' },
      { cp: cp('X', { servers: '99' }, { homeId: 'other' }), source: 'file checkpoint-X.json' },
    ],
    HOME,
    'servers',
  );
  assert.ok(f);
  assert.equal(f.crlNumber, 5n);
  assert.deepEqual(f.holders.map((h) => h.source), ['file checkpoint-ROOT.json']);
  assert.deepEqual(f.foreign.map((h) => h.source), ['file checkpoint-X.json'], 'a foreign home never sets the floor');
});

test('no checkpoint of this CA: no floor', () => {
  assert.equal(checkpointedCrlFloor([{ cp: cp('ROOT', { root: '4' }), source: 'card ROOT' }], HOME, 'servers')?.crlNumber ?? 0n, 0n);
});

test('a database at or past the floor signs the next number as usual', () => {
  const cps = [{ cp: cp('SUB', { servers: '2' }), source: 'card SUB' }];
  assert.equal(crlNumberFloorDecision({ inDb: 2n, cps, homeId: HOME, issuer: 'servers', aboveCheckpoint: false }), undefined);
  assert.equal(crlNumberFloorDecision({ inDb: 7n, cps, homeId: HOME, issuer: 'servers', aboveCheckpoint: false }), undefined);
});

test('a database below the floor is refused with CHECKPOINT_CRL_NUMBER_BEHIND, naming every checkpoint that holds it and the way out', () => {
  const cps = [
    { cp: cp('SUB', { servers: '2' }), source: 'card SUB in "r0"' },
    { cp: cp('SUB', { servers: '2' }), source: 'file /h/checkpoints/checkpoint-SUB.json' },
  ];
  let err: unknown;
  try {
    crlNumberFloorDecision({ inDb: 1n, cps, homeId: HOME, issuer: 'servers', aboveCheckpoint: false });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof CaError, String(err));
  assert.equal(err.code, 'CHECKPOINT_CRL_NUMBER_BEHIND');
  assert.match(err.message, /database's highest CRL number of servers is 1, but a checkpoint records 2/);
  assert.match(err.message, /card SUB in "r0"/);
  assert.match(err.message, /checkpoint-SUB\.json/);
  assert.match(err.message, /CRL #2 again/);
  assert.match(err.hint ?? '', /ca db restore/);
  assert.match(err.hint ?? '', new RegExp(`ca crl --issuer servers ${CRL_FLOOR_OVERRIDE_FLAG}`));
  assert.match(err.hint ?? '', /#3/);
});

test('with the explicit override the new number goes above the floor', () => {
  const cps = [{ cp: cp('SUB', { servers: '2' }), source: 'card SUB' }];
  const d = crlNumberFloorDecision({ inDb: 1n, cps, homeId: HOME, issuer: 'servers', aboveCheckpoint: true });
  assert.ok(d);
  assert.equal(d.crlNumber, 2n);
  assert.deepEqual(d.holders.map((h) => h.source), ['card SUB']);
});

test('the override flag is the one the hint names', () => {
  assert.equal(CRL_FLOOR_OVERRIDE_FLAG, '--crl-number-above-checkpoint');
});
