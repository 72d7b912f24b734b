import { createPublicKey, type KeyObject } from 'node:crypto';

/**
 * Node's KeyObject for a DER SubjectPublicKeyInfo, made once per buffer. A batch verifies every
 * certificate against the same issuer SPKI buffer and reads the key type of that buffer per
 * certificate; createPublicKey was ~10 % of a batch's host time (docs/benchmarks.md). Keyed
 * weakly by the buffer object (never by content: a caller's buffer is not copied or kept), and
 * SPKI buffers are never written to after they are made.
 */
const keys = new WeakMap<Uint8Array, KeyObject>();

export function publicKeyObject(spki: Uint8Array): KeyObject {
  let key = keys.get(spki);
  if (!key) {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    keys.set(spki, key);
  }
  return key;
}
