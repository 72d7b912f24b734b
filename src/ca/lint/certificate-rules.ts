import { bytesEqual } from '../../common/hex.js';
import { isPreferredDnsName } from '../cert/san-policy.js';
import { checkKeyPolicy, DEFAULT_KEY_POLICY } from '../csr/key-policy.js';
import { CsrError } from '../errors.js';
import { readSingle, value } from '../x509/der.js';
import { anyExtendedKeyUsage, id_ce, id_pe_authorityInfoAccess } from '../x509/oids.js';
import { signatureAlgorithmFromIdentifier } from '../x509/signature-algorithm-identifier.js';
import { isEcKey, isRsaKey, type CertificateModel } from './certificate-model.js';
import { decodeName } from '../x509/name.js';
import type { SanEntry } from '../x509/extensions.js';
import { ipToString, parseIp } from '../x509/ip-address.js';
import { chainNameConstraints, constrainedNames, describeViolation, nameConstraintViolations } from '../cert/name-constraints.js';
import type { LintRule } from './lint-types.js';
import { SUBJECT_STRING_RULES } from './subject-string-rules.js';
import { canonicalSpki } from '../x509/canonical-spki.js';
import { checkTimeEncoding } from './x509-time.js';

/** Canonical text of an IP address (bytes re-rendered), or the input if it is not one. */
function canonicalIp(s: string): string {
  const b = parseIp(s);
  return b ? ipToString(b) : s;
}

const DAY = 86_400_000;

/** The rule names canonicalSpki() reports, with the clause each enforces. */
const SPKI_RULES: readonly (readonly [string, string])[] = [
  ['e_spki_rsa_encryption_parameter_not_null', 'RFC 3279 §2.3.1; RFC 4055 §1.2 (zlint)'],
  ['e_spki_rsa_public_key_not_der', 'RFC 8017 A.1.1; X.690 §8.3.2'],
  ['e_spki_ec_parameters_not_named_curve', 'RFC 5480 §2.1.1'],
  ['e_spki_ec_point_not_uncompressed', 'RFC 5480 §2.2'],
  ['e_spki_bit_string_unused_bits', 'RFC 5280 §4.1.2.7; X.690 §8.6'],
];

/** Extensions this CA understands; any other critical extension is refused (RFC 5280 §4.2). */
const KNOWN_EXTENSIONS = new Set<string>([
  id_ce.subjectKeyIdentifier, id_ce.keyUsage, id_ce.subjectAltName, id_ce.basicConstraints, id_ce.nameConstraints,
  id_ce.cRLDistributionPoints, id_ce.certificatePolicies, id_ce.authorityKeyIdentifier, id_ce.extKeyUsage, id_pe_authorityInfoAccess,
]);

const time = (m: CertificateModel, which: 'notBefore' | 'notAfter') =>
  checkTimeEncoding(m.tbs, which === 'notBefore' ? m.notBeforeTlv : m.notAfterTlv);

/** The ca-invariants.md §2.1 check list for certificates. Names follow zlint where a zlint rule exists. */
export const CERTIFICATE_RULES: readonly LintRule<CertificateModel>[] = [
  // Version
  { name: 'e_cert_extensions_version_not_3', source: 'RFC 5280 §4.1.2.1', check: (m) => (m.extensions.length > 0 && m.version !== 2 ? 'extensions present but version is not v3' : undefined) },
  { name: 'e_cert_unique_identifier_present', source: 'RFC 5280 §4.1.2.8 (CAs MUST NOT generate)', check: (m) => (m.hasUniqueIds ? 'issuerUniqueID/subjectUniqueID present' : undefined) },
  // Signature algorithm
  { name: 'e_signature_algorithm_not_allowed', source: 'RFC 5280 §4.1.1.2; BR 7.1.3.2', check: (m) => (signatureAlgorithmFromIdentifier(m.signatureAlgorithm) ? undefined : 'tbsCertificate.signature is not one of the allowed canonical AlgorithmIdentifiers') },
  // Serial
  { name: 'e_serial_number_not_positive', source: 'RFC 5280 §4.1.2.2', check: (m) => (m.serial.length === 0 || m.serial[0]! & 0x80 || m.serial.every((b) => b === 0) ? 'serial is not a positive integer' : undefined) },
  { name: 'e_serial_number_longer_than_20_octets', source: 'RFC 5280 §4.1.2.2', check: (m) => (m.serial.length > 20 ? `serial is ${m.serial.length} octets` : undefined) },
  {
    name: 'e_serial_number_low_entropy', source: 'BR 7.1 (≥ 64 bits from a CSPRNG)',
    check: (m) => {
      const significant = m.serial[0] === 0 ? m.serial.length - 1 : m.serial.length;
      return significant < 8 ? `serial has ${significant} significant octets; at least 8 (64 random bits) required` : undefined;
    },
  },
  // Issuer / subject
  { name: 'e_issuer_field_empty', source: 'RFC 5280 §4.1.2.4', check: (m) => (m.issuer.length <= 2 ? 'issuer Name is empty' : undefined) },
  {
    name: 'e_issuer_dn_not_byte_identical_to_ca_subject', source: 'RFC 5280 §4.1.2.4; BR 7.1.2.6',
    check: (m) => {
      const expected = m.ctx.issuer?.subjectName ?? m.subject;
      return bytesEqual(m.issuer, expected) ? undefined : m.ctx.issuer ? 'issuer differs from the issuing CA subject' : 'self-signed certificate whose issuer differs from its subject';
    },
  },
  ...SUBJECT_STRING_RULES,
  { name: 'e_ca_subject_field_empty', source: 'RFC 5280 §4.1.2.6', check: (m) => (m.isCa && m.subject.length <= 2 ? 'CA certificate with empty subject' : undefined) },
  { name: 'e_subject_empty_without_san', source: 'RFC 5280 §4.1.2.6', check: (m) => (m.subject.length <= 2 && !m.san ? 'empty subject and no subjectAltName' : undefined) },
  // Validity encoding
  {
    name: 'e_wrong_time_format_pre2050', source: 'RFC 5280 §4.1.2.5',
    check: (m) => (['notBefore', 'notAfter'] as const).map((w) => time(m, w).problem && `${w}: ${time(m, w).problem}`).filter((x): x is string => !!x),
  },
  {
    name: 'e_validity_not_after_before_not_before', source: 'RFC 5280 §4.1.2.5',
    check: (m) => {
      const nb = time(m, 'notBefore').date;
      const na = time(m, 'notAfter').date;
      return nb && na && na.getTime() <= nb.getTime() ? 'notAfter is not after notBefore' : undefined;
    },
  },
  {
    name: 'e_ca_not_before_outside_1_day', source: 'BR 7.1.2.10.1 / ca-invariants §2.1',
    check: (m) => {
      const nb = time(m, 'notBefore').date;
      if (!m.isCa || !nb) return undefined;
      const now = m.ctx.now.getTime();
      return nb.getTime() > now || nb.getTime() < now - DAY ? 'CA notBefore not within [signing − 1 day, signing]' : undefined;
    },
  },
  {
    name: 'e_sub_cert_not_before_outside_48_hours', source: 'BR 7.1.2.7 / ca-invariants §2.1',
    check: (m) => {
      const nb = time(m, 'notBefore').date;
      if (m.isCa || !nb) return undefined;
      return Math.abs(nb.getTime() - m.ctx.now.getTime()) > 2 * DAY ? 'subscriber notBefore more than 48 h from signing time' : undefined;
    },
  },
  {
    name: 'e_not_after_exceeds_issuer', source: 'Boulder ca.go (child notAfter ≤ issuer notAfter)',
    check: (m) => {
      const na = time(m, 'notAfter').date;
      return m.ctx.issuer && na && na.getTime() > m.ctx.issuer.notAfter.getTime() ? 'notAfter is after the issuer notAfter' : undefined;
    },
  },
  { name: 'e_cert_already_expired', source: 'operational', check: (m) => { const na = time(m, 'notAfter').date; return na && na.getTime() <= m.ctx.now.getTime() ? 'notAfter is not in the future' : undefined; } },
  // Extensions in general
  {
    name: 'e_ext_duplicate_extension', source: 'RFC 5280 §4.2',
    check: (m) => { const s = new Set<string>(); return m.extensions.filter((e) => (s.has(e.oid) ? true : (s.add(e.oid), false))).map((e) => `${e.oid} appears more than once`); },
  },
  { name: 'e_ext_unknown_critical', source: 'RFC 5280 §4.2', check: (m) => m.extensions.filter((e) => e.critical && !KNOWN_EXTENSIONS.has(e.oid)).map((e) => `unknown critical extension ${e.oid}`) },
  { name: 'e_ext_critical_false_encoded', source: 'X.690 §11.5 (DEFAULT value not encoded)', check: (m) => m.extensions.filter((e) => e.criticalFalseEncoded).map((e) => `${e.oid} encodes critical FALSE`) },
  { name: 'e_ext_value_undecodable', source: 'RFC 5280 §4.2', check: (m) => m.undecodable.map((o) => `extension ${o} does not decode`) },
  // basicConstraints
  { name: 'e_ca_basic_constraints_missing', source: 'RFC 5280 §4.2.1.9', check: (m) => (m.keyUsage?.has('keyCertSign') && !m.basicConstraints ? 'keyCertSign without basicConstraints' : undefined) },
  { name: 'e_basic_constraints_not_critical', source: 'RFC 5280 §4.2.1.9; OpenSSL -x509_strict', check: (m) => (m.isCa && !m.ext(id_ce.basicConstraints)!.critical ? 'CA basicConstraints not critical' : undefined) },
  {
    name: 'e_path_len_constraint_improperly_included', source: 'RFC 5280 §4.2.1.9',
    check: (m) => (m.basicConstraints?.pathLenConstraint !== undefined && (!m.isCa || !m.keyUsage?.has('keyCertSign')) ? 'pathLenConstraint without cA=TRUE and keyCertSign' : undefined),
  },
  // keyUsage
  { name: 'e_ca_key_usage_missing', source: 'RFC 5280 §4.2.1.3', check: (m) => (m.isCa && !m.keyUsage ? 'CA certificate without keyUsage' : undefined) },
  { name: 'e_ca_key_usage_not_critical', source: 'BR 7.1.2.10.7', check: (m) => (m.isCa && m.keyUsage && !m.ext(id_ce.keyUsage)!.critical ? 'CA keyUsage not critical' : undefined) },
  { name: 'e_ca_key_cert_sign_not_set', source: 'BR 7.1.2.10.7', check: (m) => (m.isCa && m.keyUsage && !m.keyUsage.has('keyCertSign') ? 'CA keyUsage lacks keyCertSign' : undefined) },
  { name: 'e_ca_crl_sign_not_set', source: 'BR 7.1.2.10.7', check: (m) => (m.isCa && m.keyUsage && !m.keyUsage.has('cRLSign') ? 'CA keyUsage lacks cRLSign' : undefined) },
  { name: 'e_key_cert_sign_without_ca', source: 'RFC 5280 §4.2.1.3', check: (m) => (!m.isCa && (m.keyUsage?.has('keyCertSign') || m.keyUsage?.has('cRLSign')) ? 'keyCertSign/cRLSign on a non-CA certificate' : undefined) },
  { name: 'e_key_usage_no_bits_set', source: 'RFC 5280 §4.2.1.3', check: (m) => (m.keyUsage && m.keyUsage.size === 0 ? 'keyUsage with no bit set' : undefined) },
  { name: 'e_key_usage_not_minimal_der', source: 'X.690 §11.2.2', check: (m) => { const e = m.ext(id_ce.keyUsage); if (!e) return undefined; const c = value(e.value, readSingle(e.value)); const last = c[c.length - 1] ?? 0; return c.length > 1 && (last === 0 || (last & ((1 << c[0]!) - 1)) !== 0 || (last & (1 << c[0]!)) === 0) ? 'keyUsage BIT STRING has trailing zero bits' : undefined; } },
  { name: 'e_sub_cert_key_usage_missing', source: 'ca-invariants §2.1 (profile rule)', check: (m) => (!m.isCa && !m.keyUsage ? 'subscriber certificate without keyUsage' : undefined) },
  {
    name: 'e_ec_leaf_key_usage_encipherment', source: 'RFC 5480 §3; BR 7.1.2.7.11',
    check: (m) => (!m.isCa && isEcKey(m) && (m.keyUsage?.has('keyEncipherment') || m.keyUsage?.has('dataEncipherment')) ? 'EC key with keyEncipherment/dataEncipherment' : undefined),
  },
  {
    name: 'e_ec_leaf_key_usage_missing_digital_signature', source: 'BR 7.1.2.7.11',
    check: (m) => (!m.isCa && isEcKey(m) && m.keyUsage && !m.keyUsage.has('digitalSignature') ? 'EC subscriber key without digitalSignature' : undefined),
  },
  {
    name: 'e_rsa_leaf_key_usage_unusable', source: 'BR 7.1.2.7.11',
    check: (m) => (!m.isCa && isRsaKey(m) && m.keyUsage && !m.keyUsage.has('digitalSignature') && !m.keyUsage.has('keyEncipherment') ? 'RSA subscriber key with neither digitalSignature nor keyEncipherment' : undefined),
  },
  // EKU
  { name: 'e_eku_any_extended_key_usage', source: 'ca-invariants §2.1', check: (m) => (m.eku?.includes(anyExtendedKeyUsage) ? 'anyExtendedKeyUsage present' : undefined) },
  { name: 'e_root_ca_extended_key_usage_present', source: 'BR 7.1.2.1.2', check: (m) => (m.isCa && m.selfIssued && m.eku ? 'root certificate carries extendedKeyUsage' : undefined) },
  { name: 'e_sub_cert_eku_missing', source: 'BR 7.1.2.7.10', check: (m) => (!m.isCa && !m.eku ? 'subscriber certificate without extendedKeyUsage' : undefined) },
  { name: 'e_eku_empty', source: 'RFC 5280 §4.2.1.12', check: (m) => (m.eku && m.eku.length === 0 ? 'extendedKeyUsage with no purpose' : undefined) },
  // SKI / AKI
  { name: 'e_ext_subject_key_identifier_missing_ca', source: 'RFC 5280 §4.2.1.2', check: (m) => (m.isCa && !m.ski ? 'CA certificate without subjectKeyIdentifier' : undefined) },
  { name: 'e_ext_subject_key_identifier_critical', source: 'RFC 5280 §4.2.1.2', check: (m) => (m.ext(id_ce.subjectKeyIdentifier)?.critical ? 'subjectKeyIdentifier marked critical' : undefined) },
  {
    name: 'e_ext_authority_key_identifier_missing', source: 'RFC 5280 §4.2.1.1; BR 7.1.2.11.1',
    check: (m) => (m.ctx.issuer && !m.ext(id_ce.authorityKeyIdentifier) ? 'authorityKeyIdentifier missing on a CA-issued certificate' : undefined),
  },
  { name: 'e_ext_authority_key_identifier_critical', source: 'RFC 5280 §4.2.1.1', check: (m) => (m.ext(id_ce.authorityKeyIdentifier)?.critical ? 'authorityKeyIdentifier marked critical' : undefined) },
  { name: 'e_ext_authority_key_identifier_no_key_identifier', source: 'RFC 5280 §4.2.1.1', check: (m) => (m.aki && !m.aki.keyIdentifier ? 'AKI without keyIdentifier' : undefined) },
  { name: 'e_ext_authority_key_identifier_has_issuer_serial', source: 'BR 7.1.2.11.1', check: (m) => (m.aki && (m.aki.authorityCertIssuer || m.aki.authorityCertSerialNumber) ? 'AKI uses the issuer/serial form' : undefined) },
  {
    name: 'e_ext_authority_key_identifier_not_issuer_ski', source: 'RFC 5280 §4.2.1.1',
    check: (m) => {
      if (!m.aki?.keyIdentifier) return undefined;
      const expected = m.ctx.issuer?.ski ?? m.ski;
      return expected && !bytesEqual(new Uint8Array(m.aki.keyIdentifier.buffer), expected) ? 'AKI keyIdentifier differs from the issuer SKI' : undefined;
    },
  },
  // nameConstraints
  { name: 'e_name_constraint_on_non_ca', source: 'RFC 5280 §4.2.1.10', check: (m) => (m.ext(id_ce.nameConstraints) && !m.isCa ? 'nameConstraints on a non-CA certificate' : undefined) },
  { name: 'e_ext_name_constraints_not_critical', source: 'RFC 5280 §4.2.1.10', check: (m) => (m.ext(id_ce.nameConstraints) && !m.ext(id_ce.nameConstraints)!.critical ? 'nameConstraints not critical' : undefined) },
  {
    name: 'e_name_constraint_empty', source: 'RFC 5280 §4.2.1.10',
    check: (m) => (m.nameConstraints && !m.nameConstraints.permittedSubtrees?.length && !m.nameConstraints.excludedSubtrees?.length ? 'nameConstraints with no subtrees' : undefined),
  },
  {
    name: 'e_name_constraint_minimum_or_maximum', source: 'RFC 5280 §4.2.1.10 (minimum 0, maximum absent)',
    check: (m) => [...(m.nameConstraints?.permittedSubtrees ?? []), ...(m.nameConstraints?.excludedSubtrees ?? [])].some((s) => s.minimum !== 0 || s.maximum !== undefined) ? 'subtree with minimum ≠ 0 or a maximum' : undefined,
  },
  {
    name: 'e_name_constraints_violated', source: 'RFC 5280 §4.2.1.10, §6.1.3 (b)-(c) (issuer certificates of the whole chain)',
    check: (m) => {
      if (!m.ctx.issuerChain) return undefined;
      const sans: SanEntry[] = (m.san ?? []).flatMap((n): SanEntry[] =>
        n.dNSName !== undefined ? [{ type: 'dns', value: n.dNSName }] : n.rfc822Name !== undefined ? [{ type: 'email', value: n.rfc822Name }] : n.iPAddress !== undefined ? [{ type: 'ip', value: n.iPAddress }] : [],
      );
      const names = constrainedNames(sans, decodeName(m.subject), !m.isCa);
      return nameConstraintViolations(chainNameConstraints(m.ctx.issuerChain), names).map(describeViolation);
    },
  },
  // CRL distribution points
  { name: 'e_sub_cert_crl_distribution_points_missing', source: 'BR 7.1.2.11.2 / ca-invariants §2.1', check: (m) => (m.ctx.issuer && !m.ext(id_ce.cRLDistributionPoints) ? 'CA-issued certificate without cRLDistributionPoints' : undefined) },
  { name: 'w_root_ca_contains_crl_distribution_points', source: 'BR 7.1.2.1 (SHOULD NOT)', check: (m) => (!m.ctx.issuer && m.ext(id_ce.cRLDistributionPoints) ? 'self-signed certificate with cRLDistributionPoints' : undefined) },
  { name: 'e_crl_distribution_points_critical', source: 'BR 7.1.2.11.2', check: (m) => (m.ext(id_ce.cRLDistributionPoints)?.critical ? 'cRLDistributionPoints marked critical' : undefined) },
  {
    name: 'e_crl_distribution_points_shape', source: 'BR 7.1.2.11.2; RFC 5280 §4.2.1.13',
    check: (m) => {
      if (!m.crlDp) return undefined;
      if (m.crlDp.length !== 1) return 'not exactly one DistributionPoint';
      const dp = m.crlDp[0]!;
      if (dp.reasons || dp.cRLIssuer) return 'DistributionPoint has reasons or cRLIssuer';
      const names = dp.distributionPoint?.fullName;
      if (!names?.length) return 'DistributionPoint without fullName';
      return names.every((n) => n.uniformResourceIdentifier?.startsWith('http://')) ? undefined : 'fullName entries must be http:// URIs';
    },
  },
  // AIA
  { name: 'e_aia_marked_critical', source: 'RFC 5280 §4.2.2.1', check: (m) => (m.ext(id_pe_authorityInfoAccess)?.critical ? 'authorityInfoAccess marked critical' : undefined) },
  {
    name: 'e_aia_ca_issuers_not_http', source: 'RFC 5280 §4.2.2.1; BR 7.1.2.7.7',
    check: (m) => (m.aia?.some((a) => !a.accessLocation.uniformResourceIdentifier?.startsWith('http://')) ? 'AIA accessLocation not an http:// URI' : undefined),
  },
  // SAN
  { name: 'e_ext_san_empty', source: 'RFC 5280 §4.2.1.6', check: (m) => (m.ext(id_ce.subjectAltName) && (!m.san || m.san.length === 0) ? 'subjectAltName present but empty' : undefined) },
  { name: 'e_ext_san_not_critical_without_subject', source: 'RFC 5280 §4.2.1.6', check: (m) => (m.subject.length <= 2 && m.ext(id_ce.subjectAltName) && !m.ext(id_ce.subjectAltName)!.critical ? 'empty subject but SAN not critical' : undefined) },
  { name: 'w_ext_san_critical_with_subject', source: 'RFC 5280 §4.2.1.6 (SHOULD NOT)', check: (m) => (m.subject.length > 2 && m.ext(id_ce.subjectAltName)?.critical ? 'SAN critical although the subject is not empty' : undefined) },
  { name: 'e_san_dns_name_not_preferred_syntax', source: 'RFC 5280 §4.2.1.6; RFC 1034 §3.5', check: (m) => (m.san ?? []).filter((n) => n.dNSName !== undefined && !isPreferredDnsName(n.dNSName)).map((n) => `DNS name ${JSON.stringify(n.dNSName)} is not in preferred syntax`) },
  {
    name: 'e_san_ip_bad_length', source: 'RFC 5280 §4.2.1.6 (4 or 16 octets)',
    check: (m) => (m.san ?? []).filter((n) => n.ipLength !== undefined && n.ipLength !== 4 && n.ipLength !== 16).map((n) => `IP SAN ${n.iPAddress} is not 4 or 16 octets`),
  },
  {
    name: 'e_subject_common_name_not_from_san', source: 'BR 7.1.4.3 (zlint e_subject_common_name_not_exactly_from_san)',
    check: (m) => {
      const names = (m.san ?? []).flatMap((n) => (n.dNSName !== undefined ? [n.dNSName.toLowerCase()] : n.iPAddress !== undefined ? [canonicalIp(n.iPAddress)] : []));
      if (m.isCa || names.length === 0) return undefined;
      const cns = decodeName(m.subject).filter((a) => a.type === 'CN').map((a) => a.value);
      return cns.filter((cn) => !names.includes(cn.toLowerCase()) && !names.includes(canonicalIp(cn))).map((cn) => `CN ${JSON.stringify(cn)} is not one of the DNS/IP subjectAltNames`);
    },
  },
  { name: 'e_san_uri_or_other_in_leaf', source: 'profile: only dNSName/iPAddress/rfc822Name are issued', check: (m) => (m.san ?? []).filter((n) => n.dNSName === undefined && n.iPAddress === undefined && n.rfc822Name === undefined).map(() => 'SAN entry of a type this CA never issues') },
  // Keys: one key, one encoding (canonical-spki.ts)
  ...SPKI_RULES.map(([name, source]): LintRule<CertificateModel> => ({
    name,
    source,
    check: (m) => canonicalSpki(m.spki).problems.filter((p) => p.rule === name).map((p) => p.message),
  })),
  {
    name: 'e_public_key_policy', source: 'BR 6.1.5, 6.1.6, 6.1.1.3',
    check: (m) => {
      try {
        checkKeyPolicy(m.spki, m.ctx.keyPolicy ?? DEFAULT_KEY_POLICY);
        return undefined;
      } catch (e) {
        if (e instanceof CsrError) return `${e.code}: ${e.message}`;
        throw e;
      }
    },
  },
];
