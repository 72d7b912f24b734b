/**
 * Issue #14 item 4: `ca status` reads per-CA counts kept by migration 5's triggers, and
 * `ca list` / the CRL stream rows instead of loading them. The counts must follow every insert
 * and status change, a migration from version 4 must backfill them, and `ca db check` must
 * notice counts edited by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { openDatabase } from '../../../src/db/database.js';
import { latestVersion, MIGRATIONS } from '../../../src/db/migrations.js';
import { SqliteStore } from '../../../src/db/sqlite-store.js';
import { checkDatabase } from '../../../src/db/db-check.js';
import { packCrlEntry } from '../../../src/ca/crl/crl-entry-stream.js';
import type { CertificateSummary, ReserveCertificate } from '../../../src/ca/store.js';

const sha = (s: string | Uint8Array) => new Uint8Array(createHash('sha256').update(s).digest());
const T0 = new Date('2026-11-01T10:00:00.000Z');
const at = (min: number) => new Date(T0.getTime() + min * 60_000);

function store(migrations = MIGRATIONS): { path: string; store: SqliteStore } {
  const path = join(mkdtempSync(join(tmpdir(), 'cardca-scale-')), 'ca.db');
  const s = new SqliteStore(openDatabase(path, { create: true, migrations }));
  s.createCa(
    { name: 'root', profileName: 'root', cardSerial: 'DETEST1', cardFamily: 'sc-hsm', keyId: 'AA', keyRef: 1, publicKey: Uint8Array.of(1, 2, 3), spkiSha256: sha(Uint8Array.of(1, 2, 3)) },
    { event: 'ca.bound', ca: 'root', data: { card: 'DETEST1' } },
    at(0),
  );
  return { path, store: s };
}

function reservation(i: number): ReserveCertificate {
  const serial = Uint8Array.of(0x10, i);
  const tbs = Uint8Array.of(0x30, 0x00, i);
  return {
    issuerName: 'root', serial, profile: 'tls-server', subject: `CN=h${i}`, sans: [`dns:h${i}.example.test`],
    notBefore: at(i), notAfter: at(i + 1000), spkiSha256: sha(`k${i}`), tbs, tbsSha256: sha(tbs), isCa: false, at: at(i),
  };
}

function fill(s: SqliteStore): void {
  for (let i = 1; i <= 6; i++) {
    const r = s.reserveCertificate(reservation(i), { event: 'certificate.intent', ca: 'root', data: { serial: `10${i.toString(16).padStart(2, '0')}` } });
    if (i <= 4) s.markCertificateIssued(r.id, Uint8Array.of(0x30, 0, i), { event: 'certificate.issued', ca: 'root', data: {} }, at(i));
    if (i === 5) s.markCertificateFailed(r.id, 'outcome_unknown', { event: 'certificate.outcome-unknown', ca: 'root', data: {} }, at(i));
    if (i <= 2) s.revokeCertificate(r.id, at(i), 'superseded', { event: 'certificate.revoked', ca: 'root', data: {} }, at(i + 1));
  }
}

const expected = { reserved: 1, issued: 2, revoked: 2, outcome_unknown: 1, abandoned: 0 };

test('certificateCounts follows inserts and status changes (triggers of migration 5)', () => {
  const { store: s } = store();
  fill(s);
  assert.deepEqual(s.certificateCounts('root'), expected);
  // The CRL stream: revoked then outcome_unknown, in index order, counted in advance, packed
  // as crl-entry-stream.ts says (revocationDate, reason code, [I invalidityDate], serial hex).
  const stream = s.revokedEntryStream('root');
  const seen: string[] = [];
  stream.forEach((e) => seen.push(e));
  assert.equal(stream.count, 3);
  assert.deepEqual(seen, [
    `${at(2).toISOString()}04I${at(1).toISOString()}1001`,
    `${at(3).toISOString()}04I${at(2).toISOString()}1002`,
    `${at(5).toISOString()}00-1005`,
  ]);
  assert.deepEqual(seen, [
    packCrlEntry(Uint8Array.of(0x10, 1), at(2).toISOString(), 'superseded', at(1).toISOString()),
    packCrlEntry(Uint8Array.of(0x10, 2), at(3).toISOString(), 'superseded', at(2).toISOString()),
    packCrlEntry(Uint8Array.of(0x10, 5), at(5).toISOString()),
  ]);
  // The stream agrees with the list API it replaces for the CRL.
  assert.deepEqual(s.revokedEntries('root').map((e) => e.serialHex), ['1001', '1002', '1005']);
});

test('a version-4 database gets its counts backfilled by migration 5', () => {
  // Version 4 (the card family) is the last schema before the counts; createCa needs its column.
  const { path, store: s } = store(MIGRATIONS.filter((m) => m.version <= 4));
  fill(s);
  s.db.close();
  const upgraded = new SqliteStore(openDatabase(path));
  assert.equal(upgraded.db.pragma('user_version', { simple: true }), latestVersion());
  assert.deepEqual(upgraded.certificateCounts('root'), expected);
});

test('ca db check reports counts edited outside cardca', () => {
  const { store: s } = store();
  fill(s);
  const before = checkDatabase(s).problems.filter((p) => /kept count/.test(p.message));
  assert.deepEqual(before, []);
  s.db.prepare("UPDATE certificate_counts SET n = n + 7 WHERE status = 'issued'").run();
  const after = checkDatabase(s).problems.filter((p) => /kept count/.test(p.message));
  assert.equal(after.length, 1);
  assert.match(after[0]!.message, /2 certificate\(s\) with status issued, but the kept count says 9/);
});

test('eachCertificate streams the same certificates as findCertificates, filters included', () => {
  const { store: s } = store();
  fill(s);
  for (const f of [{}, { status: 'issued' as const }, { issuer: 'root', notAfterAfter: at(1002).toISOString(), notAfterBefore: at(1004).toISOString() }]) {
    const streamed: CertificateSummary[] = [];
    for (const c of s.eachCertificate(f)) streamed.push(c);
    assert.deepEqual(streamed.map((c) => [c.id, c.serialHex, c.status, c.revocation?.reason]), s.findCertificates(f).map((c) => [c.id, c.serialHex, c.status, c.revocation?.reason]));
    // Every field of the summary, read by position from the raw row, as findCertificates reads it by name.
    const keys = Object.keys(streamed[0] ?? {}) as (keyof CertificateSummary)[];
    assert.ok(keys.length >= 14, keys.join(','));
    assert.deepEqual(streamed, s.findCertificates(f).map((c) => Object.fromEntries(keys.map((k) => [k, c[k]]))));
  }
});
