import { createCipheriv } from 'node:crypto';

/**
 * AES-CMAC (NIST SP 800-38B, RFC 4493) over AES-128/192/256, built on single-block AES-ECB.
 * The SmartCard-HSM authenticates its key blobs with AES-256-CMAC under Kmac
 * (card-protocols.md §3.1 "Key blob layout"); node:crypto offers no CMAC of its own.
 */
export function aesCmac(key: Uint8Array, message: Uint8Array): Uint8Array {
  const algo = key.length === 32 ? 'aes-256-ecb' : key.length === 24 ? 'aes-192-ecb' : key.length === 16 ? 'aes-128-ecb' : undefined;
  if (!algo) throw new RangeError('AES-CMAC key must be 16, 24 or 32 bytes');
  const block = (b: Uint8Array): Buffer => {
    const c = createCipheriv(algo, key, null);
    c.setAutoPadding(false);
    return Buffer.concat([c.update(b), c.final()]);
  };
  // Subkeys K1, K2: doubling in GF(2^128) with R = 0x87 (SP 800-38B §6.1).
  const dbl = (x: Uint8Array): Uint8Array => {
    const out = new Uint8Array(16);
    for (let i = 0; i < 16; i++) out[i] = ((x[i]! << 1) | (i < 15 ? x[i + 1]! >> 7 : 0)) & 0xff;
    if (x[0]! & 0x80) out[15]! ^= 0x87;
    return out;
  };
  const l = block(new Uint8Array(16));
  const k1 = dbl(l);
  const k2 = dbl(k1);
  const n = Math.max(1, Math.ceil(message.length / 16));
  const complete = message.length > 0 && message.length % 16 === 0;
  const last = new Uint8Array(16);
  const tail = message.subarray((n - 1) * 16);
  if (complete) {
    for (let i = 0; i < 16; i++) last[i] = tail[i]! ^ k1[i]!;
  } else {
    last.set(tail);
    last[tail.length] = 0x80;
    for (let i = 0; i < 16; i++) last[i]! ^= k2[i]!;
  }
  let x: Uint8Array = new Uint8Array(16);
  for (let b = 0; b < n - 1; b++) {
    const y = new Uint8Array(16);
    for (let i = 0; i < 16; i++) y[i] = x[i]! ^ message[b * 16 + i]!;
    x = block(y);
  }
  for (let i = 0; i < 16; i++) last[i]! ^= x[i]!;
  return new Uint8Array(block(last));
}
