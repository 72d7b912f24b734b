/**
 * The "sent to the card" mark of batch rows (migration 7, issue #14 item 2) on real SQLite: a
 * row reserved `queued` and never marked sent is certainly unsigned and recovery abandons it; a
 * row marked sent is outcome_unknown; the schema refuses every move that would let a row the
 * card may have signed pass as never sent; and an edited marker is caught by the audit log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { openDatabase } from '../../../src/db/database.js';
import { SqliteStore } from '../../../src/db/sqlite-store.js';
import { replayAuditLog } from '../../../src/db/audit-replay.js';
import type { ReserveCertificate } from '../../../src/ca/store.js';

const sha = (s: string | Uint8Array) => new Uint8Array(createHash('sha256').update(s).digest());
const T0 = new Date('2026-11-01T10:00:00.000Z');
const at = (min: number) => new Date(T0.getTime() + min * 60_000);

function setup(): { path: string; store: SqliteStore } {
  const path = join(mkdtempSync(join(tmpdir(), 'cardca-queue-')), 'ca.db');
  const store = new SqliteStore(openDatabase(path, { create: true }));
  store.createCa(
    { name: 'root', profileName: 'root', cardSerial: 'DETEST1', cardFamily: 'sc-hsm', keyId: 'AA', keyRef: 1, publicKey: Uint8Array.of(1, 2, 3), spkiSha256: sha(Uint8Array.of(1, 2, 3)) },
    { event: 'ca.bound', ca: 'root', data: { card: 'DETEST1' } },
    at(0),
  );
  return { path, store };
}

function reserve(store: SqliteStore, serial: number, queued: boolean): number {
  const tbs = Uint8Array.of(0x30, 0x00, serial);
  const r: ReserveCertificate = {
    issuerName: 'root', serial: Uint8Array.of(serial), profile: 'tls-server', subject: `CN=${serial}`, sans: [],
    notBefore: at(1), notAfter: at(1000), spkiSha256: sha(`key-${serial}`), tbs, tbsSha256: sha(tbs), isCa: false, at: at(1), queued,
  };
  const hex = serial.toString(16).toUpperCase().padStart(2, '0');
  return store.reserveCertificate(r, { event: 'certificate.intent', ca: 'root', data: { serial: hex, ...(queued ? { queued: true } : {}) } }).id;
}

const statusOf = (store: SqliteStore, hex: string) => store.getCertificate(hex)[0]!.status;

test('recovery: queued (never sent) → abandoned, sent → outcome_unknown, a plain reservation → outcome_unknown; audited and consistent', () => {
  const { path, store } = setup();
  const sent = reserve(store, 0x11, true);
  reserve(store, 0x12, true);
  reserve(store, 0x13, false);
  store.markCertificateSent(sent, { event: 'certificate.sent', ca: 'root', data: { serial: '11' } }, at(2));
  assert.equal(store.getCertificate('11')[0]!.queued, false);
  assert.equal(store.getCertificate('12')[0]!.queued, true);
  store.db.close(); // the crash
  const again = new SqliteStore(openDatabase(path));
  assert.deepEqual(again.recoverReserved(at(3)), { certificates: 3, crls: 0, outcomeUnknown: 2, abandoned: 1 });
  assert.equal(statusOf(again, '11'), 'outcome_unknown');
  assert.equal(statusOf(again, '12'), 'abandoned');
  assert.equal(statusOf(again, '13'), 'outcome_unknown');
  assert.deepEqual(again.revokedEntries('root').map((e) => e.serialHex), ['11', '13'], 'the abandoned serial is not listed: it was never signed');
  assert.deepEqual(replayAuditLog(again), []);
});

test('schema: a queued row cannot be issued or outcome_unknown, is marked sent once, never queued again', () => {
  const { store } = setup();
  const id = reserve(store, 0x21, true);
  assert.throws(() => store.db.prepare("UPDATE certificates SET status = 'issued', der = x'3000', issued_at = issued_at WHERE id = ?").run(id), /never asked to sign/);
  assert.throws(() => store.db.prepare("UPDATE certificates SET status = 'outcome_unknown' WHERE id = ?").run(id), /never asked to sign/);
  assert.throws(() => store.markCertificateIssued(id, Uint8Array.of(0x30, 0), { event: 'certificate.issued', ca: 'root', data: { serial: '21' } }, at(2)), /never asked to sign/);
  store.markCertificateSent(id, { event: 'certificate.sent', ca: 'root', data: { serial: '21' } }, at(2));
  assert.throws(() => store.markCertificateSent(id, { event: 'certificate.sent', ca: 'root', data: { serial: '21' } }, at(2)), /not a queued reservation/);
  assert.throws(() => store.db.prepare('UPDATE certificates SET queued = 1 WHERE id = ?').run(id), /never queued again/);
  const other = reserve(store, 0x22, false);
  assert.throws(() => store.db.prepare('UPDATE certificates SET queued = 1 WHERE id = ?').run(other), /never queued again/);
  assert.throws(
    () => store.db.prepare("INSERT INTO certificates (issuer_id, serial, serial_hex, status, profile, subject, sans, not_before, not_after, spki_sha256, tbs, tbs_sha256, is_ca, reserved_at, queued, der) SELECT issuer_id, x'23', '23', 'issued', profile, subject, sans, not_before, not_after, spki_sha256, tbs, tbs_sha256, is_ca, reserved_at, 1, x'3000' FROM certificates WHERE id = ?").run(other),
    /only a reserved certificate can be queued/,
  );
  // A queued row may be abandoned (the batch stopped before it): it was never signed.
  const q = reserve(store, 0x24, true);
  store.markCertificateFailed(q, 'abandoned', { event: 'certificate.abandoned', ca: 'root', data: { serial: '24' } }, at(3));
  assert.equal(statusOf(store, '24'), 'abandoned');
});

test('an edited marker (sent row set back to queued) does not fool recovery: the audit log says it was sent, so it is outcome_unknown and the replay names the edit', () => {
  const { path, store } = setup();
  const id = reserve(store, 0x31, true);
  store.markCertificateSent(id, { event: 'certificate.sent', ca: 'root', data: { serial: '31' } }, at(2));
  store.db.exec('DROP TRIGGER certificates_queued_forward');
  store.db.prepare('UPDATE certificates SET queued = 1 WHERE id = ?').run(id);
  assert.ok(replayAuditLog(store).some((p) => /marked queued \(never sent to the card\), but audit #\d+ records it sent/.test(p.message)));
  store.db.close();
  const again = new SqliteStore(openDatabase(path));
  assert.deepEqual(again.recoverReserved(at(3)), { certificates: 1, crls: 0, outcomeUnknown: 1, abandoned: 0 });
  assert.equal(statusOf(again, '31'), 'outcome_unknown');
  const problems = replayAuditLog(again);
  assert.ok(problems.some((p) => /never sent to the card\) when audit #\d+ recovered it, but audit #\d+ records it sent to the card/.test(p.message)), JSON.stringify(problems));
});

test('replay: a row abandoned by recovery although sent, or issued without being sent, is a problem', () => {
  const { store } = setup();
  reserve(store, 0x41, true);
  // Forged records (the table moves are done directly, as someone editing the file would).
  store.audit({ event: 'certificate.sent', ca: 'root', data: { serial: '41' } }, at(2));
  store.audit({ event: 'recovery.certificate-abandoned', ca: 'root', data: { serial: '41' } }, at(3));
  assert.ok(replayAuditLog(store).some((p) => /abandons it as never sent, but audit #\d+ sent it to the card/.test(p.message)));
  const { store: s2 } = setup();
  reserve(s2, 0x42, true);
  s2.audit({ event: 'certificate.issued', ca: 'root', data: { serial: '42' } }, at(2));
  assert.ok(replayAuditLog(s2).some((p) => /issued, but no record sent it to the card/.test(p.message)));
});
