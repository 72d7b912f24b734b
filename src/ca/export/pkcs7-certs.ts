/**
 * Certs-only PKCS#7 / CMS SignedData ("degenerate" SignedData, RFC 5652 §5.1 and the
 * certs-only usage of RFC 8551 §3.2.2 / `.p7b`): version 1, no digest algorithms, eContentType
 * id-data without content, the certificates, and no SignerInfo. Built with the declarative
 * @peculiar/asn1-cms classes, so no crypto engine (and no pkijs global engine) is involved.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  CertificateChoices,
  CertificateSet,
  ContentInfo,
  DigestAlgorithmIdentifiers,
  EncapsulatedContentInfo,
  id_data,
  id_signedData,
  SignedData,
  SignerInfos,
} from '@peculiar/asn1-cms';
import { parseCertificateDer } from './chain-input.js';

/** DER ContentInfo holding `certs` (DER) in the given order. */
export function buildCertsOnlyPkcs7(certs: readonly Uint8Array[]): Uint8Array {
  const set = new CertificateSet(
    certs.map((der, i) => new CertificateChoices({ certificate: parseCertificateDer(der, `certificate ${i}`).cert })),
  );
  const signedData = new SignedData({
    version: 1, // RFC 5652 §5.1: no attribute certs, no "other" formats, eContentType id-data
    digestAlgorithms: new DigestAlgorithmIdentifiers([]),
    encapContentInfo: new EncapsulatedContentInfo({ eContentType: id_data }),
    certificates: set,
    signerInfos: new SignerInfos([]),
  });
  const contentInfo = new ContentInfo({ contentType: id_signedData, content: AsnConvert.serialize(signedData) });
  return new Uint8Array(AsnConvert.serialize(contentInfo));
}
