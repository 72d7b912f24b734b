/**
 * The issuance cycle with the in-process SmartCard-HSM emulator (CardSigner over
 * InProcessTransport) and a real SQLite store: ceremonies, leaf issuance from `openssl req`
 * CSRs, duplicate keys, clock sanity, a failing card → outcome_unknown → on the next CRL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateList } from '@peculiar/asn1-x509';
import { DriverCardSession } from '../../../src/card/card-session-impl.js';
import { openDatabase } from '../../../src/db/database.js';
import { SqliteStore } from '../../../src/db/sqlite-store.js';
import { checkDatabase } from '../../../src/db/db-check.js';
import { rootCeremony, subCaCeremony } from '../../../src/ca/ceremony.js';
import { issueCertificate, randomSerial } from '../../../src/ca/issuance.js';
import { issuerInfoFromCertificate } from '../../../src/ca/issuance-issuer.js';
import { issueCrl } from '../../../src/ca/crl-cycle.js';
import { fixedClock, type Clock } from '../../../src/ca/clock.js';
import { loadProfiles, parseCsr, verifyIssuedCertificate } from '../../../src/ca/index.js';
import type { Signer } from '../../../src/crypto/signer.js';
import { CardcaError } from '../../../src/common/cardca-error.js';
import { inProcessCard as card } from '../../helpers/in-process-card.js';

const PROFILES = new URL('../../../../profiles', import.meta.url).pathname;
const code = (c: string) => (e: unknown) => e instanceof CardcaError && e.code === c;

function csr(dir: string, name: string, key: string[], cn: string): Uint8Array {
  const out = join(dir, `${name}.csr`);
  execFileSync('openssl', ['req', '-new', '-nodes', ...key, '-keyout', join(dir, `${name}.key`), '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`, '-out', out], { stdio: 'ignore' });
  return new Uint8Array(readFileSync(out));
}

interface Rig {
  store: SqliteStore;
  clock: Clock;
  rootCard: DriverCardSession;
  subCard: DriverCardSession;
  dir: string;
}

let now = new Date('2026-11-20T09:00:00.000Z');
const ticking: Clock = { now: () => (now = new Date(now.getTime() + 1000)) };

async function rig(): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'cardca-iss-'));
  const store = new SqliteStore(openDatabase(join(dir, 'ca.db'), { create: true }));
  const profiles = loadProfiles(PROFILES);
  const rootCard = await card('root');
  const subCard = await card('subs');
  await rootCeremony({ store, clock: ticking, profiles }, { card: rootCard });
  await subCaCeremony({ store, clock: ticking, profiles }, { caName: 'servers', subjectCard: async () => subCard, issuerCard: async () => rootCard });
  return { store, clock: ticking, rootCard, subCard, dir };
}

function servers(r: Rig) {
  const profiles = loadProfiles(PROFILES);
  const ca = r.store.getCa('servers')!;
  return { ca, info: issuerInfoFromCertificate(ca.certificate!, profiles.caProfile('servers')), leaf: profiles.leafProfile('tls-server') };
}

test('randomSerial: 16 octets, positive, minimal, never zero-led', () => {
  for (let i = 0; i < 200; i++) {
    const s = randomSerial();
    assert.equal(s.length, 16);
    assert.equal(s[0]! & 0x80, 0);
    assert.notEqual(s[0], 0);
  }
  let calls = 0;
  const s = randomSerial(() => (calls++ === 0 ? new Uint8Array(16) : new Uint8Array(16).fill(0xff)));
  assert.equal(s[0], 0x7f, 'a zero first octet is drawn again');
});

test('root and sub-CA ceremonies on emulated cards, then leaf issuance from openssl CSRs (EC and RSA)', async () => {
  const r = await rig();
  const { ca, info, leaf } = servers(r);
  assert.ok(r.store.getCa('root')!.certificate);
  assert.equal(ca.cardSerial, r.subCard.info.serial);
  // The certificate was written to the sub-CA card next to its key.
  const onCard = (await r.subCard.listKeys()).find((k) => k.id === ca.keyId)!;
  assert.deepEqual(onCard.certificate, ca.certificate);

  const signer = await r.subCard.signer(ca.keyId);
  for (const [name, key] of [['ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']], ['rsa', ['-newkey', 'rsa:2048']]] as const) {
    const parsed = parseCsr(csr(r.dir, name, [...key], `${name}.example.test`));
    const issued = await issueCertificate(
      { store: r.store, clock: r.clock, signer, issuerName: 'servers', issuer: info },
      { profile: leaf, spki: parsed.spki, subject: parsed.subject, csrSans: parsed.sans, csrDer: parsed.der },
    );
    verifyIssuedCertificate(issued.der, issued.record.tbs, info.spki);
    assert.equal(issued.record.status, 'issued');
    assert.deepEqual(issued.record.sans, [`dns:${name}.example.test`]);
    const text = execFileSync('openssl', ['x509', '-inform', 'DER', '-noout', '-serial'], { input: issued.der }).toString();
    assert.equal(text.trim(), `serial=${issued.record.serialHex}`);

    // The same key again is refused before anything is reserved.
    const before = r.store.findCertificates({}).length;
    await assert.rejects(
      issueCertificate({ store: r.store, clock: r.clock, signer, issuerName: 'servers', issuer: info }, { profile: leaf, spki: parsed.spki, subject: parsed.subject, csrSans: parsed.sans }),
      code('KEY_DUPLICATE'),
    );
    assert.equal(r.store.findCertificates({}).length, before);
  }
  // A CA key in a "CSR" is refused.
  await assert.rejects(
    issueCertificate({ store: r.store, clock: r.clock, signer, issuerName: 'servers', issuer: info }, { profile: leaf, spki: r.store.getCa('root')!.publicKey, subject: [{ type: 'CN', value: 'x.example.test' }] }),
    code('KEY_IS_CA_KEY'),
  );
  assert.deepEqual(checkDatabase(r.store).problems, []);
});

test('clock behind the last recorded activity: CLOCK_BEHIND, nothing reserved', async () => {
  const r = await rig();
  const { ca, info, leaf } = servers(r);
  const parsed = parseCsr(csr(r.dir, 'late', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'late.example.test'));
  const before = r.store.findCertificates({}).length;
  await assert.rejects(
    issueCertificate(
      { store: r.store, clock: fixedClock('2026-01-01T00:00:00Z'), signer: await r.subCard.signer(ca.keyId), issuerName: 'servers', issuer: info },
      { profile: leaf, spki: parsed.spki, subject: parsed.subject, csrSans: parsed.sans },
    ),
    code('CLOCK_BEHIND'),
  );
  assert.equal(r.store.findCertificates({}).length, before);
});

test('a signer that fails after TX1 leaves the serial outcome_unknown, and the next CRL lists it', async () => {
  const r = await rig();
  const { ca, info, leaf } = servers(r);
  const real = await r.subCard.signer(ca.keyId);
  const failing: Signer = { algorithms: () => real.algorithms(), publicKey: () => real.publicKey(), sign: async () => { throw new CardcaError('CARD_REMOVED', 'card removed during SIGN'); } };
  const parsed = parseCsr(csr(r.dir, 'lost', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'lost.example.test'));
  const failure: unknown = await issueCertificate({ store: r.store, clock: r.clock, signer: failing, issuerName: 'servers', issuer: info }, { profile: leaf, spki: parsed.spki, subject: parsed.subject, csrSans: parsed.sans }).then(
    () => assert.fail('issuance with a removed card succeeded'),
    (e: unknown) => e,
  );
  assert.ok(failure instanceof CardcaError && failure.code === 'CARD_REMOVED', String(failure));
  const [lost] = r.store.findCertificates({ issuer: 'servers', status: 'outcome_unknown' });
  assert.ok(lost);
  // The error names the serial that became outcome_unknown (issue 18 item 13).
  assert.match(failure.message, new RegExp(`certificate serial ${lost.serialHex} of CA servers is now recorded as outcome_unknown`));
  // The operator retries the same CSR: a fresh serial, the lost one stays burnt.
  const retry = await issueCertificate({ store: r.store, clock: r.clock, signer: real, issuerName: 'servers', issuer: info }, { profile: leaf, spki: parsed.spki, subject: parsed.subject, csrSans: parsed.sans });
  assert.notEqual(retry.record.serialHex, lost.serialHex);
  const crl = await issueCrl({ store: r.store, clock: r.clock, signer: real, issuerName: 'servers', issuer: info });
  assert.equal(crl.record.crlNumber, 1n);
  const parsedCrl = AsnConvert.parse(crl.der, CertificateList);
  const serials = (parsedCrl.tbsCertList.revokedCertificates ?? []).map((e) => Buffer.from(e.userCertificate).toString('hex').toUpperCase());
  assert.deepEqual(serials, [lost.serialHex]);
  const second = await issueCrl({ store: r.store, clock: r.clock, signer: real, issuerName: 'servers', issuer: info });
  assert.equal(second.record.crlNumber, 2n);
  // A signer holding a different key is refused before anything is reserved.
  await assert.rejects(issueCrl({ store: r.store, clock: r.clock, signer: await r.rootCard.signer(r.store.getCa('root')!.keyId), issuerName: 'servers', issuer: info }), code('CA_SIGNER_MISMATCH'));
  assert.equal(r.store.latestCrl('servers')!.crlNumber, 2n);
  assert.deepEqual(checkDatabase(r.store).problems, []);
});

test('a second root ceremony is refused', async () => {
  const r = await rig();
  await assert.rejects(rootCeremony({ store: r.store, clock: r.clock, profiles: loadProfiles(PROFILES) }, { card: r.rootCard }), code('CA_EXISTS'));
});

test('revocation: revocationDate is the time of recording, a compromise date becomes invalidityDate; a CRL entry listed twice is refused before the card signs', async () => {
  const r = await rig();
  const { ca, info, leaf } = servers(r);
  const signer = await r.subCard.signer(ca.keyId);
  const parsed = parseCsr(csr(r.dir, 'stolen', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'stolen.example.test'));
  const issued = await issueCertificate({ store: r.store, clock: r.clock, signer, issuerName: 'servers', issuer: info }, { profile: leaf, spki: parsed.spki, subject: parsed.subject, csrSans: parsed.sans });
  const recordedAt = r.clock.now();
  const compromisedAt = new Date(recordedAt.getTime() - 3 * 86_400_000);
  r.store.revokeCertificate(issued.record.id, compromisedAt, 'keyCompromise', { event: 'certificate.revoked', ca: 'servers', data: {} }, recordedAt);
  const [entry] = r.store.revokedEntries('servers');
  assert.equal(entry!.revocationDate, recordedAt.toISOString());
  assert.equal(entry!.invalidityDate, compromisedAt.toISOString());

  const crl = await issueCrl({ store: r.store, clock: r.clock, signer, issuerName: 'servers', issuer: info });
  const text = execFileSync('openssl', ['crl', '-inform', 'DER', '-noout', '-text'], { input: crl.der }).toString();
  const fmt = (d: Date) => `${d.toUTCString().slice(8, 11)} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)} ${d.getUTCFullYear()} GMT`;
  assert.match(text, new RegExp(`Revocation Date: ${fmt(new Date(Math.floor(recordedAt.getTime() / 1000) * 1000))}`), text);
  assert.match(text, /Invalidity Date: \n\s*/, text);
  assert.match(text, new RegExp(`Invalidity Date: \\n\\s*${fmt(new Date(Math.floor(compromisedAt.getTime() / 1000) * 1000))}`), text);
  assert.match(text, /Key Compromise/);

  // The CRL's entries come from the store's pre-encoded rows, whose schema proves each names a
  // certificate of this CA, once (crl-entries.test.ts); the lint checks the bytes are those rows
  // in their order. A store that hands over an entry twice gets the CRL abandoned before the
  // card signs (e_crl_entry_duplicate_serial), without any set of serials.
  const lying = Object.create(r.store) as typeof r.store;
  lying.revokedEntryChunks = (n: string) => {
    const real = r.store.revokedEntryChunks(n);
    return {
      runs: [real.runs[0]! + 1, real.runs[1]!],
      octets: real.octets * 2,
      forEach: (visit) => {
        real.forEach(visit);
        real.forEach(visit);
      },
    };
  };
  await assert.rejects(issueCrl({ store: lying, clock: r.clock, signer, issuerName: 'servers', issuer: info }), (e: unknown) => e instanceof CardcaError && e.code === 'LINT_FAILED' && /e_crl_entry_duplicate_serial/.test(e.message));
  assert.equal(r.store.latestCrl('servers')!.status, 'abandoned');
});
