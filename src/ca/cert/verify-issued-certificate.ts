import { bytesEqual } from '../../common/hex.js';
import { signatureAlgorithmInfo, verifySignature } from '../../crypto/algorithms.js';
import { sha256 } from '../../common/sha256.js';
import { verifySignatureOfDigest } from '../../crypto/verify-digest.js';
import type { SignatureAlgorithm } from '../../crypto/signer.js';
import { CaError } from '../errors.js';
import { children, readSingle, slice, value, walkDer } from '../x509/der.js';
import { signatureAlgorithmFromIdentifier } from '../x509/signature-algorithm-identifier.js';

export interface VerifiedSigned {
  readonly algorithm: SignatureAlgorithm;
  /** The exact TBS bytes inside the signed object. */
  readonly tbs: Uint8Array;
}

/**
 * Split a signed X.509 object (certificate or CRL: SEQUENCE { tbs, algorithm, BIT STRING }),
 * check that the TBS is byte-identical to the one that was linted and stored (Boulder's
 * `tbsCertIsDeterministic`), that inner and outer AlgorithmIdentifiers are identical
 * (RFC 5280 §4.1.1.2 / §5.1.1.2), and that the signature verifies with the issuer key.
 */
export function verifySignedObject(
  der: Uint8Array,
  expectedTbs: Uint8Array,
  issuerSpki: Uint8Array,
  sigFieldIndex: number,
  what: string,
): VerifiedSigned {
  return verifySigned(der, { tbs: expectedTbs }, issuerSpki, sigFieldIndex, what);
}

export interface VerifiedSignedByDigest extends VerifiedSigned {
  /** SHA-256 of the signed object's TBS octets, hashed here from those octets. */
  readonly tbsSha256: Uint8Array;
}

/**
 * `verifySignedObject` for a TBS known by its SHA-256 (a CRL's: hashed once as it was written,
 * stored with the intent): the signed object's TBS octets are hashed once, here, and must give
 * that hash (the TBS identity, as strong as comparing the octets: SHA-256 is collision
 * resistant), and the signature is verified on that same digest (verify-digest.ts) instead of
 * hashing the TBS a second time. The digest is returned for the store's own identity check.
 */
export function verifySignedObjectByDigest(der: Uint8Array, expectedTbsSha256: Uint8Array, issuerSpki: Uint8Array, sigFieldIndex: number, what: string): VerifiedSignedByDigest {
  const r = verifySigned(der, { sha256: expectedTbsSha256 }, issuerSpki, sigFieldIndex, what);
  return { algorithm: r.algorithm, tbs: r.tbs, tbsSha256: r.digest! };
}

type ExpectedTbs = { readonly tbs: Uint8Array } | { readonly sha256: Uint8Array };

/** `digest`: the SHA-256 of the TBS octets, made only when the TBS is expected by its hash. */
function verifySigned(der: Uint8Array, expected: ExpectedTbs, issuerSpki: Uint8Array, sigFieldIndex: number, what: string): VerifiedSigned & { readonly digest?: Uint8Array } {
  let parts;
  try {
    parts = children(der, readSingle(der));
  } catch (e) {
    throw new CaError('CA_ISSUED_MALFORMED', `the assembled ${what} is not valid DER`, { cause: e });
  }
  if (parts.length !== 3 || parts[0]!.tag !== 0x30 || parts[1]!.tag !== 0x30 || parts[2]!.tag !== 0x03) {
    throw new CaError('CA_ISSUED_MALFORMED', `the assembled ${what} does not have the shape SEQUENCE { tbs, alg, BIT STRING }`);
  }
  const tbs = slice(der, parts[0]!);
  // By digest: the one hash of the signed bytes (what is released), compared with the hash made
  // as the TBS was written. Else octet for octet, natively (a JavaScript loop over 40 MB was ~50 ms).
  const digest = 'sha256' in expected ? sha256(tbs) : undefined;
  const same = 'sha256' in expected ? bytesEqual(digest!, expected.sha256) : Buffer.from(tbs.buffer, tbs.byteOffset, tbs.byteLength).equals(expected.tbs);
  if (!same) {
    throw new CaError('CA_TBS_MISMATCH', `the ${what}'s TBS differs from the linted and stored TBS`, {
      hint: 'Do not release it: treat as misissuance, the serial stays burnt.',
    });
  }
  const outerAlg = slice(der, parts[1]!);
  const innerFields = children(tbs, readSingle(tbs));
  const inner = innerFields[sigFieldIndex];
  if (!inner || !bytesEqual(slice(tbs, inner), outerAlg)) {
    throw new CaError('CA_ALGORITHM_MISMATCH', `the ${what}'s outer signatureAlgorithm differs from the one in the TBS`);
  }
  const algorithm = signatureAlgorithmFromIdentifier(outerAlg);
  if (!algorithm) throw new CaError('CA_ALGORITHM_MISMATCH', `the ${what} uses an unsupported AlgorithmIdentifier`);
  const bits = value(der, parts[2]!);
  if (bits.length < 2 || bits[0] !== 0) throw new CaError('CA_ISSUED_MALFORMED', `the ${what}'s signature BIT STRING is malformed`);
  let ok = false;
  try {
    ok = digest && signatureAlgorithmInfo(algorithm).hash === 'SHA-256'
      ? verifySignatureOfDigest(issuerSpki, algorithm, digest, bits.subarray(1), tbs)
      : verifySignature(issuerSpki, algorithm, tbs, bits.subarray(1));
  } catch (e) {
    throw new CaError('CA_SIGNATURE_INVALID', `the ${what}'s signature could not be checked: ${(e as Error).message}`, { cause: e });
  }
  if (!ok) {
    throw new CaError('CA_SIGNATURE_INVALID', `the ${what}'s signature does not verify with the issuer public key`, {
      hint: 'The card signed with a different key or the signature was corrupted; do not release the result.',
    });
  }
  return digest ? { algorithm, tbs, digest } : { algorithm, tbs };
}

/**
 * Check an issued certificate: the TBS byte-identical to `expectedTbs` (the TBS that was built,
 * linted and stored), inner and outer AlgorithmIdentifier identical, the signature verifying
 * with `issuerSpki` (DER SubjectPublicKeyInfo), and the whole certificate strict DER (every TLV
 * walked: X.690 §10). The TBS is not parsed again: it is the exact bytes the lint passed, so
 * only the envelope (SEQUENCE { tbs, algorithm, BIT STRING }) and the signature are new here.
 * Throws `CaError` otherwise.
 */
export function verifyIssuedCertificate(der: Uint8Array, expectedTbs: Uint8Array, issuerSpki: Uint8Array): VerifiedSigned {
  // First, so that nothing below meets a TLV the strict reader refuses as an untyped error.
  try {
    walkDer(der);
  } catch (e) {
    throw new CaError('CA_ISSUED_MALFORMED', `the issued certificate is not strict DER: ${(e as Error).message}`, { cause: e });
  }
  return verifySignedObject(der, expectedTbs, issuerSpki, 2, 'certificate');
}
