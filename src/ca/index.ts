/**
 * Public API of the CA engine core (profiles, CSR checks, certificate/CRL builders, lint,
 * chain helpers). Re-exports only; no logic here.
 */
export * from './errors.js';
export type * from './profile/profile-types.js';
export { loadProfiles, parseProfile, HIERARCHY_FILE } from './profile/load-profiles.js';
export { YamlSource } from './profile/yaml-source.js';

export type { ParsedCsr } from './csr/parsed-csr.js';
export { parseCsr, MAX_CSR_BYTES, type ParseCsrOptions } from './csr/parse-csr.js';
export { checkKeyPolicy, DEFAULT_KEY_POLICY, type KeyPolicy, type CheckedKey } from './csr/key-policy.js';
export { checkCsrKeyPolicy, checkKeyNotReused, type KeyLookupResult, type KeyReuseOptions } from './csr/check-csr.js';

export type { TbsCertificateInput, ExtensionInput } from './cert/tbs-certificate-input.js';
export {
  certificateContent,
  NOT_BEFORE_BACKDATE_MS,
  type CertificateContent,
  type CertificateContentRequest,
  type IssuerInfo,
  type ValidityRequest,
} from './cert/certificate-content.js';
export { buildTbsCertificate, checkSerial } from './cert/build-tbs-certificate.js';
export { applySubjectPolicy } from './cert/subject-policy.js';
export { applySanPolicy, isPreferredDnsName } from './cert/san-policy.js';
export { assembleCertificate } from './cert/assemble-certificate.js';
export { verifyIssuedCertificate, type VerifiedSigned } from './cert/verify-issued-certificate.js';

export type { TbsCertListInput, CrlEntryInput, CrlReason } from './crl/tbs-cert-list-input.js';
export { buildTbsCertList } from './crl/build-tbs-cert-list.js';
export { assembleCrl, verifyCrl } from './crl/assemble-crl.js';

export {
  lintTbsCertificate,
  lintCertificate,
  assertTbsCertificateLintClean,
  assertCertificateLintClean,
  type CertificateLintContext,
} from './lint/lint-certificate.js';
export { lintTbsCertList, lintCrl, assertTbsCertListLintClean, assertCrlLintClean, type CrlLintContext } from './lint/lint-crl.js';
export { CERTIFICATE_RULES } from './lint/certificate-rules.js';
export { CRL_RULES } from './lint/crl-rules.js';

export { pemEncode, pemDecode, pemDecodeAll, fingerprint, orderChain, certificateNames, type PemLabel } from './chain.js';

export type { SanEntry } from './x509/extensions.js';
export { encodeName, decodeName, formatName, type NameAttribute } from './x509/name.js';
export { subjectKeyIdentifier, spkiSha256 } from './x509/key-identifier.js';
export { bigintToIntegerContent, integerContentToBigint } from './x509/integer.js';
export { signatureAlgorithmIdentifier } from './x509/signature-algorithm-identifier.js';
