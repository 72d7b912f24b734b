import { bytesEqual, concatBytes } from '../../common/hex.js';
import type { SignatureAlgorithm } from '../../crypto/signer.js';
import { canonicalEcdsaDer, signatureAlgorithmInfo } from '../../crypto/algorithms.js';
import { CaError } from '../errors.js';
import { children, encodeTlv, readSingle, slice, tlvHeader } from '../x509/der.js';
import { signatureAlgorithmIdentifier } from '../x509/signature-algorithm-identifier.js';

/**
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
 * (RFC 5280 §4.1). The TBS bytes are embedded verbatim: re-encoding them could change what the
 * signature covers. The outer AlgorithmIdentifier comes from the same table as the one inside
 * the TBS, and is checked to be identical (RFC 5280 §4.1.1.2).
 */
export function assembleCertificate(tbsDer: Uint8Array, alg: SignatureAlgorithm, signature: Uint8Array): Uint8Array {
  return assembleSigned(tbsDer, alg, signature, 2);
}

/**
 * What a signed object has around its TBS: the outer SEQUENCE header and signatureAlgorithm ‖
 * signatureValue, after checking the TBS was built for `alg` and the signature is DER.
 */
export function signedEnvelope(
  tbsDer: Uint8Array,
  alg: SignatureAlgorithm,
  signature: Uint8Array,
  sigFieldIndex: number,
): { header: Uint8Array; tail: Uint8Array } {
  const algDer = signatureAlgorithmIdentifier(alg);
  const fields = children(tbsDer, readSingle(tbsDer));
  const inner = fields[sigFieldIndex];
  if (!inner || !bytesEqual(slice(tbsDer, inner), algDer)) {
    throw new CaError('CA_ALGORITHM_MISMATCH', `the TBS was built for a different signature algorithm than ${alg}`, {
      hint: 'Sign with the algorithm the TBS was built for.',
    });
  }
  if (signature.length === 0) throw new CaError('CA_EMPTY_SIGNATURE', 'the signer returned an empty signature');
  if (signatureAlgorithmInfo(alg).family === 'ecdsa') {
    // Ecdsa-Sig-Value must be DER (RFC 5480 §2.2, X.690 §10): strict parse, minimal INTEGERs.
    // A signer returning BER is a driver bug; refusing it keeps every issued certificate DER.
    // 66 octets is the largest field (P-521), used as an upper bound only.
    try {
      signature = canonicalEcdsaDer(signature, 66);
    } catch (e) {
      throw new CaError('CA_SIGNATURE_ENCODING', `the signer returned a malformed ECDSA signature: ${(e as Error).message}`, { cause: e });
    }
  }
  // BIT STRING with 0 unused bits (X.690 §8.6.2).
  const bitString = encodeTlv(0x03, concatBytes(Uint8Array.of(0), signature));
  const tail = concatBytes(algDer, bitString);
  return { header: tlvHeader(0x30, tbsDer.length + tail.length), tail };
}

/**
 * Shared by certificates and CRLs. `sigFieldIndex` is the position of the inner `signature`
 * field: 2 in a TBSCertificate (after version and serial), 1 in a v2 TBSCertList (after version).
 */
export function assembleSigned(tbsDer: Uint8Array, alg: SignatureAlgorithm, signature: Uint8Array, sigFieldIndex: number): Uint8Array {
  const { header, tail } = signedEnvelope(tbsDer, alg, signature, sigFieldIndex);
  // The outer SEQUENCE is written into one buffer with one copy of the TBS.
  const out = new Uint8Array(header.length + tbsDer.length + tail.length);
  out.set(header, 0);
  out.set(tbsDer, header.length);
  out.set(tail, header.length + tbsDer.length);
  return out;
}
