/**
 * The issuance database on real SQLite files: migrations, pragmas asserted at open, schema
 * constraints (serial unique per issuer, no deletes, forward-only status), the audit hash chain
 * and its tamper detection, startup recovery of `reserved` rows, the lock file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { openDatabase, assertPragmas } from '../../../src/db/database.js';
import { MIGRATIONS } from '../../../src/db/migrations.js';
import { SqliteStore } from '../../../src/db/sqlite-store.js';
import { verifyAuditChain, checkDatabase } from '../../../src/db/db-check.js';
import { acquireLock } from '../../../src/db/lock-file.js';
import { canonicalJson } from '../../../src/db/audit-chain.js';
import type { ReserveCertificate } from '../../../src/ca/store.js';
import { CardcaError } from '../../../src/common/cardca-error.js';

const sha = (s: string | Uint8Array) => new Uint8Array(createHash('sha256').update(s).digest());
const T0 = new Date('2026-11-01T10:00:00.000Z');
const at = (min: number) => new Date(T0.getTime() + min * 60_000);
const T = T0.toISOString();

function tempDb(): { path: string; store: SqliteStore } {
  const dir = mkdtempSync(join(tmpdir(), 'cardca-db-'));
  const path = join(dir, 'ca.db');
  return { path, store: new SqliteStore(openDatabase(path, { create: true })) };
}

function withRoot(store: SqliteStore): void {
  store.createCa(
    { name: 'root', profileName: 'root', cardSerial: 'DETEST1', cardFamily: 'sc-hsm', keyId: 'AA', keyRef: 1, publicKey: Uint8Array.of(1, 2, 3), spkiSha256: sha(Uint8Array.of(1, 2, 3)) },
    { event: 'ca.bound', ca: 'root', data: { card: 'DETEST1' } },
    at(0),
  );
}

function reservation(serial: number[], min = 1, spki = 'key-a'): ReserveCertificate {
  const tbs = Uint8Array.of(0x30, 0x00, ...serial);
  return {
    issuerName: 'root', serial: Uint8Array.from(serial), profile: 'tls-server', subject: 'CN=x', sans: ['dns:x.example.test'],
    notBefore: at(min), notAfter: at(min + 1000), spkiSha256: sha(spki), tbs, tbsSha256: sha(tbs), isCa: false, at: at(min),
  };
}

const code = (c: string) => (e: unknown) => e instanceof CardcaError && e.code === c;

test('open sets and asserts WAL, synchronous=FULL, foreign_keys=ON, a 2 MB page cache; migrations are applied once', () => {
  const { path, store } = tempDb();
  assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(store.db.pragma('synchronous', { simple: true }), 2);
  assert.equal(store.db.pragma('foreign_keys', { simple: true }), 1);
  assert.equal(store.db.pragma('user_version', { simple: true }), MIGRATIONS.at(-1)!.version);
  // SQLite's 2 MB page cache, not better-sqlite3's compiled-in 16 MB (database.ts says why).
  assert.equal(store.db.pragma('cache_size', { simple: true }), -2000);
  store.db.close();
  const again = openDatabase(path);
  assert.equal(again.pragma('user_version', { simple: true }), MIGRATIONS.at(-1)!.version);
  // A weakened connection is refused by the assertion.
  again.pragma('synchronous = NORMAL');
  assert.throws(() => assertPragmas(again), code('DB_PRAGMA_MISMATCH'));
  again.pragma('synchronous = FULL');
  again.pragma('foreign_keys = OFF');
  assert.throws(() => assertPragmas(again), code('DB_PRAGMA_MISMATCH'));
  again.close();
});

test('a database from a newer schema is refused; a missing one is not created', () => {
  const { path, store } = tempDb();
  store.db.pragma('user_version = 99');
  store.db.close();
  assert.throws(() => openDatabase(path), code('DB_TOO_NEW'));
  assert.throws(() => openDatabase(join(tmpdir(), 'cardca-missing-dir-x', 'ca.db')), code('DB_OPEN_FAILED'));
});

test('serials are unique per issuer; rows are never deleted; status only moves forward', () => {
  const { store } = tempDb();
  withRoot(store);
  const r = store.reserveCertificate(reservation([0x11, 0x22]), { event: 'certificate.intent', ca: 'root', data: {} });
  assert.equal(r.status, 'reserved');
  assert.equal(r.serialHex, '1122');
  assert.throws(() => store.reserveCertificate(reservation([0x11, 0x22], 2, 'key-b'), { event: 'x', data: {} }), code('STORE_SERIAL_TAKEN'));
  assert.throws(() => store.db.prepare('DELETE FROM certificates').run(), /never deleted/);
  store.markCertificateIssued(r.id, Uint8Array.of(0x30, 0x03, 1, 2, 3), { event: 'certificate.issued', ca: 'root', data: {} }, at(2));
  assert.throws(() => store.db.prepare("UPDATE certificates SET status = 'reserved' WHERE id = ?").run(r.id), /illegal certificate status change/);
  assert.throws(() => store.db.prepare('UPDATE certificates SET tbs = x\'00\' WHERE id = ?').run(r.id), /never change/);
  // issued without DER is impossible (CHECK)
  const r2 = store.reserveCertificate(reservation([0x33], 3, 'key-c'), { event: 'certificate.intent', ca: 'root', data: {} });
  assert.throws(() => store.db.prepare("UPDATE certificates SET status = 'issued' WHERE id = ?").run(r2.id), /CHECK constraint/);
  // unknown issuer: the foreign key / lookup refuses
  assert.throws(() => store.reserveCertificate({ ...reservation([0x44], 4, 'key-d'), issuerName: 'nobody' }, { event: 'x', data: {} }), code('UNKNOWN_ISSUER'));
});

test('duplicate-key lookups see CA keys and issued subscriber keys', () => {
  const { store } = tempDb();
  withRoot(store);
  assert.deepEqual(store.lookupKey(sha(Uint8Array.of(1, 2, 3))), [{ kind: 'ca', caName: 'root' }]);
  assert.deepEqual(store.lookupKey(sha('key-a')), [{ kind: 'none' }]);
  const r = store.reserveCertificate(reservation([0x55]), { event: 'certificate.intent', ca: 'root', data: {} });
  store.markCertificateIssued(r.id, Uint8Array.of(0x30, 0), { event: 'certificate.issued', ca: 'root', data: {} }, at(2));
  assert.deepEqual(store.lookupKey(sha('key-a')), [{ kind: 'issued', serialHex: '55', revoked: false }]);
});

test('audit chain: intact chain verifies; a mutated, deleted or reordered record is detected', () => {
  const { store } = tempDb();
  withRoot(store);
  for (let i = 0; i < 5; i++) store.audit({ event: 'test', ca: 'root', data: { i, nested: { b: 1, a: [i] } } }, at(i + 1));
  const ok = verifyAuditChain(store);
  assert.equal(ok.records, 6);
  assert.deepEqual(ok.problems, []);

  // An attacker with SQL access must first drop the append-only trigger.
  assert.throws(() => store.db.prepare("UPDATE audit_log SET event = 'forged' WHERE seq = 3").run(), /append-only/);
  store.db.exec('DROP TRIGGER audit_no_update');
  store.db.prepare(`UPDATE audit_log SET data = ? WHERE seq = 3`).run(canonicalJson({ i: 99, nested: { a: [1], b: 1 } }));
  const bad = verifyAuditChain(store);
  assert.ok(bad.problems.some((p) => p.what === 'audit #3' && /hash does not match/.test(p.message)), JSON.stringify(bad.problems));
  assert.ok(checkDatabase(store).problems.some((p) => p.what === 'audit #3'));
});

test('audit chain: deleting a record breaks the sequence and the chain', () => {
  const { store } = tempDb();
  for (let i = 0; i < 4; i++) store.audit({ event: 'test', data: { i } }, at(i));
  store.db.exec('DROP TRIGGER audit_no_delete');
  store.db.prepare('DELETE FROM audit_log WHERE seq = 2').run();
  const r = verifyAuditChain(store);
  assert.ok(r.problems.some((p) => /sequence gap/.test(p.message)));
  assert.ok(r.problems.some((p) => /prev_hash/.test(p.message)));
});

test('startup recovery: reserved rows become outcome_unknown, are audited, never reused, and go on the CRL list', () => {
  const { path, store } = tempDb();
  withRoot(store);
  store.reserveCertificate(reservation([0x66]), { event: 'certificate.intent', ca: 'root', data: {} });
  store.db.close(); // "crash" between TX1 and TX2
  const reopened = new SqliteStore(openDatabase(path));
  assert.deepEqual(reopened.recoverReserved(at(10)), { certificates: 1, crls: 0, outcomeUnknown: 1, abandoned: 0 });
  const [c] = reopened.getCertificate('66');
  assert.equal(c!.status, 'outcome_unknown');
  assert.throws(() => reopened.reserveCertificate(reservation([0x66], 11, 'key-z'), { event: 'x', data: {} }), code('STORE_SERIAL_TAKEN'));
  const entries = reopened.revokedEntries('root');
  assert.equal(entries.length, 1);
  assert.equal(entries[0]!.serialHex, '66');
  assert.equal(entries[0]!.reason, 'unspecified');
  assert.ok(reopened.auditRecords().some((r) => r.event === 'recovery.certificate-outcome-unknown'));
  assert.deepEqual(reopened.recoverReserved(at(11)), { certificates: 0, crls: 0, outcomeUnknown: 0, abandoned: 0 });
});

test('CRL numbers strictly increase, also over a CRL that never finished', () => {
  const { store } = tempDb();
  withRoot(store);
  const tbsOf = (n: bigint) => Uint8Array.of(0x30, 1, Number(n));
  const build = (n: bigint) => ({ tbs: tbsOf(n), tbsSha256: sha(tbsOf(n)), thisUpdate: at(1), nextUpdate: at(100), entries: 0 });
  const a = store.reserveCrl('root', build, (n) => ({ event: 'crl.intent', ca: 'root', data: { n: String(n) } }), at(1));
  // SEQUENCE { tbs, alg, signature }: only a DER that carries the TBS stored with the intent is
  // taken (migration 10 keeps the TBS once and the rest of the DER apart).
  const signed = (tbs: Uint8Array) => Uint8Array.of(0x30, tbs.length + 5, ...tbs, 0x30, 0, 0x03, 1, 0);
  assert.throws(() => store.markCrlIssued(a.id, signed(tbsOf(9n)), { event: 'crl.issued', ca: 'root', data: {} }, at(1)), code('STORE_CRL_TBS_MISMATCH'));
  store.markCrlIssued(a.id, signed(tbsOf(1n)), { event: 'crl.issued', ca: 'root', data: {} }, at(1));
  assert.deepEqual(store.latestCrl('root', 'issued')!.der, signed(tbsOf(1n)));
  const b = store.reserveCrl('root', build, (n) => ({ event: 'crl.intent', ca: 'root', data: { n: String(n) } }), at(2));
  store.markCrlFailed(b.id, 'outcome_unknown', { event: 'crl.outcome-unknown', ca: 'root', data: {} }, at(2));
  const c = store.reserveCrl('root', build, (n) => ({ event: 'crl.intent', ca: 'root', data: { n: String(n) } }), at(3));
  assert.deepEqual([a.crlNumber, b.crlNumber, c.crlNumber], [1n, 2n, 3n]);
  assert.equal(store.latestCrl('root', 'issued')!.crlNumber, 1n);
  assert.throws(() => store.db.prepare('INSERT INTO crls (issuer_id, crl_number, status, this_update, next_update, entries, tbs_sha256, reserved_at) VALUES (1, 3, \'reserved\', ?, ?, 0, ?, ?)').run(T, T, Buffer.alloc(32), T), /UNIQUE/);
});

test('lastActivity is the latest signing event; audit records alone (a refusal) never move it', () => {
  const { store } = tempDb();
  assert.equal(store.lastActivity(), undefined);
  store.audit({ event: 'command.refused', data: {} }, new Date('2036-01-01T00:00:00Z'));
  assert.equal(store.lastActivity(), undefined, 'a refusal under a clock in 2036 is no signing event');
  withRoot(store);
  assert.equal(store.lastActivity()!.toISOString(), at(0).toISOString());
  store.reserveCertificate(reservation([0x41], 5), { event: 'certificate.intent', ca: 'root', data: {} });
  store.audit({ event: 'command.refused', data: {} }, at(9));
  assert.equal(store.lastActivity()!.toISOString(), at(5).toISOString());
});

test('time columns refuse what is not an ISO 8601 UTC time ("Invalid DateTime" never reaches the store)', () => {
  const { store } = tempDb();
  const ins = (v: string) => store.db.prepare("INSERT INTO audit_log (seq, at, event, ca, data, prev_hash, hash) VALUES (1, ?, 'x', NULL, '{}', ?, ?)").run(v, Buffer.alloc(32), Buffer.alloc(32));
  assert.throws(() => ins('Invalid DateTime'), /ISO 8601 UTC/);
  assert.throws(() => ins('2026-11-01 10:00:00'), /ISO 8601 UTC/);
  assert.throws(() => store.audit({ event: 'x', data: {} }, new Date(Number.NaN)), code('CLOCK_INVALID'));
  ins('2026-11-01T10:00:00.000Z');
  withRoot(store);
  assert.throws(() => store.db.prepare("UPDATE cas SET created_at = 'Invalid DateTime'").run(), /ISO 8601 UTC/);
});

test('lock file: a second holder waits, then fails LOCK_HELD naming the pid; a stale lock is taken over', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardca-lock-'));
  const path = join(dir, 'ca.lock');
  const held = await acquireLock(path);
  await assert.rejects(acquireLock(path, 200), (e: unknown) => e instanceof CardcaError && e.code === 'LOCK_HELD');
  held.release();
  const again = await acquireLock(path, 200);
  again.release();
  // A lock left by a process that no longer exists is stale.
  const child = spawn(process.execPath, ['-e', '0']);
  const pid = child.pid!;
  await new Promise((r) => child.once('exit', r));
  writeFileSync(path, `${pid}\n`);
  const taken = await acquireLock(path, 200);
  taken.release();
  // Another live process holding it is named in the error.
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
  try {
    writeFileSync(path, `${sleeper.pid}\n`);
    await assert.rejects(acquireLock(path, 150), (e: unknown) => e instanceof CardcaError && e.message.includes(`pid ${sleeper.pid}`));
  } finally {
    sleeper.kill();
  }
});
