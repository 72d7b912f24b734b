import type { IssuerInfo } from './cert/certificate-content.js';
import { CaError } from './errors.js';
import { parseExtensionList } from './lint/certificate-model.js';
import type { CaProfile } from './profile/profile-types.js';
import type { CaRecord, CaStore } from './store.js';
import { children, readSingle, slice, value } from './x509/der.js';
import { tbsFieldTlvs, validityDates } from './x509/tbs-fields.js';
import { subjectKeyIdentifier } from './x509/key-identifier.js';
import { id_ce } from './x509/oids.js';

/**
 * Thin adapter (issuance side): what the engine needs to know about an issuing CA, read from
 * its stored certificate, so issuer name and AKI are byte-identical to the CA certificate's
 * subject and SKI (RFC 5280 §4.1.2.4, §4.2.1.1). Read with the strict DER reader, slicing the
 * signed bytes (every `ca sign` runs this once; the asn1-schema object model cost a single
 * `ca sign` about 20 ms for the four fields it needs, issue #14).
 */
export function issuerInfoFromCertificate(der: Uint8Array, profile: CaProfile, ancestors: readonly Uint8Array[] = []): IssuerInfo {
  let fields: CaCertificateFields;
  try {
    fields = caCertificateFields(der);
  } catch (e) {
    throw new CaError('CA_ISSUER_CERT_MALFORMED', `the stored CA certificate does not parse (${e instanceof Error ? e.message : String(e)})`, { cause: e, hint: 'Run `ca db check`.' });
  }
  return { ...fields, profile, chain: [der, ...ancestors] };
}

type CaCertificateFields = Pick<IssuerInfo, 'subjectName' | 'ski' | 'notBefore' | 'notAfter' | 'spki'>;

/** Without a subjectKeyIdentifier extension the key identifier is computed (RFC 5280 §4.2.1.2 method 1). */
function caCertificateFields(der: Uint8Array): CaCertificateFields {
  const f = tbsFieldTlvs(der);
  const spki = slice(der, f.spki).slice();
  let ski: Uint8Array | undefined;
  const extsT = f.rest.find((t) => t.tag === 0xa3);
  const [list] = extsT ? children(der, extsT) : [];
  const skiExt = list ? parseExtensionList(der, list).find((e) => e.oid === id_ce.subjectKeyIdentifier) : undefined;
  if (skiExt) {
    const keyId = readSingle(skiExt.value); // KeyIdentifier ::= OCTET STRING, inside extnValue
    if (keyId.tag !== 0x04) throw new Error('subjectKeyIdentifier is not an OCTET STRING');
    ski = value(skiExt.value, keyId).slice();
  }
  return {
    subjectName: slice(der, f.subject).slice(),
    ski: ski ?? subjectKeyIdentifier(spki),
    ...validityDates(der, f.validity),
    spki,
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
