/**
 * Migration 10 (issue #14 item 3): a CRL's TBS in crl_tbs and what follows it in the DER in
 * crl_signatures, so issuing a CRL does not rewrite its TBS. A version-9 database keeps every
 * CRL byte for byte; the tables refuse changes and deletes; an issued CRL needs its signature.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { openDatabase } from '../../../src/db/database.js';
import { MIGRATIONS } from '../../../src/db/migrations.js';
import { SqliteStore } from '../../../src/db/sqlite-store.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest();
const T = '2026-11-01T10:00:00.000Z';

test('migration 10 moves every CRL TBS and DER out of the crls row, byte for byte', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'cardca-crl-blobs-')), 'ca.db');
  const old = openDatabase(path, { create: true, migrations: MIGRATIONS.filter((m) => m.version <= 9) });
  old.prepare("INSERT INTO cas (name, profile, card_serial, card_family, key_id, key_ref, public_key, spki_sha256, created_at) VALUES ('root', 'root', 'D1', 'sc-hsm', 'AA', 1, x'01', ?, ?)").run(sha(Buffer.of(1)), T);
  // A short DER (one-octet length) and one of 300 octets (long form 82 01 2c), plus a reserved CRL without DER.
  const small = Buffer.of(0x30, 3, 0x02, 1, 1);
  const smallDer = Buffer.concat([Buffer.of(0x30, small.length + 6), small, Buffer.of(0x30, 0, 0x03, 2, 0, 7)]);
  const big = Buffer.concat([Buffer.of(0x30, 0x82, 0x01, 0x28), Buffer.alloc(0x128, 5)]);
  const bigDer = Buffer.concat([Buffer.of(0x30, 0x82, 0x01, 0x34), big, Buffer.of(0x30, 0, 0x03, 4, 0, 1, 2, 3)]);
  const ins = old.prepare("INSERT INTO crls (issuer_id, crl_number, status, this_update, next_update, entries, tbs, tbs_sha256, der, reserved_at, issued_at) VALUES (1, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)");
  ins.run(1, 'issued', T, T, small, sha(small), smallDer, T, T);
  ins.run(2, 'issued', T, T, big, sha(big), bigDer, T, T);
  ins.run(3, 'outcome_unknown', T, T, small, sha(small), null, T, null);
  old.close();
  const s = new SqliteStore(openDatabase(path));
  const crls = s.listCrls();
  assert.deepEqual(crls.map((c) => [c.crlNumber, c.status]), [[1n, 'issued'], [2n, 'issued'], [3n, 'outcome_unknown']]);
  assert.deepEqual(Buffer.from(crls[0]!.der!), smallDer);
  assert.deepEqual(Buffer.from(crls[1]!.der!), bigDer);
  assert.deepEqual(Buffer.from(crls[1]!.tbs), big);
  assert.equal(crls[2]!.der, undefined);
  assert.deepEqual(Buffer.from(crls[2]!.tbs), small);
  // Never changed, never deleted; an issued CRL has its signature.
  assert.throws(() => s.db.prepare("UPDATE crl_tbs SET tbs = x'00'").run(), /never changes/);
  assert.throws(() => s.db.prepare('DELETE FROM crl_signatures').run(), /never deleted/);
  assert.throws(() => s.db.prepare('DELETE FROM crls').run(), /never deleted/);
  assert.throws(() => s.db.prepare("UPDATE crls SET status = 'issued', issued_at = ? WHERE crl_number = 3").run(T), /signature stored/);
  assert.throws(() => s.db.prepare("UPDATE crls SET this_update = 'Invalid DateTime' WHERE crl_number = 1").run(), /ISO 8601/);
  assert.throws(() => s.db.prepare("INSERT INTO crls (issuer_id, crl_number, status, this_update, next_update, entries, tbs_sha256, reserved_at) VALUES (1, 2, 'reserved', ?, ?, 0, ?, ?)").run(T, T, sha(small), T), /UNIQUE/);
  assert.deepEqual(s.db.pragma('foreign_key_check'), []);
});
