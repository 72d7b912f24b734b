import { createHash } from 'node:crypto';

/**
 * SHA-256 (FIPS 180-4) of some bytes: the one helper for it (TBS and CSR hashes, key
 * identifiers, stored DER digests, audit data).
 */
export function sha256(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(b).digest());
}
