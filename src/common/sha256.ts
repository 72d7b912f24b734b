import { createHash } from 'node:crypto';

/**
 * SHA-256 (FIPS 180-4) of some bytes: the one helper for it (TBS and CSR hashes, key
 * identifiers, stored DER digests, audit data).
 */
export function sha256(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(b).digest());
}

/** The same digest in lower-case hex: file digests in transcripts, backups and the audit log. */
export function sha256Hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** SHA-256 over bytes that arrive in pieces (a CRL's TBS as it is written, chunk by chunk). */
export function sha256Incremental(): { update(b: Uint8Array): void; digest(): Uint8Array } {
  const h = createHash('sha256');
  return { update: (b) => void h.update(b), digest: () => new Uint8Array(h.digest()) };
}
