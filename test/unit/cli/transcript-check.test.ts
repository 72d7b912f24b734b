/**
 * `ca audit verify --transcript` decision (src/cli/commands/audit.ts `checkTranscript`) over real
 * audit records of a real SQLite store: match → the record number; same file name, other bytes
 * → AUDIT_TRANSCRIPT_MISMATCH; neither → AUDIT_TRANSCRIPT_UNKNOWN.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkTranscript } from '../../../src/cli/commands/audit-run.js';
import { TRANSCRIPT_EVENT, transcriptEntries } from '../../../src/cli/transcript-writer.js';
import { sha256Hex } from '../../../src/common/sha256.js';
import { openDatabase } from '../../../src/db/database.js';
import { SqliteStore } from '../../../src/db/sqlite-store.js';
import { CardcaError } from '../../../src/common/cardca-error.js';

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

function storeWith(files: { name: string; text: string }[]): SqliteStore {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'cardca-tcheck-')), 'ca.db'), { create: true });
  const store = new SqliteStore(db);
  const at = new Date('2027-01-01T00:00:00Z');
  store.audit({ event: 'ceremony.start', ca: 'root', data: { kind: 'root' } }, at);
  store.audit({ event: TRANSCRIPT_EVENT, ca: 'root', data: { ceremony: '1', kind: 'root', files: files.map((f) => ({ name: f.name, sha256: sha256Hex(bytes(f.text)) })) } }, at);
  return store;
}

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof CardcaError) return e.code;
    throw e;
  }
  return 'no error';
};

test('a byte-identical copy matches its audit record', () => {
  const store = storeWith([{ name: 't.md', text: '# root ceremony\n' }, { name: 't.html', text: '<html>root</html>' }]);
  assert.match(checkTranscript(store, '/binder/t.html', bytes('<html>root</html>')), /matches audit record #2 \(t\.html, CA root, ceremony #1/);
  // The name of the copy does not matter when the bytes match.
  assert.match(checkTranscript(store, 'renamed.md', bytes('# root ceremony\n')), /matches audit record #2/);
});

test('a changed copy under the recorded name is a mismatch; anything else is unknown', () => {
  const store = storeWith([{ name: 't.md', text: '# root ceremony\n' }]);
  assert.equal(codeOf(() => checkTranscript(store, '/binder/t.md', bytes('# root ceremony!\n'))), 'AUDIT_TRANSCRIPT_MISMATCH');
  assert.equal(codeOf(() => checkTranscript(store, '/binder/other.md', bytes('# root ceremony!\n'))), 'AUDIT_TRANSCRIPT_UNKNOWN');
});

test('transcriptEntries ignores other events and malformed data', () => {
  const store = storeWith([{ name: 'a.md', text: 'a' }]);
  const recs = store.auditRecords();
  assert.deepEqual(recs.map((r) => transcriptEntries(r).length), [0, 1]);
  assert.deepEqual(transcriptEntries({ ...recs[1]!, data: { files: [{ name: 1 }, 'x', null] } }), []);
});
