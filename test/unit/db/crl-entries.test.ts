/**
 * Issue #14 item 3, migration 9: the CRL's entries pre-encoded by SQL triggers (crl-entry-sql.ts).
 * Differential: the TBSCertList written from the pre-encoded chunks is byte-identical to the one
 * the JavaScript writer makes from the rows (the path every CRL took before), for every kind of
 * entry; a version-8 database gets them backfilled; `ca db check` names a forged, missing or
 * extra entry; the schema refuses an entry for a serial that is not on the CRL; the lint's order
 * check replaces the serial sets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { openDatabase } from '../../../src/db/database.js';
import { MIGRATIONS } from '../../../src/db/migrations.js';
import { setCrlEntryChunkForTests, SqliteStore } from '../../../src/db/sqlite-store.js';
import { crlEntryProblems } from '../../../src/db/crl-entry-check.js';
import { writeTbsCertList, writeTbsCertListFromChunks, type TbsCertListHeader } from '../../../src/ca/crl/write-tbs-cert-list.js';
import { lintTbsCertList } from '../../../src/ca/lint/lint-crl.js';
import type { CrlReason } from '../../../src/ca/crl/tbs-cert-list-input.js';
import type { ReserveCertificate } from '../../../src/ca/store.js';

const sha = (s: string | Uint8Array) => new Uint8Array(createHash('sha256').update(s).digest());
const T0 = new Date('2026-11-01T10:00:00.000Z');
const at = (min: number) => new Date(T0.getTime() + min * 60_000);
const HEADER: TbsCertListHeader = {
  issuerName: Uint8Array.of(0x30, 0x0e, 0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x03, 0x43, 0x41, 0x31),
  aki: Uint8Array.of(1, 2, 3, 4),
  thisUpdate: '2026-12-01T00:00:00.000Z',
  nextUpdate: '2026-12-08T00:00:00.000Z',
  crlNumber: 7n,
};

function open(migrations = MIGRATIONS): { path: string; store: SqliteStore } {
  const path = join(mkdtempSync(join(tmpdir(), 'cardca-crl-entries-')), 'ca.db');
  const s = new SqliteStore(openDatabase(path, { create: true, migrations }));
  for (const [name, k] of [['root', 1], ['other', 2]] as const) {
    s.createCa(
      { name, profileName: 'root', cardSerial: 'DETEST1', cardFamily: 'sc-hsm', keyId: `A${k}`, keyRef: k, publicKey: Uint8Array.of(k), spkiSha256: sha(Uint8Array.of(k)) },
      { event: 'ca.bound', ca: name, data: {} },
      at(0),
    );
  }
  return { path, store: s };
}

function reserve(s: SqliteStore, serial: Uint8Array, i: number, when = at(i), issuerName = 'root'): number {
  const tbs = Uint8Array.of(0x30, 0x00, i & 0xff, i >> 8);
  const r: ReserveCertificate = {
    issuerName, serial, profile: 'tls-server', subject: `CN=h${i}`, sans: [], notBefore: when, notAfter: at(i + 100_000),
    spkiSha256: sha(`k${i}`), tbs, tbsSha256: sha(tbs), isCa: false, at: when,
  };
  return s.reserveCertificate(r, { event: 'certificate.intent', ca: issuerName, data: {} }).id;
}

const REASONS: readonly CrlReason[] = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'privilegeWithdrawn'];

/** Every kind of entry: each reason, with and without a compromise date, outcome_unknown with and without a revocation, times from 2050, serials of 1..20 octets and with a leading 00. */
function fill(s: SqliteStore, n = 60): void {
  for (let i = 1; i <= n; i++) {
    const len = 1 + (i % 20);
    const serial = new Uint8Array(len);
    for (let k = 0; k < len; k++) serial[k] = (i * 37 + k * 11) & 0xff;
    serial[0] = i % 5 === 0 && len > 1 ? 0 : (serial[0]! & 0x7f) | 1;
    if (serial[0] === 0) serial[1]! |= 0x80; // 00 80..: the minimal encoding of a serial with its top bit set
    const late = i % 7 === 0; // reserved, revoked in 2051: GeneralizedTime
    const when = late ? new Date(Date.UTC(2051, 0, 1) + i * 60_000) : at(i);
    const id = reserve(s, serial, i, when);
    const kind = i % 4;
    if (kind === 3) {
      s.markCertificateFailed(id, 'outcome_unknown', { event: 'certificate.outcome-unknown', ca: 'root', data: {} }, when);
      if (i % 8 === 3) s.revokeCertificate(id, new Date(when.getTime() - 86_400_000), 'keyCompromise', { event: 'certificate.revoked', ca: 'root', data: {} }, new Date(when.getTime() + 1000));
      continue;
    }
    s.markCertificateIssued(id, Uint8Array.of(0x30, 0, i), { event: 'certificate.issued', ca: 'root', data: {} }, when);
    if (kind === 2) continue;
    const reason = REASONS[i % REASONS.length]!;
    const recorded = new Date(when.getTime() + 3_600_500);
    const compromised = i % 3 === 0 ? new Date(when.getTime() + 1000) : recorded;
    s.revokeCertificate(id, compromised, reason, { event: 'certificate.revoked', ca: 'root', data: {} }, recorded);
  }
  // A revoked certificate of another CA stays off this CA's CRL.
  const other = reserve(s, Uint8Array.of(0x33), 999, at(999), 'other');
  s.markCertificateIssued(other, Uint8Array.of(0x30, 0, 9), { event: 'certificate.issued', ca: 'other', data: {} }, at(999));
  s.revokeCertificate(other, at(1000), 'superseded', { event: 'certificate.revoked', ca: 'other', data: {} }, at(1000));
}

const fromRows = (s: SqliteStore) => writeTbsCertList(HEADER, 'ecdsa-sha256', s.revokedEntryStream('root')).tbs;
const fromChunks = (s: SqliteStore) => s.atomically(() => writeTbsCertListFromChunks(HEADER, 'ecdsa-sha256', s.revokedEntryChunks('root')));

test('the TBSCertList from the pre-encoded entries is byte-identical to the one written from the rows', () => {
  const { store: s } = open();
  fill(s);
  setCrlEntryChunkForTests(7); // entries cross chunk boundaries
  try {
    const w = fromChunks(s);
    assert.deepEqual(Buffer.from(w.tbs), Buffer.from(fromRows(s)));
    assert.equal(w.entries, s.revokedEntryStream('root').count);
    assert.deepEqual(Buffer.from(w.sha256), Buffer.from(sha(w.tbs)));
    const runs = s.revokedEntryChunks('root').runs;
    assert.deepEqual(lintTbsCertList(w.tbs, { now: new Date('2026-12-01T00:00:00Z'), issuerName: HEADER.issuerName, issuerSki: HEADER.aki, maxValidityMs: 30 * 86_400_000, entryRuns: runs }), []);
  } finally {
    setCrlEntryChunkForTests(65_536);
  }
  // No entries: the list is omitted (RFC 5280 §5.1.2.6), as before.
  const empty = open().store;
  assert.deepEqual(Buffer.from(fromChunks(empty).tbs), Buffer.from(fromRows(empty)));
  assert.deepEqual(crlEntryProblems(s), []);
});

test('migration 9 backfills the entries of a version-8 database', () => {
  const { path, store: old } = open(MIGRATIONS.filter((m) => m.version <= 8));
  fill(old, 30);
  const want = fromRows(old);
  old.db.close();
  const s = new SqliteStore(openDatabase(path));
  assert.deepEqual(Buffer.from(fromChunks(s).tbs), Buffer.from(want));
  assert.deepEqual(crlEntryProblems(s), []);
});

test('ca db check names a forged, a missing and an extra pre-encoded entry', () => {
  const { store: s } = open();
  fill(s, 12);
  assert.deepEqual(crlEntryProblems(s), []);
  const rows = s.db.prepare('SELECT certificate_id, hex(serial) AS serial, der FROM crl_entries e JOIN cas i ON i.id = e.issuer_id WHERE i.name = ? ORDER BY grp, serial').all('root') as { certificate_id: number; serial: string; der: Buffer }[];
  // Forged: the last octet of the revocation time changed (still one SEQUENCE with the serial).
  const forged = rows[0]!;
  const der = Buffer.from(forged.der);
  der[der.length - 1] ^= 1;
  s.db.prepare('UPDATE crl_entries SET der = ? WHERE certificate_id = ?').run(der, forged.certificate_id);
  // Missing: deleted with the no-delete trigger dropped (an edit outside cardca).
  const missing = rows[1]!;
  s.db.exec('DROP TRIGGER crl_entries_no_delete; DROP TRIGGER crl_entries_of_a_certificate');
  s.db.prepare('DELETE FROM crl_entries WHERE certificate_id = ?').run(missing.certificate_id);
  // Extra: an entry for an issued, unrevoked certificate.
  const issued = s.db.prepare("SELECT id, serial FROM certificates WHERE status = 'issued' AND issuer_id = (SELECT id FROM cas WHERE name = 'root') LIMIT 1").get() as { id: number; serial: Buffer };
  const extra = Buffer.concat([Buffer.of(0x30, 2 + issued.serial.length + 15, 0x02, issued.serial.length), issued.serial, Buffer.from('\x17\x0d261201000000Z', 'latin1')]);
  s.db.prepare('INSERT INTO crl_entries (issuer_id, grp, serial, certificate_id, der) VALUES ((SELECT id FROM cas WHERE name = ?), 0, ?, ?, ?)').run('root', issued.serial, issued.id, extra);
  const messages = crlEntryProblems(s).filter((p) => p.what === 'CA root').map((p) => p.message);
  const hex = issued.serial.toString('hex').toUpperCase();
  assert.ok(messages.some((m) => m.includes(`serial ${forged.serial} differs from its revocation`)), messages.join('\n'));
  assert.ok(messages.some((m) => m.includes(`serial ${missing.serial} is revoked but has no pre-encoded CRL entry`)), messages.join('\n'));
  assert.ok(messages.some((m) => m.includes(`serial ${hex} has no revocation`)), messages.join('\n'));
  // …and the kept totals no longer match the rows (one deleted, one added, one changed in place).
  assert.ok(messages.some((m) => /crl_entry_totals says/.test(m)), messages.join('\n'));
  assert.equal(messages.length, 4, messages.join('\n'));
});

test('the schema refuses an entry that is not a revoked certificate of its issuer, and a DER that does not start with its serial', () => {
  const { store: s } = open();
  fill(s, 12);
  const issued = s.db.prepare("SELECT id, issuer_id, serial FROM certificates WHERE status = 'issued' LIMIT 1").get() as { id: number; issuer_id: number; serial: Buffer };
  const der = (serial: Buffer) => Buffer.concat([Buffer.of(0x30, 2 + serial.length + 15, 0x02, serial.length), serial, Buffer.from('\x17\x0d261201000000Z', 'latin1')]);
  assert.throws(() => s.db.prepare('INSERT INTO crl_entries (issuer_id, grp, serial, certificate_id, der) VALUES (?, 0, ?, ?, ?)').run(issued.issuer_id, issued.serial, issued.id, der(issued.serial)), /names a revoked or outcome_unknown certificate/);
  const revoked = s.db.prepare('SELECT certificate_id, serial, der FROM crl_entries LIMIT 1').get() as { certificate_id: number; serial: Buffer; der: Buffer };
  const other = Buffer.from(revoked.serial);
  other[other.length - 1] ^= 2;
  assert.throws(() => s.db.prepare('UPDATE crl_entries SET der = ? WHERE certificate_id = ?').run(der(other), revoked.certificate_id), /CHECK constraint/);
  assert.throws(() => s.db.prepare('DELETE FROM crl_entries').run(), /never deleted/);
});

test('with the store order, the lint refuses an entry out of order or twice instead of keeping a set', () => {
  const { store: s } = open();
  fill(s, 12);
  const w = fromChunks(s);
  const runs = s.revokedEntryChunks('root').runs;
  const ctx = { now: new Date('2026-12-01T00:00:00Z'), issuerName: HEADER.issuerName, issuerSki: HEADER.aki, maxValidityMs: 30 * 86_400_000, entryRuns: runs };
  // The same bytes announced as one run: the outcome_unknown run starts below the revoked run's end.
  const rules = lintTbsCertList(w.tbs, { ...ctx, entryRuns: [runs[0]! + runs[1]!] }).map((f) => f.rule);
  assert.ok(rules.includes('e_crl_entry_duplicate_serial'), rules.join());
  // More entries than the store has.
  assert.ok(lintTbsCertList(w.tbs, { ...ctx, entryRuns: [runs[0]!, runs[1]! - 1] }).some((f) => f.rule === 'e_crl_entry_serial_unknown'));
});

test('the kept totals size the CRL: edited, the CRL is refused before any card and ca db check names them', () => {
  const { store: s } = open();
  fill(s, 12);
  s.db.prepare('UPDATE crl_entry_totals SET octets = octets + 1 WHERE grp = 0 AND issuer_id = (SELECT id FROM cas WHERE name = ?)').run('root');
  assert.throws(() => fromChunks(s), (e: unknown) => (e as { code?: string }).code === 'CA_CRL_ENTRIES_CHANGED');
  assert.ok(crlEntryProblems(s).some((p) => p.what === 'CA root' && /crl_entry_totals says/.test(p.message)));
});
