import { createHash, randomBytes } from 'node:crypto';
import type { HashAlgorithm } from './signer.js';

/**
 * EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with MGF1 over the same hash and salt length = hash length
 * (the parameters cardca's RSASSA-PSS AlgorithmIdentifiers announce). For cards that only do raw
 * RSA (PIV): the host builds the encoded message, the card applies the private key.
 */
const NODE_HASH: Readonly<Record<HashAlgorithm, string>> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

function mgf1(hash: string, seed: Uint8Array, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let counter = 0, off = 0; off < len; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = createHash(hash).update(seed).update(c).digest();
    block.copy(out, off, 0, Math.min(block.length, len - off));
    off += block.length;
  }
  return out;
}

/**
 * EM of `emBits` bits (emLen bytes) over node hash `h` (any node digest name, so the emulator's
 * SHA-1/SHA-224 cases share this code). Throws RangeError when emLen is too short.
 */
export function emsaPssWithHash(h: string, mHash: Uint8Array, emBits: number, salt: Uint8Array = randomBytes(mHash.length)): Uint8Array {
  const hLen = mHash.length;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + salt.length + 2) throw new RangeError('RSA modulus too short for PSS with this hash');
  const mPrime = Buffer.concat([Buffer.alloc(8), mHash, salt]);
  const H = createHash(h).update(mPrime).digest();
  const db = Buffer.alloc(emLen - hLen - 1);
  db[emLen - salt.length - hLen - 2] = 0x01;
  Buffer.from(salt).copy(db, emLen - salt.length - hLen - 1);
  const mask = mgf1(h, H, db.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  return new Uint8Array(Buffer.concat([db, H, Buffer.of(0xbc)]));
}

/** Encoded message of `modBits - 1` bits, left-padded to the modulus length in bytes (ready for raw RSA). */
export function emsaPssEncode(hash: HashAlgorithm, mHash: Uint8Array, modBits: number, salt: Uint8Array = randomBytes(mHash.length)): Uint8Array {
  const em = emsaPssWithHash(NODE_HASH[hash], mHash, modBits - 1, salt);
  const k = Math.ceil(modBits / 8);
  const out = new Uint8Array(k);
  out.set(em, k - em.length);
  return out;
}

export function hashOfLength(len: number): HashAlgorithm {
  if (len === 32) return 'SHA-256';
  if (len === 48) return 'SHA-384';
  if (len === 64) return 'SHA-512';
  throw new RangeError(`no supported hash is ${len} bytes long`);
}
