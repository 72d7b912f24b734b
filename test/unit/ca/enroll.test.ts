/**
 * Token enrolment engine (src/ca/enroll.ts) with in-process emulated SmartCard-HSMs (root card,
 * sub-CA card, user token) and a real SQLite store: key generated on the token, CSR signed on
 * it, issued by the clients sub-CA's card, written back and read back; a label already used is
 * refused before the token changes; a failed write-back says how to resume, and --resume writes
 * the certificate already issued instead of certifying the key twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DriverCardSession } from '../../../src/card/card-session-impl.js';
import { openDatabase } from '../../../src/db/database.js';
import { SqliteStore } from '../../../src/db/sqlite-store.js';
import { rootCeremony, subCaCeremony } from '../../../src/ca/ceremony.js';
import { issuerInfoFromCertificate } from '../../../src/ca/issuance-issuer.js';
import { enrollToken, preflightEnrollment, type EnrollRequest, type TokenCard } from '../../../src/ca/enroll.js';
import { tokenBindings, TOKEN_EVENTS } from '../../../src/ca/token-records.js';
import { parseRfc4514 } from '../../../src/ca/x509/parse-dn.js';
import { loadProfiles, verifyIssuedCertificate } from '../../../src/ca/index.js';
import type { Clock } from '../../../src/ca/clock.js';
import { CardcaError } from '../../../src/common/cardca-error.js';
import { openscPkcs11Id } from '../../../src/card/opensc-pkcs11-id.js';
import { inProcessCard as card } from '../../helpers/in-process-card.js';

const PROFILES = new URL('../../../../profiles', import.meta.url).pathname;
const code = (c: string) => (e: unknown) => e instanceof CardcaError && e.code === c;

let now = new Date('2026-11-20T09:00:00.000Z');
const clock: Clock = { now: () => (now = new Date(now.getTime() + 1000)) };

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'cardca-enroll-'));
  const store = new SqliteStore(openDatabase(join(dir, 'ca.db'), { create: true }));
  const profiles = loadProfiles(PROFILES);
  const rootCard = await card('root');
  const subCard = await card('subs');
  await rootCeremony({ store, clock, profiles }, { card: rootCard });
  await subCaCeremony({ store, clock, profiles }, { caName: 'clients', subjectCard: async () => subCard, issuerCard: async () => rootCard });
  const ca = store.getCa('clients')!;
  const info = issuerInfoFromCertificate(ca.certificate!, profiles.caProfile('clients'));
  const req = (over: Partial<EnrollRequest> = {}): EnrollRequest => ({
    issuerName: 'clients',
    issuer: info,
    profile: profiles.leafProfile('vpn-client'),
    subject: parseRfc4514('CN=alice'),
    algorithm: 'p256',
    label: 'alice',
    resume: false,
    resumeCommand: 'ca enroll --issuer clients --card X --subject CN=alice --label alice',
    ...over,
  });
  const issuerSigner = () => subCard.signer(ca.keyId);
  const writeBack = (c: TokenCard, keyId: string, der: Uint8Array) => (c as DriverCardSession).writeCertificate(keyId, der);
  return { store, subCard, ca, info, req, issuerSigner, writeBack };
}

test('enrollToken: key on the token, CSR signed there, certificate issued, written back, read back, bound in the audit log', async () => {
  const s = await setup();
  const token = await card('alice token');
  const r = await enrollToken({ store: s.store, clock, writeBack: s.writeBack }, token, s.issuerSigner, s.req());
  assert.equal(r.resumed, 'no');
  assert.equal(r.key.algorithm, 'p256');
  verifyIssuedCertificate(r.certificate, r.record.tbs, s.info.spki);
  const onCard = (await token.listKeys()).find((k) => k.id === r.key.id)!;
  assert.deepEqual(onCard.certificate, r.certificate);
  assert.match(r.record.subject, /O=Example VPN, CN=alice$/, 'the profile adds what it fixes');
  assert.equal(r.record.profile, 'vpn-client');
  assert.ok(r.csr && r.csr.length > 0);
  const b = tokenBindings(s.store.auditRecords(), token.info.serial);
  assert.deepEqual(b.map((x) => [x.keyId, x.serialHex, x.issuerName]), [[r.key.id, r.record.serialHex, 'clients']]);
  assert.deepEqual(tokenBindings(s.store.auditRecords(), 'OTHER'), []);
  // Same label again: refused before the token changes.
  const before = (await token.listKeys()).length;
  await assert.rejects(enrollToken({ store: s.store, clock, writeBack: s.writeBack }, token, s.issuerSigner, s.req()), code('TOKEN_LABEL_TAKEN'));
  assert.equal((await token.listKeys()).length, before);
});

test('a failed write-back leaves key + issued certificate; the error says how to resume; --resume writes that certificate, never issues twice', async () => {
  const s = await setup();
  const token = await card('bob token');
  const failing = async () => {
    throw new CardcaError('CARD_REMOVED', 'card removed');
  };
  let err: unknown;
  await enrollToken({ store: s.store, clock, writeBack: failing }, token, s.issuerSigner, s.req({ subject: parseRfc4514('CN=bob'), label: 'bob' })).catch((e) => (err = e));
  assert.ok(err instanceof CardcaError && err.code === 'TOKEN_INCOMPLETE', String(err));
  assert.match((err as CardcaError).hint ?? '', /--resume/);
  assert.ok(s.store.auditRecords().some((x) => x.event === TOKEN_EVENTS.incomplete));
  const issuedBefore = s.store.findCertificates({ issuer: 'clients' }).length;
  // Without --resume the label is taken (and the hint names --resume).
  await assert.rejects(enrollToken({ store: s.store, clock, writeBack: s.writeBack }, token, s.issuerSigner, s.req({ subject: parseRfc4514('CN=bob'), label: 'bob' })), (e: unknown) => code('TOKEN_LABEL_TAKEN')(e) && /--resume/.test((e as CardcaError).hint ?? ''));
  const r = await enrollToken({ store: s.store, clock, writeBack: s.writeBack }, token, s.issuerSigner, s.req({ subject: parseRfc4514('CN=bob'), label: 'bob', resume: true }));
  assert.equal(r.resumed, 'certificate');
  assert.equal(s.store.findCertificates({ issuer: 'clients' }).length, issuedBefore, 'no second certificate for the key');
  assert.deepEqual((await token.listKeys()).find((k) => k.label === 'bob')!.certificate, r.certificate);
  // Nothing left to resume: the key has its certificate (the prior one is reused, not re-issued).
  await assert.rejects(enrollToken({ store: s.store, clock, writeBack: s.writeBack }, token, s.issuerSigner, s.req({ label: 'nobody', resume: true })), code('TOKEN_NOTHING_TO_RESUME'));
});

test('preflight refuses, before any card: a key type or subject the profile does not allow, a profile the issuer does not issue', async () => {
  const s = await setup();
  const deps = { store: s.store, clock };
  assert.throws(() => preflightEnrollment(deps, s.req({ algorithm: 'p521' })), code('POLICY_KEY_TYPE'));
  assert.throws(() => preflightEnrollment(deps, s.req({ subject: parseRfc4514('CN=Not Allowed!') })), (e: unknown) => e instanceof CardcaError && e.code.startsWith('POLICY_'));
  const profiles = loadProfiles(PROFILES);
  assert.throws(() => preflightEnrollment(deps, s.req({ profile: profiles.leafProfile('tls-server') })), code('POLICY_PROFILE_NOT_ISSUED'));
  preflightEnrollment(deps, s.req());
});

test('pkcs11-id: pkcs11-helper serialization of the OpenSC token fields, reserved characters as \\xHH', () => {
  assert.equal(
    openscPkcs11Id({ driver: 'sc-hsm', serial: 'DECM0102330', tokenLabel: 'alice' }, '0a1b'),
    // pkcs11-helper escapes "." too (its invalid set; openvpn --show-pkcs11-ids prints "Aventra\x20Ltd\x2E" for a MyEID).
    'www\\x2ECardContact\\x2Ede/PKCS\\x2315\\x20emulated/DECM0102330/alice\\x20\\x28UserPIN\\x29/0A1B',
  );
  // As openvpn --show-pkcs11-ids printed it for a token `ca card init` made (manufacturer "cardca").
  assert.equal(
    openscPkcs11Id({ driver: 'sc-hsm', serial: 'DETEST21662', tokenLabel: 'alice', manufacturer: 'cardca' }, '17758EE50B9C9E51DD35A4DE4B378A8434D27668'),
    'cardca/PKCS\\x2315\\x20emulated/DETEST21662/alice\\x20\\x28UserPIN\\x29/17758EE50B9C9E51DD35A4DE4B378A8434D27668',
  );
  assert.throws(() => openscPkcs11Id({ driver: 'nope', serial: 'x', tokenLabel: undefined }, '01'), code('CARD_PKCS11_ID_UNKNOWN'));
});
