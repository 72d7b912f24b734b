/**
 * One defective TBS per certificate lint rule (ca-invariants.md G9): each must be flagged by
 * its rule; the unmodified TBS must be clean. A rule without a case fails the coverage test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AuthorityKeyIdentifier, BasicConstraints, GeneralName, GeneralSubtree, GeneralSubtrees, KeyIdentifier, NameConstraints, SubjectAlternativeName } from '@peculiar/asn1-x509';
import { generateKeyPairSync } from 'node:crypto';
import {
  buildTbsCertificate,
  CERTIFICATE_RULES,
  certificateContent,
  encodeName,
  lintCertificate,
  lintTbsCertificate,
  loadProfiles,
  LintError,
  assertTbsCertificateLintClean,
  type CertificateLintContext,
  type ExtensionInput,
  type TbsCertificateInput,
} from '../../../src/ca/index.js';
import * as ext from '../../../src/ca/x509/extensions.js';
import { id_ce, anyExtendedKeyUsage, EKU_OIDS } from '../../../src/ca/x509/oids.js';
import { fromHex, concatBytes } from '../../../src/common/hex.js';
import { encodeTlv } from '../../../src/ca/x509/der.js';
import { TestOnlySoftwareSigner } from '../../helpers/test-only-software-signer.js';
import { PROFILES_DIR, encodeTree, makeCa, mutate, parseTree, testSerial, type Node } from './ca-test-kit.js';

const DAY = 86_400_000;
const set = loadProfiles(PROFILES_DIR);
const now = new Date();
const root = await makeCa('root', set.caProfile('root'), undefined, now);
const servers = await makeCa('servers', set.caProfile('servers'), root, now);
const leafKey = TestOnlySoftwareSigner.generate('p256');
const rsaLeafKey = TestOnlySoftwareSigner.generate('rsa2048');
const subKey = TestOnlySoftwareSigner.generate('p256');

const leafCtx: CertificateLintContext = { now, issuer: { subjectName: servers.info.subjectName, ski: servers.info.ski, notAfter: servers.info.notAfter }, issuerChain: servers.info.chain };
const caCtx: CertificateLintContext = { now, issuer: { subjectName: root.info.subjectName, ski: root.info.ski, notAfter: root.info.notAfter } };
const rootCtx: CertificateLintContext = { now };

function leafInput(spki = leafKey.publicKey()): TbsCertificateInput {
  return certificateContent({
    issuer: servers.info, profile: set.leafProfile('tls-server'), spki, subject: [{ type: 'CN', value: 'web.example.test' }],
    csrSans: [{ type: 'dns', value: 'web.example.test' }], serial: testSerial(), now,
  }).tbs;
}
function caInput(): TbsCertificateInput {
  return certificateContent({ issuer: root.info, profile: set.caProfile('servers'), spki: subKey.publicKey(), subject: [], serial: testSerial(), now }).tbs;
}
function rootInput(): TbsCertificateInput {
  return certificateContent({ issuer: 'self', profile: set.caProfile('root'), spki: root.signer.publicKey(), subject: [], serial: testSerial(), now }).tbs;
}
const tbs = (i: TbsCertificateInput, alg: 'ecdsa-sha256' | 'ecdsa-sha384' = 'ecdsa-sha256') => buildTbsCertificate(i, alg);
const without = (i: TbsCertificateInput, oid: string): TbsCertificateInput => ({ ...i, extensions: i.extensions.filter((e) => e.oid !== oid) });
const replace = (i: TbsCertificateInput, e: ExtensionInput): TbsCertificateInput => ({ ...i, extensions: [...i.extensions.filter((x) => x.oid !== e.oid), e] });
const add = (i: TbsCertificateInput, e: ExtensionInput): TbsCertificateInput => ({ ...i, extensions: [...i.extensions, e] });
const raw = (oid: string, critical: boolean, value: Uint8Array): ExtensionInput => ({ oid, critical, value });
const ser = (v: unknown) => new Uint8Array(AsnConvert.serialize(v));
/** TBS tree index helpers: [0] version, [1] serial, [2] sig, [3] issuer, [4] validity, [5] subject, [6] spki, [7] extensions. */
const extList = (r: Node) => r.children![7]!.children![0]!.children!;
const utc = (s: string): Node => ({ tag: 0x17, value: new Uint8Array(Buffer.from(s, 'latin1')) });

type Case = () => { der: Uint8Array; ctx: CertificateLintContext };
const L = (i: TbsCertificateInput, ctx = leafCtx) => () => ({ der: tbs(i), ctx });
const C = (i: TbsCertificateInput, ctx = caCtx) => () => ({ der: tbs(i, 'ecdsa-sha384'), ctx });
const M = (i: TbsCertificateInput, edit: (r: Node) => void, ctx = leafCtx) => () => ({ der: mutate(tbs(i), edit), ctx });

const CASES: Record<string, Case> = {
  e_cert_extensions_version_not_3: M(leafInput(), (r) => { r.children![0]!.children![0]!.value = Uint8Array.of(1); }),
  e_cert_unique_identifier_present: M(leafInput(), (r) => { r.children!.splice(7, 0, { tag: 0x81, value: Uint8Array.of(0, 1) }); }),
  e_signature_algorithm_not_allowed: M(leafInput(), (r) => { r.children![2] = parseTree(fromHex('300d06092a864886f70d0101050500')); }),
  e_serial_number_not_positive: M(leafInput(), (r) => { r.children![1]!.value = Uint8Array.of(0x80, 1, 2, 3, 4, 5, 6, 7, 8); }),
  e_serial_number_longer_than_20_octets: M(leafInput(), (r) => { r.children![1]!.value = new Uint8Array(21).fill(0x11); }),
  e_serial_number_low_entropy: L({ ...leafInput(), serial: Uint8Array.of(0x01, 0x02) }),
  e_issuer_field_empty: L({ ...leafInput(), issuerName: Uint8Array.of(0x30, 0x00) }),
  e_issuer_dn_not_byte_identical_to_ca_subject: L({ ...leafInput(), issuerName: encodeName([{ type: 'CN', value: 'Someone Else' }]) }),
  e_ca_subject_field_empty: C({ ...caInput(), subjectName: Uint8Array.of(0x30, 0x00) }),
  e_subject_empty_without_san: L({ ...without(leafInput(), id_ce.subjectAltName), subjectName: Uint8Array.of(0x30, 0x00) }),
  e_wrong_time_format_pre2050: M(leafInput(), (r) => { r.children![4]!.children![0] = utc('2611272015Z'); }),
  e_validity_not_after_before_not_before: L({ ...leafInput(), notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() - 120_000) }),
  e_ca_not_before_outside_1_day: C({ ...caInput(), notBefore: new Date(now.getTime() - 2 * DAY) }),
  e_sub_cert_not_before_outside_48_hours: L({ ...leafInput(), notBefore: new Date(now.getTime() - 3 * DAY) }),
  e_not_after_exceeds_issuer: L({ ...leafInput(), notAfter: new Date(servers.info.notAfter.getTime() + DAY) }),
  e_cert_already_expired: L({ ...leafInput(), notBefore: new Date(now.getTime() - 7200_000), notAfter: new Date(now.getTime() - 60_000) }),
  e_ext_duplicate_extension: L(add(leafInput(), ext.subjectKeyIdentifierExtension(Uint8Array.of(1, 2, 3)))),
  e_ext_unknown_critical: L(add(leafInput(), raw('1.2.3.4.5', true, Uint8Array.of(0x05, 0x00)))),
  e_ext_critical_false_encoded: M(leafInput(), (r) => { extList(r)[3]!.children!.splice(1, 0, { tag: 0x01, value: Uint8Array.of(0) }); }),
  e_ext_value_undecodable: L(replace(leafInput(), raw(id_ce.basicConstraints, true, Uint8Array.of(0xff)))),
  e_ca_basic_constraints_missing: L(replace(without(leafInput(), id_ce.basicConstraints), ext.keyUsageExtension(['digitalSignature', 'keyCertSign'], true))),
  e_basic_constraints_not_critical: C(replace(caInput(), ext.basicConstraintsExtension(true, 0, false))),
  e_path_len_constraint_improperly_included: L(replace(leafInput(), raw(id_ce.basicConstraints, true, ser(new BasicConstraints({ cA: false, pathLenConstraint: 0 }))))),
  e_ca_key_usage_missing: C(without(caInput(), id_ce.keyUsage)),
  e_ca_key_usage_not_critical: C(replace(caInput(), ext.keyUsageExtension(['keyCertSign', 'cRLSign'], false))),
  e_ca_key_cert_sign_not_set: C(replace(caInput(), ext.keyUsageExtension(['digitalSignature', 'cRLSign'], true))),
  e_ca_crl_sign_not_set: C(replace(caInput(), ext.keyUsageExtension(['keyCertSign'], true))),
  e_key_cert_sign_without_ca: L(replace(leafInput(), ext.keyUsageExtension(['digitalSignature', 'keyCertSign'], true))),
  e_key_usage_no_bits_set: L(replace(leafInput(), raw(id_ce.keyUsage, true, Uint8Array.of(0x03, 0x01, 0x00)))),
  e_key_usage_not_minimal_der: L(replace(leafInput(), raw(id_ce.keyUsage, true, Uint8Array.of(0x03, 0x02, 0x00, 0x80)))),
  e_sub_cert_key_usage_missing: L(without(leafInput(), id_ce.keyUsage)),
  e_ec_leaf_key_usage_encipherment: L(replace(leafInput(), ext.keyUsageExtension(['digitalSignature', 'keyEncipherment'], true))),
  e_ec_leaf_key_usage_missing_digital_signature: L(replace(leafInput(), ext.keyUsageExtension(['keyAgreement'], true))),
  e_rsa_leaf_key_usage_unusable: L(replace(leafInput(rsaLeafKey.publicKey()), ext.keyUsageExtension(['keyAgreement'], true))),
  e_eku_any_extended_key_usage: L(replace(leafInput(), ext.extendedKeyUsageExtension([EKU_OIDS.serverAuth!, anyExtendedKeyUsage], false))),
  e_root_ca_extended_key_usage_present: () => ({ der: tbs(add(rootInput(), ext.extendedKeyUsageExtension([EKU_OIDS.serverAuth!], false)), 'ecdsa-sha384'), ctx: rootCtx }),
  e_sub_cert_eku_missing: L(without(leafInput(), id_ce.extKeyUsage)),
  e_eku_empty: L(replace(leafInput(), raw(id_ce.extKeyUsage, false, Uint8Array.of(0x30, 0x00)))),
  e_ext_subject_key_identifier_missing_ca: C(without(caInput(), id_ce.subjectKeyIdentifier)),
  e_ext_subject_key_identifier_critical: L(replace(leafInput(), { ...ext.subjectKeyIdentifierExtension(Uint8Array.of(1, 2, 3)), critical: true })),
  e_ext_authority_key_identifier_missing: L(without(leafInput(), id_ce.authorityKeyIdentifier)),
  e_ext_authority_key_identifier_critical: L(replace(leafInput(), { ...ext.authorityKeyIdentifierExtension(servers.info.ski), critical: true })),
  e_ext_authority_key_identifier_no_key_identifier: L(replace(leafInput(), raw(id_ce.authorityKeyIdentifier, false, Uint8Array.of(0x30, 0x00)))),
  e_ext_authority_key_identifier_has_issuer_serial: L(replace(leafInput(), raw(id_ce.authorityKeyIdentifier, false, ser(new AuthorityKeyIdentifier({
    keyIdentifier: new KeyIdentifier(servers.info.ski.slice().buffer), authorityCertSerialNumber: Uint8Array.of(1, 2).buffer,
    authorityCertIssuer: [new GeneralName({ dNSName: 'x.example.test' })],
  }))))),
  e_ext_authority_key_identifier_not_issuer_ski: L(replace(leafInput(), ext.authorityKeyIdentifierExtension(new Uint8Array(20).fill(9)))),
  e_name_constraint_on_non_ca: L(add(leafInput(), ext.nameConstraintsExtension({ dns: ['.example.test'], ip: [], email: [] }, undefined, true))),
  e_ext_name_constraints_not_critical: C(replace(caInput(), ext.nameConstraintsExtension({ dns: ['.example.test'], ip: [], email: [] }, undefined, false))),
  e_name_constraint_empty: C(replace(caInput(), raw(id_ce.nameConstraints, true, Uint8Array.of(0x30, 0x00)))),
  e_name_constraint_minimum_or_maximum: C(replace(caInput(), raw(id_ce.nameConstraints, true, ser(new NameConstraints({
    permittedSubtrees: new GeneralSubtrees([new GeneralSubtree({ base: new GeneralName({ dNSName: '.example.test' }), maximum: 3 })]),
  }))))),
  // servers permits example.test and .example.test only (profiles/servers.yaml, in its certificate).
  e_name_constraints_violated: L(replace(leafInput(), ext.subjectAltNameExtension([{ type: 'dns', value: 'web.example.test' }, { type: 'dns', value: 'web.other.test' }], false))),
  e_sub_cert_crl_distribution_points_missing: L(without(leafInput(), id_ce.cRLDistributionPoints)),
  w_root_ca_contains_crl_distribution_points: () => ({ der: tbs(add(rootInput(), ext.crlDistributionPointsExtension(['http://x.example.test/r.crl'])), 'ecdsa-sha384'), ctx: rootCtx }),
  e_crl_distribution_points_critical: L(replace(leafInput(), { ...ext.crlDistributionPointsExtension(['http://x.example.test/a.crl']), critical: true })),
  e_crl_distribution_points_shape: L(replace(leafInput(), ext.crlDistributionPointsExtension(['https://x.example.test/a.crl']))),
  e_aia_marked_critical: L(replace(leafInput(), { ...ext.authorityInfoAccessExtension(['http://x.example.test/a.crt']), critical: true })),
  e_aia_ca_issuers_not_http: L(replace(leafInput(), ext.authorityInfoAccessExtension(['ldap://x.example.test/a.crt']))),
  e_ext_san_empty: L(replace(leafInput(), raw(id_ce.subjectAltName, false, Uint8Array.of(0x30, 0x00)))),
  e_ext_san_not_critical_without_subject: L({ ...leafInput(), subjectName: Uint8Array.of(0x30, 0x00) }),
  w_ext_san_critical_with_subject: L(replace(leafInput(), ext.subjectAltNameExtension([{ type: 'dns', value: 'web.example.test' }], true))),
  e_san_dns_name_not_preferred_syntax: L(replace(leafInput(), ext.subjectAltNameExtension([{ type: 'dns', value: '*.example.test' }], false))),
  e_san_ip_bad_length: L(replace(leafInput(), raw(id_ce.subjectAltName, false, ser(new SubjectAlternativeName([new GeneralName({ iPAddress: '10.0.0.0/8' })]))))),
  e_subject_common_name_not_from_san: L(replace(leafInput(), ext.subjectAltNameExtension([{ type: 'dns', value: 'other.example.test' }, { type: 'ip', value: 'fd00::1' }], false))),
  e_san_uri_or_other_in_leaf: L(replace(leafInput(), ext.subjectAltNameExtension([{ type: 'uri', value: 'http://x.example.test/' }], false))),
  e_public_key_policy: L({ ...leafInput(), spki: new Uint8Array(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' })) }),
  // Subject string types: TBS [5] subject = SEQUENCE OF SET { SEQUENCE { OID, value } }: C, O, CN.
  e_subject_printable_string_badalpha: M(leafInput(), (r) => { r.children![5]!.children![0]!.children![0]!.children![1] = { tag: 0x13, value: Buffer.from('D*') }; }),
  e_subject_ia5_string_not_ascii: M(leafInput(), (r) => { r.children![5]!.children![2]!.children![0]!.children![1] = { tag: 0x16, value: Buffer.from('j\xf6rg', 'latin1') }; }),
  e_subject_utf8_string_invalid: M(leafInput(), (r) => { r.children![5]!.children![1]!.children![0]!.children![1] = { tag: 0x0c, value: Uint8Array.of(0xc3, 0x28) }; }),
  e_subject_dn_string_type_not_allowed: M(leafInput(), (r) => { r.children![5]!.children![0]!.children![0]!.children![1] = { tag: 0x0c, value: Buffer.from('DE') }; }),
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm SEQUENCE { OID, params }, BIT STRING }
  e_spki_rsa_encryption_parameter_not_null: L({ ...leafInput(rsaLeafKey.publicKey()), spki: mutate(rsaLeafKey.publicKey(), (r) => { r.children![0]!.children!.splice(1); }) }),
  e_spki_rsa_public_key_not_der: L({
    ...leafInput(rsaLeafKey.publicKey()),
    spki: mutate(rsaLeafKey.publicKey(), (r) => {
      const bits = r.children![1]!.value!;
      const key = parseTree(bits.subarray(1));
      key.children![1]!.value = concatBytes(Uint8Array.of(0), key.children![1]!.value!); // publicExponent with a leading zero
      r.children![1]!.value = concatBytes(Uint8Array.of(0), encodeTree(key));
    }),
  }),
  e_spki_ec_parameters_not_named_curve: L({ ...leafInput(), spki: mutate(leafKey.publicKey(), (r) => { r.children![0]!.children![1] = { tag: 0x05, value: new Uint8Array(0) }; }) }),
  e_spki_ec_point_not_uncompressed: L({ ...leafInput(), spki: mutate(leafKey.publicKey(), (r) => { const p = r.children![1]!.value!; r.children![1]!.value = concatBytes(Uint8Array.of(0, 0x02 | (p[p.length - 1]! & 1)), p.subarray(2, 34)); }) }),
  e_spki_bit_string_unused_bits: M(leafInput(), (r) => { const b = r.children![6]!.children![1]!; b.value = concatBytes(Uint8Array.of(1), b.value!.subarray(1)); }),
};

test('every certificate lint rule has a defective sample', () => {
  const names = CERTIFICATE_RULES.map((r) => r.name);
  assert.equal(new Set(names).size, names.length, 'rule names are unique');
  assert.deepEqual(names.filter((n) => !CASES[n]), [], 'rules without a test case');
  assert.deepEqual(Object.keys(CASES).filter((n) => !names.includes(n)), [], 'cases without a rule');
});

test('the real leaf, sub-CA and root TBS are lint-clean', () => {
  assert.deepEqual(lintTbsCertificate(tbs(leafInput()), leafCtx), []);
  assert.deepEqual(lintTbsCertificate(tbs(leafInput(rsaLeafKey.publicKey())), leafCtx), []);
  assert.deepEqual(lintTbsCertificate(tbs(caInput(), 'ecdsa-sha384'), caCtx), []);
  assert.deepEqual(lintTbsCertificate(tbs(rootInput(), 'ecdsa-sha384'), rootCtx), []);
});

for (const [rule, make] of Object.entries(CASES)) {
  test(`lint rule ${rule} flags its defect`, () => {
    const { der, ctx } = make();
    const findings = lintTbsCertificate(der, ctx);
    assert.ok(findings.some((f) => f.rule === rule), `${rule} not among ${JSON.stringify(findings)}`);
    assert.throws(() => assertTbsCertificateLintClean(der, ctx), (e: unknown) => e instanceof LintError && e.code === 'LINT_FAILED' && e.rules.includes(rule));
  });
}

test('e_san_ip_bad_length counts the octets: a 5-octet iPAddress is flagged too (asn1-x509 rendered it as hex, without the "/" the rule looked for)', () => {
  const five = raw(id_ce.subjectAltName, false, Uint8Array.of(0x30, 0x07, 0x87, 0x05, 10, 0, 0, 0, 8));
  assert.ok(lintTbsCertificate(tbs(replace(leafInput(), five)), leafCtx).some((f) => f.rule === 'e_san_ip_bad_length'));
});

test('e_cert_sig_alg_not_match_tbs_sig_alg on an assembled certificate', () => {
  const t = tbs(leafInput());
  const sig = leafKey.signSync(t, 'ecdsa-sha256');
  const outer = fromHex('300a06082a8648ce3d040303');
  const cert = encodeTlv(0x30, concatBytes(t, outer, encodeTlv(0x03, concatBytes(Uint8Array.of(0), sig))));
  assert.ok(lintCertificate(cert, leafCtx).some((f) => f.rule === 'e_cert_sig_alg_not_match_tbs_sig_alg'));
  const good = encodeTlv(0x30, concatBytes(t, fromHex('300a06082a8648ce3d040302'), encodeTlv(0x03, concatBytes(Uint8Array.of(0), sig))));
  assert.deepEqual(lintCertificate(good, leafCtx), []);
  assert.deepEqual(lintTbsCertificate(Uint8Array.of(1, 2, 3), leafCtx).map((f) => f.rule), ['e_tbs_certificate_malformed']);
});

test('a TBS linted clean before signing is not linted twice, but only when the certificate carries exactly those bytes with the same context', () => {
  const good = tbs(leafInput());
  const sign = (t: Uint8Array, outer = '300a06082a8648ce3d040302') => encodeTlv(0x30, concatBytes(t, fromHex(outer), encodeTlv(0x03, concatBytes(Uint8Array.of(0), leafKey.signSync(t, 'ecdsa-sha256')))));
  // Every rule's defective sample, signed, with the clean TBS claimed as linted: the bytes
  // differ, so every rule runs again and still flags its defect.
  for (const [rule, make] of Object.entries(CASES)) {
    const { der, ctx } = make();
    const findings = lintCertificate(sign(der), ctx, { tbs: good, ctx });
    assert.ok(findings.some((f) => f.rule === rule), `${rule} not among ${JSON.stringify(findings)}`);
  }
  const bad = CASES['e_ext_san_missing']?.() ?? Object.values(CASES)[0]!();
  // The same bytes but another context object: every rule runs.
  assert.ok(lintCertificate(sign(bad.der), bad.ctx, { tbs: bad.der, ctx: { ...bad.ctx } }).length > 0);
  // The same bytes and context: the TBS rules are not repeated; the certificate-level rule still runs.
  assert.deepEqual(lintCertificate(sign(good), leafCtx, { tbs: good, ctx: leafCtx }), []);
  assert.deepEqual(lintCertificate(sign(good, '300a06082a8648ce3d040303'), leafCtx, { tbs: good, ctx: leafCtx }).map((f) => f.rule), ['e_cert_sig_alg_not_match_tbs_sig_alg']);
});

test('where OpenSSL -x509_strict covers a rule, OpenSSL rejects the same defect too', async () => {
  const { assembleCertificate } = await import('../../../src/ca/index.js');
  const { openssl, tempDir, writePem } = await import('./ca-test-kit.js');
  const dir = tempDir('cardca-lint-');
  const rootPem = writePem(dir, 'root.pem', root.cert, 'CERTIFICATE');
  const signSub = (i: TbsCertificateInput) => {
    const t = tbs(i, 'ecdsa-sha384');
    return assembleCertificate(t, 'ecdsa-sha384', root.signer.signSync(t, 'ecdsa-sha384'));
  };
  const cases: [string, TbsCertificateInput][] = [
    ['e_basic_constraints_not_critical', replace(caInput(), ext.basicConstraintsExtension(true, 0, false))],
    ['e_ca_key_usage_missing', without(caInput(), id_ce.keyUsage)],
    ['e_ext_subject_key_identifier_missing_ca', without(caInput(), id_ce.subjectKeyIdentifier)],
    ['e_ext_authority_key_identifier_missing', without(caInput(), id_ce.authorityKeyIdentifier)],
    ['e_ext_authority_key_identifier_critical', replace(caInput(), { ...ext.authorityKeyIdentifierExtension(root.info.ski), critical: true })],
  ];
  // Control: the unmodified sub-CA verifies.
  const ok = await openssl(['verify', '-x509_strict', '-CAfile', rootPem, writePem(dir, 'ok.pem', signSub(caInput()), 'CERTIFICATE')]);
  assert.ok(ok.ok, ok.output);
  for (const [rule, input] of cases) {
    const cert = signSub(input);
    assert.ok(lintCertificate(cert, caCtx).some((f) => f.rule === rule), rule);
    const v = await openssl(['verify', '-x509_strict', '-CAfile', rootPem, writePem(dir, `${rule}.pem`, cert, 'CERTIFICATE')]);
    assert.equal(v.ok, false, `${rule}: openssl accepted it: ${v.output}`);
  }
});
