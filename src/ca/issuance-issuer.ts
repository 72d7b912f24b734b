import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, id_ce_subjectKeyIdentifier, SubjectKeyIdentifier } from '@peculiar/asn1-x509';
import type { IssuerInfo } from './cert/certificate-content.js';
import { CaError } from './errors.js';
import type { CaProfile } from './profile/profile-types.js';
import { subjectKeyIdentifier } from './x509/key-identifier.js';

/**
 * Thin adapter (issuance side): what the engine needs to know about an issuing CA, read from
 * its stored certificate, so issuer name and AKI are byte-identical to the CA certificate's
 * subject and SKI (RFC 5280 §4.1.2.4, §4.2.1.1).
 */
export function issuerInfoFromCertificate(der: Uint8Array, profile: CaProfile): IssuerInfo {
  let cert: Certificate;
  try {
    cert = AsnConvert.parse(der, Certificate);
  } catch (e) {
    throw new CaError('CA_ISSUER_CERT_MALFORMED', 'the stored CA certificate does not parse', { cause: e, hint: 'Run `ca db check`.' });
  }
  const tbs = cert.tbsCertificate;
  const spki = new Uint8Array(AsnConvert.serialize(tbs.subjectPublicKeyInfo));
  const skiExt = tbs.extensions?.find((e) => e.extnID === id_ce_subjectKeyIdentifier);
  const ski = skiExt
    ? new Uint8Array(AsnConvert.parse(skiExt.extnValue.buffer, SubjectKeyIdentifier).buffer)
    : subjectKeyIdentifier(spki);
  return {
    subjectName: new Uint8Array(AsnConvert.serialize(tbs.subject)),
    ski,
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    spki,
    profile,
  };
}
