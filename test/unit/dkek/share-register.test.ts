import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { parseDkekStatus, type DkekStatus } from '../../../src/card/drivers/sc-hsm-dkek-apdus.js';
import { checkShare, EMPTY_REGISTER, parseShareRegister, recordImport, shareCheckValue, type ShareRegister } from '../../../src/card/dkek/share-register.js';
import type { CardStateData } from '../../../src/card/emulator/card-state.js';
import { dkekStatusBytes, importDkekShare } from '../../../src/card/emulator/sc-hsm-dkek.js';

/** A card model with `total` shares announced: the emulator's own share import and status. */
function card(total: number) {
  const state = { initialized: true, dkek: { total, imported: 0, value: '00'.repeat(32) } } as unknown as CardStateData;
  return {
    status: (): DkekStatus => parseDkekStatus(dkekStatusBytes(state.dkek)),
    import: (share: Uint8Array) => importDkekShare(state, share),
  };
}

test('share register: one share in, the card KCV is that share\'s check value, so a repeat is seen from the card alone', () => {
  const s1 = randomBytes(32);
  const c = card(3);
  assert.equal(checkShare(EMPTY_REGISTER, c.status(), shareCheckValue(s1)).verdict, 'new');
  c.import(s1);
  assert.equal(c.status().kcv, shareCheckValue(s1));
  assert.equal(checkShare(EMPTY_REGISTER, c.status(), shareCheckValue(s1)).verdict, 'duplicate');
  assert.equal(checkShare(EMPTY_REGISTER, c.status(), shareCheckValue(randomBytes(32))).verdict, 'new');
});

test('share register: beyond one share only the recorded partial states tell; a second card with the same shares uses them', () => {
  const [s1, s2, s3] = [randomBytes(32), randomBytes(32), randomBytes(32)];
  let reg: ShareRegister = EMPTY_REGISTER;
  const a = card(3);
  for (const s of [s1, s2]) {
    const before = a.status();
    a.import(s);
    reg = recordImport(reg, before, shareCheckValue(s), a.status());
  }
  for (const s of [s1, s2]) assert.equal(checkShare(reg, a.status(), shareCheckValue(s)).verdict, 'duplicate');
  assert.equal(checkShare(reg, a.status(), shareCheckValue(s3)).verdict, 'new');
  assert.equal(checkShare(EMPTY_REGISTER, a.status(), shareCheckValue(s1)).verdict, 'unknown', 'no register: cannot tell');
  // The backup card, given the same shares in the same order, reaches the same recorded state.
  const b = card(3);
  b.import(s1);
  b.import(s2);
  assert.equal(checkShare(reg, b.status(), shareCheckValue(s2)).verdict, 'duplicate');
  // A different pair of shares is another partial state.
  const c = card(3);
  c.import(s1);
  c.import(s3);
  assert.equal(checkShare(reg, c.status(), shareCheckValue(s2)).verdict, 'unknown');
  // A duplicate really would have cancelled out: the card cannot see it afterwards.
  const d = card(3);
  d.import(s1);
  d.import(s1);
  assert.equal(d.status().kcv, shareCheckValue(Buffer.alloc(32)), 'S xor S: the all-zero DKEK');
});

test('share register: survives a JSON round trip; malformed files are the empty register', () => {
  const s1 = randomBytes(32);
  const s2 = randomBytes(32);
  const a = card(2);
  a.import(s1);
  const before = a.status();
  a.import(s2);
  const reg = recordImport(EMPTY_REGISTER, before, shareCheckValue(s2), a.status());
  assert.deepEqual(parseShareRegister(JSON.stringify(reg)), reg);
  assert.deepEqual(Object.values(reg.states), [[shareCheckValue(s1), shareCheckValue(s2)]]);
  assert.deepEqual(parseShareRegister('{not json'), EMPTY_REGISTER);
  assert.deepEqual(parseShareRegister(JSON.stringify({ version: 1, states: { 'x': ['y'] } })).states, {});
});
