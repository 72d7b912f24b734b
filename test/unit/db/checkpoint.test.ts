/**
 * Audit checkpoints (issue #8 item 1): the card encoding recognises torn and altered writes,
 * and a database compares with a checkpoint as expected — past it is fine; behind it (records
 * cut off, CRL numbers missing), different at its record (rewrite) or of another home is not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint } from '../../../src/ca/checkpoint.js';
import { CardcaError } from '../../../src/common/cardca-error.js';
import { openDatabase } from '../../../src/db/database.js';
import { SqliteStore } from '../../../src/db/sqlite-store.js';
import { assertMatchesCheckpoints, checkpointNow, compareWithCheckpoint } from '../../../src/db/checkpoint-compare.js';

const code = (c: string) => (e: unknown) => e instanceof CardcaError && e.code === c;
const T = new Date('2026-11-01T10:00:00.000Z');

function store(): SqliteStore {
  const s = new SqliteStore(openDatabase(join(mkdtempSync(join(tmpdir(), 'cardca-cp-')), 'ca.db'), { create: true }));
  for (let i = 0; i < 5; i++) s.audit({ event: 'x', data: { i } }, T);
  return s;
}

test('the card encoding round-trips and refuses torn or altered bytes', () => {
  const s = store();
  const cp = checkpointNow(s, { homeId: 'h1', card: 'DECM1', reason: 'test', at: T, rehearsal: false });
  const bytes = encodeCheckpoint(cp);
  assert.deepEqual(decodeCheckpoint(bytes, 'card'), cp);
  assert.deepEqual(decodeCheckpoint(Buffer.from(JSON.stringify(cp)), 'file'), cp, 'the file copy is the bare JSON');
  assert.throws(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 5), 'card'), code('CHECKPOINT_MALFORMED'));
  const flipped = Uint8Array.from(bytes);
  flipped[20] ^= 1;
  assert.throws(() => decodeCheckpoint(flipped, 'card'), code('CHECKPOINT_MALFORMED'));
  assert.throws(() => decodeCheckpoint(Buffer.from('{"format":"x"}'), 'file'), code('CHECKPOINT_MALFORMED'));
});

test('past a checkpoint is fine; behind it, rewritten at it, or foreign is not', () => {
  const s = store();
  const cp = checkpointNow(s, { homeId: 'h1', card: 'DECM1', reason: 'test', at: T, rehearsal: false });
  s.audit({ event: 'later', data: {} }, T);
  assert.deepEqual(compareWithCheckpoint(s, 'h1', cp), []);
  assert.doesNotThrow(() => assertMatchesCheckpoints(s, 'h1', [{ cp, source: 'card' }]));
  assert.equal(compareWithCheckpoint(s, 'h2', cp)[0]!.kind, 'foreign');
  assert.throws(() => assertMatchesCheckpoints(s, 'h2', [{ cp, source: 'card' }]), code('CHECKPOINT_FOREIGN'));
  // A rewrite at the checkpoint's record.
  assert.equal(compareWithCheckpoint(s, 'h1', { ...cp, auditHead: '00'.repeat(32) })[0]!.kind, 'mismatch');
  // Truncation: the checkpoint covers records the database no longer has.
  s.db.exec('DROP TRIGGER audit_no_delete');
  s.db.exec('DELETE FROM audit_log WHERE seq >= 5');
  const f = compareWithCheckpoint(s, 'h1', cp);
  assert.equal(f[0]!.kind, 'behind');
  assert.match(f[0]!.message, /ends at #4, but the checkpoint covers #5/);
  assert.throws(() => assertMatchesCheckpoints(s, 'h1', [{ cp, source: 'card' }]), code('CHECKPOINT_BEHIND'));
  // CRL numbers and serial counts of a CA the checkpoint knows.
  const withCa = { ...cp, auditSeq: 1, auditHead: compareWithCheckpoint(s, 'h1', { ...cp, auditSeq: 1 })[0]?.message.match(/has hash ([0-9a-f]{64})/)?.[1] ?? '', cas: { servers: { serials: 3, crlNumber: '7' } } };
  const g = compareWithCheckpoint(s, 'h1', withCa);
  assert.ok(g.some((x) => x.kind === 'behind' && /CA servers is missing/.test(x.message)));
});
