import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, id_ce_subjectKeyIdentifier, SubjectKeyIdentifier } from '@peculiar/asn1-x509';
import type { IssuerInfo } from './cert/certificate-content.js';
import { CaError } from './errors.js';
import type { CaProfile } from './profile/profile-types.js';
import type { CaRecord, CaStore } from './store.js';
import { subjectKeyIdentifier } from './x509/key-identifier.js';

/**
 * Thin adapter (issuance side): what the engine needs to know about an issuing CA, read from
 * its stored certificate, so issuer name and AKI are byte-identical to the CA certificate's
 * subject and SKI (RFC 5280 §4.1.2.4, §4.2.1.1).
 */
export function issuerInfoFromCertificate(der: Uint8Array, profile: CaProfile, ancestors: readonly Uint8Array[] = []): IssuerInfo {
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
    chain: [der, ...ancestors],
  };
}

/**
 * The issuer info of a stored CA with its whole chain (its certificate, then every CA
 * certificate up to the root), so name constraints come from the certificates relying parties
 * will see (RFC 5280 §4.2.1.10, §6.1.4 (g)), not from the profiles.
 */
export function issuerInfoFromStore(store: Pick<CaStore, 'getCa'>, ca: CaRecord, profile: CaProfile): IssuerInfo {
  if (!ca.certificate) throw new CaError('CA_NOT_READY', `CA ${ca.name} has no certificate`, { hint: 'Finish its ceremony first.' });
  const ancestors: Uint8Array[] = [];
  const seen = new Set<string>([ca.name]);
  for (let p = ca.parentName; p !== undefined; ) {
    const parent = store.getCa(p);
    if (!parent?.certificate || seen.has(p)) {
      throw new CaError('CA_CHAIN_BROKEN', `the chain of CA ${ca.name} is broken at ${p}`, { hint: 'Run `ca db check`.' });
    }
    seen.add(p);
    ancestors.push(parent.certificate);
    p = parent.parentName;
  }
  return issuerInfoFromCertificate(ca.certificate, profile, ancestors);
}
