import type { SignatureAlgorithm } from '../../crypto/signer.js';
import { assembleSigned } from '../cert/assemble-certificate.js';
import { verifySignedObject, type VerifiedSigned } from '../cert/verify-issued-certificate.js';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateList } from '@peculiar/asn1-x509';
import { CaError } from '../errors.js';

/**
 * CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue } (RFC 5280
 * §5.1). In a v2 TBSCertList the `signature` field is the second element (after version).
 */
export function assembleCrl(tbsDer: Uint8Array, alg: SignatureAlgorithm, signature: Uint8Array): Uint8Array {
  return assembleSigned(tbsDer, alg, signature, 1);
}

/** Re-parse a CRL, require its TBS to equal `expectedTbs` and its signature to verify with `issuerSpki`. */
export function verifyCrl(der: Uint8Array, expectedTbs: Uint8Array, issuerSpki: Uint8Array): VerifiedSigned {
  const r = verifySignedObject(der, expectedTbs, issuerSpki, 1, 'CRL');
  try {
    AsnConvert.parse(der, CertificateList);
  } catch (e) {
    throw new CaError('CA_ISSUED_MALFORMED', 'the CRL does not parse as an X.509 CertificateList', { cause: e });
  }
  return r;
}
