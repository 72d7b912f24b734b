import type { SignatureAlgorithm } from '../../crypto/signer.js';
import { assembleSigned, signedEnvelope } from '../cert/assemble-certificate.js';
import { verifySignedObject, type VerifiedSigned } from '../cert/verify-issued-certificate.js';
import { parseExtensionList } from '../lint/certificate-model.js';
import { CaError } from '../errors.js';
import { tbsCertListFields, walkCrlEntries } from './crl-structure.js';

/**
 * CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue } (RFC 5280
 * §5.1). In a v2 TBSCertList the `signature` field is the second element (after version).
 */
export function assembleCrl(tbsDer: Uint8Array, alg: SignatureAlgorithm, signature: Uint8Array): Uint8Array {
  return assembleSigned(tbsDer, alg, signature, 1);
}

/**
 * `assembleCrl` written around the TBS inside `frame` (write-tbs-cert-list.ts: the TBS's own
 * allocation, with room before and after it that nothing else uses): the SEQUENCE header goes
 * right before the TBS and the signature right after, and the CRL is a view of the frame, so the
 * 40 MB TBS of a million entries is not copied a second time. The TBS octets are not written.
 * Without room (a TBS from anywhere else), a copy as `assembleCrl`.
 */
export function assembleCrlInFrame(frame: Uint8Array, tbsDer: Uint8Array, alg: SignatureAlgorithm, signature: Uint8Array): Uint8Array {
  const { header, tail } = signedEnvelope(tbsDer, alg, signature, 1);
  const before = tbsDer.byteOffset - frame.byteOffset;
  const after = frame.byteOffset + frame.length - (tbsDer.byteOffset + tbsDer.length);
  if (tbsDer.buffer !== frame.buffer || before < header.length || after < tail.length) return assembleSigned(tbsDer, alg, signature, 1);
  const start = before - header.length;
  frame.set(header, start);
  frame.set(tail, before + tbsDer.length);
  return frame.subarray(start, before + tbsDer.length + tail.length);
}

/**
 * Re-parse a CRL, require its TBS to equal `expectedTbs` and its signature to verify with
 * `issuerSpki`. The structure check walks every entry strictly (crl-structure.ts) with no size
 * limit: asn1js's 10,000-node cap turned every CRL past ≈ 2,000 entries into
 * CA_ISSUED_MALFORMED after the card had signed it (issue #14).
 */
export function verifyCrl(der: Uint8Array, expectedTbs: Uint8Array, issuerSpki: Uint8Array): VerifiedSigned {
  const r = verifySignedObject(der, expectedTbs, issuerSpki, 1, 'CRL');
  try {
    const f = tbsCertListFields(r.tbs);
    if (f.revoked) walkCrlEntries(r.tbs, f.revoked, () => {});
    if (f.extensions) parseExtensionList(r.tbs, f.extensions);
  } catch (e) {
    throw new CaError('CA_ISSUED_MALFORMED', `the CRL does not parse as an X.509 CertificateList: ${(e as Error).message}`, { cause: e });
  }
  return r;
}
