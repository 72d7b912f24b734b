/** Profile → certificate content: every POLICY_ rejection and the content decisions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  certificateContent,
  loadProfiles,
  PolicyError,
  NOT_BEFORE_BACKDATE_MS,
  type CertificateContentRequest,
  type LeafProfile,
  type CaProfile,
} from '../../../src/ca/index.js';
import { id_ce } from '../../../src/ca/x509/oids.js';
import { decodeKeyUsage } from '../../../src/ca/lint/certificate-model.js';
import { readSingle, children, value } from '../../../src/ca/x509/der.js';
import { TestOnlySoftwareSigner } from '../../helpers/test-only-software-signer.js';
import { PROFILES_DIR, makeCa, testSerial } from './ca-test-kit.js';

const DAY = 86_400_000;
const set = loadProfiles(PROFILES_DIR);
const now = new Date(Math.floor(Date.now() / 1000) * 1000);
const root = await makeCa('root', set.caProfile('root'), undefined, now);
const servers = await makeCa('servers', set.caProfile('servers'), root, now);
const users = await makeCa('users', set.caProfile('users'), root, now);
const ec = TestOnlySoftwareSigner.generate('p256');
const rsa = TestOnlySoftwareSigner.generate('rsa2048');
const p521 = TestOnlySoftwareSigner.generate('p521');

const base = (over: Partial<CertificateContentRequest> = {}): CertificateContentRequest => ({
  issuer: servers.info,
  profile: set.leafProfile('tls-server'),
  spki: ec.publicKey(),
  subject: [{ type: 'CN', value: 'web.example.test' }],
  csrSans: [{ type: 'dns', value: 'web.example.test' }],
  serial: testSerial(),
  now,
  ...over,
});

function code(over: Partial<CertificateContentRequest>): string {
  try {
    certificateContent(base(over));
    return 'no error';
  } catch (e) {
    assert.ok(e instanceof PolicyError, String(e));
    return e.code;
  }
}

const leaf = (name: string) => set.leafProfile(name);

test('policy rejections have their own codes', async () => {
  assert.equal(code({}), 'no error');
  assert.equal(code({ spki: p521.publicKey() }), 'POLICY_KEY_TYPE');
  assert.equal(code({ issuer: root.info, profile: set.caProfile('servers'), spki: rsa.publicKey(), subject: [] }), 'POLICY_KEY_TYPE');
  assert.equal(code({ profile: leaf('email'), subject: [{ type: 'CN', value: 'A' }], csrSans: [{ type: 'email', value: 'a@example.test' }] }), 'POLICY_PROFILE_NOT_ALLOWED');
  const servers1: CaProfile = { ...set.caProfile('servers'), pathLen: 1 };
  const root1: CaProfile = { ...set.caProfile('root'), issues: ['servers'] };
  assert.equal(code({ issuer: { ...root.info, profile: root1 }, profile: servers1, spki: ec.publicKey(), subject: [] }), 'POLICY_PATHLEN');
  assert.equal(code({ issuer: { ...servers.info, profile: { ...servers.info.profile, signatureAlgorithm: 'rsa-pkcs1-sha256' } } }), 'POLICY_SIGNATURE_ALGORITHM');
  assert.equal(code({ issuer: 'self' }), 'POLICY_SELF_SIGNED');
  assert.equal(code({ subject: [{ type: 'CN', value: 'a.example.test' }, { type: 'CN', value: 'b.example.test' }] }), 'POLICY_SUBJECT_DUPLICATE');
  assert.equal(code({ subject: [{ type: 'CN', value: 'web.example.test' }, { type: 'L', value: 'Berlin' }] }), 'POLICY_SUBJECT_ATTRIBUTE');
  assert.equal(code({ subject: [] }), 'POLICY_SUBJECT_REQUIRED');
  assert.equal(code({ subject: [{ type: 'CN', value: 'Web Server!' }] }), 'POLICY_SUBJECT_VALUE');
  assert.equal(code({ subject: [{ type: 'CN', value: 'a'.repeat(65) }] }), 'POLICY_SUBJECT_VALUE');
  assert.equal(code({ subject: [{ type: 'CN', value: 'web\u0000.example.test' }] }), 'POLICY_SUBJECT_VALUE');
  assert.equal(code({ profile: leaf('tls-client'), issuer: { ...servers.info, profile: { ...servers.info.profile, issues: ['tls-client'] } }, subject: [{ type: 'CN', value: 'dev1' }, { type: 'OU', value: 'Guests' }] }), 'POLICY_SUBJECT_VALUE');
  assert.equal(code({ csrSans: [] }), 'POLICY_SAN_REQUIRED');
  assert.equal(code({ csrSans: Array.from({ length: 21 }, (_, i) => ({ type: 'dns' as const, value: `h${i}.example.test` })) }), 'POLICY_SAN_COUNT');
  assert.equal(code({ csrSans: [{ type: 'dns', value: 'web.example.org' }] }), 'POLICY_SAN_DNS');
  assert.equal(code({ csrSans: [{ type: 'dns', value: '*.example.test' }] }), 'POLICY_SAN_DNS');
  assert.equal(code({ csrSans: [{ type: 'dns', value: 'example.test.' }] }), 'POLICY_SAN_DNS');
  assert.equal(code({ csrSans: [{ type: 'ip', value: '172.16.0.1' }] }), 'POLICY_SAN_IP');
  assert.equal(code({ csrSans: [{ type: 'ip', value: '10.0.0.256' }] }), 'POLICY_SAN_IP');
  assert.equal(code({ csrSans: [{ type: 'email', value: 'a@example.test' }] }), 'POLICY_SAN_TYPE');
  assert.equal(code({ csrSans: [{ type: 'uri', value: 'http://example.test/' }] }), 'POLICY_SAN_TYPE');
  const mail = { issuer: users.info, profile: leaf('email'), spki: rsa.publicKey(), subject: [{ type: 'CN', value: 'Alice' }] };
  assert.equal(code({ ...mail, csrSans: [{ type: 'email', value: 'alice@example.test' }] }), 'no error');
  assert.equal(code({ ...mail, csrSans: [{ type: 'email', value: 'alice@evil.test' }] }), 'POLICY_SAN_EMAIL');
  assert.equal(code({ ...mail, csrSans: [{ type: 'email', value: 'not-an-address' }] }), 'POLICY_SAN_EMAIL');
  assert.equal(code({ validity: { days: 10, notAfter: new Date(now.getTime() + DAY) } }), 'POLICY_VALIDITY');
  assert.equal(code({ validity: { days: 0 } }), 'POLICY_VALIDITY');
  assert.equal(code({ validity: { notAfter: new Date(now.getTime() - DAY) } }), 'POLICY_VALIDITY');
  assert.equal(code({ validity: { days: 200 } }), 'POLICY_VALIDITY_TOO_LONG');
  const shortIssuer = { ...servers.info, notAfter: new Date(now.getTime() + 30 * DAY) };
  assert.equal(code({ issuer: shortIssuer, validity: { days: 60 } }), 'POLICY_VALIDITY_EXCEEDS_ISSUER');
  assert.equal(code({ csrSans: [{ type: 'dns', value: 'other.example.test' }] }), 'POLICY_CN_NOT_IN_SAN');
  // An IP CN with only IP SANs: relying parties take the CN for a DNS name (OpenSSL cn2dnsid) and
  // check it against servers' dNSName constraints, so `openssl verify` would reject the result.
  assert.equal(code({ subject: [{ type: 'CN', value: '10.1.2.3' }], csrSans: [{ type: 'ip', value: '10.1.2.3' }] }), 'POLICY_NAME_CONSTRAINTS');
  assert.equal(code({ subject: [{ type: 'CN', value: 'web.example.test' }], csrSans: [{ type: 'dns', value: 'web.example.test' }, { type: 'ip', value: '10.1.2.3' }] }), 'no error');
  // Name constraints are read from the issuer certificates (name-constraints.test.ts has more).
  const nc = async (permitted: string[], excluded: string[] = []) =>
    (await makeCa('servers', { ...set.caProfile('servers'), nameConstraints: { critical: true, permitted: { dns: permitted, ip: [], email: [] }, ...(excluded.length ? { excluded: { dns: excluded, ip: [], email: [] } } : {}) } }, root, now)).info;
  assert.equal(code({ issuer: await nc(['.other.test']) }), 'POLICY_NAME_CONSTRAINTS');
  assert.equal(code({ issuer: await nc(['.example.test'], ['web.example.test']) }), 'POLICY_NAME_CONSTRAINTS');
  assert.equal(code({ issuer: await nc(['.example.test'], ['db.example.test']) }), 'no error');
  const mailNc = (await makeCa('users', { ...set.caProfile('users'), nameConstraints: { critical: true, permitted: { dns: [], ip: [], email: ['.sub.example.test'] } } }, root, now)).info;
  assert.equal(code({ ...mail, issuer: mailNc, csrSans: [{ type: 'email', value: 'alice@example.test' }] }), 'POLICY_NAME_CONSTRAINTS');
  const ekOnly: LeafProfile = { ...leaf('tls-server'), keyUsage: { values: ['keyEncipherment'], critical: true } };
  assert.equal(code({ profile: ekOnly }), 'POLICY_KEY_USAGE');
});

test('content decisions: fixed RDNs, SAN sources, validity caps, backdate, EC key usage', () => {
  // Fixed attributes come from the profile, even if the request says otherwise (C/O not requested here).
  const c = certificateContent(base({ subject: [{ type: 'CN', value: 'web.example.test' }, { type: 'O', value: 'Evil Corp' }] }));
  assert.deepEqual(c.subject, [{ type: 'C', value: 'DE' }, { type: 'O', value: 'Example VPN' }, { type: 'CN', value: 'web.example.test' }]);
  // Operator --san replaces CSR SANs; DNS is lower-cased, IPs canonical, duplicates dropped.
  const o = certificateContent(base({ subject: [{ type: 'CN', value: 'api.example.test' }], sanOverride: [{ type: 'dns', value: 'API.example.test' }, { type: 'dns', value: 'api.example.test' }, { type: 'ip', value: 'fd00:0::1' }] }));
  assert.deepEqual(o.sans, [{ type: 'dns', value: 'api.example.test' }, { type: 'ip', value: 'fd00:0:0:0:0:0:0:1' }]);
  // fromCsr: false ignores CSR SANs.
  const vc = certificateContent({ issuer: { ...servers.info, profile: { ...servers.info.profile, issues: ['vpn-client'] } }, profile: leaf('vpn-client'), spki: ec.publicKey(), subject: [{ type: 'CN', value: 'alice' }], csrSans: [{ type: 'dns', value: 'x.example.test' }], serial: testSerial(), now });
  assert.deepEqual(vc.sans, []);
  assert.equal(vc.tbs.extensions.some((e) => e.oid === id_ce.subjectAltName), false);
  // Default validity = profile; notBefore backdated 5 minutes.
  assert.equal(c.tbs.notBefore.getTime(), now.getTime() - NOT_BEFORE_BACKDATE_MS);
  assert.equal(Math.round((c.tbs.notAfter.getTime() - now.getTime()) / DAY), 199);
  // BR 6.3.2 (ballot SC-081v3): at most 200 days since 2026-03-15, counted inclusively.
  assert.ok(c.tbs.notAfter.getTime() - c.tbs.notBefore.getTime() + 1000 <= 200 * DAY);
  // The default is capped at the issuer's notAfter; explicit days are honoured.
  const shortIssuer = { ...servers.info, notAfter: new Date(now.getTime() + 30 * DAY) };
  assert.equal(certificateContent(base({ issuer: shortIssuer })).tbs.notAfter.getTime(), shortIssuer.notAfter.getTime());
  assert.equal(certificateContent(base({ validity: { days: 7 } })).tbs.notAfter.getTime(), now.getTime() + 7 * DAY);
  // keyEncipherment is dropped for EC keys and kept for RSA keys.
  const ku = (spki: Uint8Array) => [...decodeKeyUsage(certificateContent(base({ spki })).tbs.extensions.find((e) => e.oid === id_ce.keyUsage)!.value)].sort();
  assert.deepEqual(ku(ec.publicKey()), ['digitalSignature']);
  assert.deepEqual(ku(rsa.publicKey()), ['digitalSignature', 'keyEncipherment']);
  // The signature algorithm is the issuer's.
  assert.equal(c.signatureAlgorithm, 'ecdsa-sha256');
  assert.equal(certificateContent({ issuer: users.info, profile: leaf('email'), spki: rsa.publicKey(), subject: [{ type: 'CN', value: 'Bob' }], csrSans: [{ type: 'email', value: 'bob@EXAMPLE.test' }], serial: testSerial(), now }).signatureAlgorithm, 'rsa-pkcs1-sha256');
});

test('SKI is SHA-1 over the subjectPublicKey BIT STRING value; root has no AKI, others do', () => {
  const c = certificateContent(base());
  const spki = ec.publicKey();
  const bits = children(spki, readSingle(spki))[1]!;
  const expected = createHash('sha1').update(value(spki, bits).subarray(1)).digest();
  const skiExt = c.tbs.extensions.find((e) => e.oid === id_ce.subjectKeyIdentifier)!;
  assert.deepEqual(Buffer.from(value(skiExt.value, readSingle(skiExt.value))), expected);
  assert.ok(c.tbs.extensions.some((e) => e.oid === id_ce.authorityKeyIdentifier));
  const r = certificateContent({ issuer: 'self', profile: set.caProfile('root'), spki: root.signer.publicKey(), subject: [], serial: testSerial(), now });
  assert.equal(r.tbs.extensions.some((e) => e.oid === id_ce.authorityKeyIdentifier), false);
  assert.equal(r.tbs.extensions.some((e) => e.oid === id_ce.cRLDistributionPoints), false);
  assert.deepEqual(r.tbs.issuerName, r.tbs.subjectName);
});

test('certificateContentAt: a decision stamped with another serial and time equals deciding again, validity checks included', async () => {
  const { certificateContentAt } = await import('../../../src/ca/cert/certificate-content.js');
  const later = new Date(now.getTime() + 3 * DAY + 1234);
  for (const over of [{}, { validity: { days: 30 } }, { profile: leaf('tls-client'), subject: [{ type: 'CN', value: 'c' }], csrSans: [] }] as Partial<CertificateContentRequest>[]) {
    let planned;
    try {
      planned = certificateContent(base({ ...over, serial: Uint8Array.of(1) }));
    } catch {
      continue; // a profile this request does not fit
    }
    const serial = testSerial();
    assert.deepEqual(certificateContentAt(planned, base({ ...over, serial, now: later })), certificateContent(base({ ...over, serial, now: later })));
  }
  // Validity is decided again at the new time: a notAfter that has passed by then is refused.
  const planned = certificateContent(base({ serial: Uint8Array.of(1), validity: { notAfter: new Date(now.getTime() + DAY) } }));
  assert.throws(() => certificateContentAt(planned, base({ validity: { notAfter: new Date(now.getTime() + DAY) }, now: new Date(now.getTime() + 2 * DAY) })), (e: unknown) => e instanceof PolicyError && e.code === 'POLICY_VALIDITY');
  assert.throws(() => certificateContentAt(planned, base({ serial: Uint8Array.of(0x80) })), /serial/i);
});
