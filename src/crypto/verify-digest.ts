import { constants, publicDecrypt } from 'node:crypto';
import { emsaPkcs1v15Encode, signatureAlgorithmInfo, verifySignature } from './algorithms.js';
import { curveByName } from './ec-curves.js';
import { publicKeyObject } from './public-key-object.js';
import type { SignatureAlgorithm } from './signer.js';

/**
 * Verify a signature in X.509 form over data whose hash under `alg`'s hash algorithm is
 * `digest`, without hashing the data again: a CRL's TBS of a million entries is 40 MB, and it
 * was hashed once as it was written (write-tbs-cert-list.ts). What the signature covers is the
 * digest (RFC 8017 §8.2.2 step 3, §9.2; FIPS 186-5 §6.4.2 steps 2-3), so the verdict is the one
 * `verifySignature` gives on the data the digest was made of.
 *   - ECDSA on P-256/P-384/P-521: @noble/curves on the digest (no prehash; high S accepted, as
 *     X.509 and OpenSSL do: FIPS 186-5 has no low-S rule);
 *   - RSASSA-PKCS1-v1_5: the signature raised to e (no padding) must equal EMSA-PKCS1-v1_5 of
 *     the digest octet for octet (RFC 8017 §8.2.2 steps 2-4, the strictest form of the check);
 *   - RSASSA-PSS and any other curve: `data` is verified the ordinary way (its salt check needs
 *     the EMSA-PSS-VERIFY steps, not written here), when given; otherwise false.
 */
export function verifySignatureOfDigest(spki: Uint8Array, alg: SignatureAlgorithm, digest: Uint8Array, signature: Uint8Array, data?: Uint8Array): boolean {
  const info = signatureAlgorithmInfo(alg);
  if (digest.length !== info.hashLength) return false;
  const key = publicKeyObject(spki);
  if (info.family === 'ecdsa' && key.asymmetricKeyType === 'ec') {
    const jwk = key.export({ format: 'jwk' });
    const curve = typeof jwk.crv === 'string' && ['P-256', 'P-384', 'P-521'].includes(jwk.crv) ? curveByName(jwk.crv) : undefined;
    if (curve && jwk.x && jwk.y) {
      const point = Buffer.concat([Buffer.of(0x04), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
      try {
        return curve.noble.verify(signature, digest, point, { prehash: false, lowS: false, format: 'der' });
      } catch {
        return false;
      }
    }
  }
  if (info.family === 'rsa-pkcs1' && key.asymmetricKeyType === 'rsa') {
    const k = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
    if (k === 0 || signature.length !== k) return false;
    let em: Buffer;
    try {
      em = publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, signature);
    } catch {
      return false;
    }
    return em.equals(emsaPkcs1v15Encode(info.hash, digest, k));
  }
  return data ? verifySignature(spki, alg, data, signature) : false;
}
