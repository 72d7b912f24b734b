import { createCipheriv, createDecipheriv } from 'node:crypto';
import { MGMT_KEY_LENGTH, type MgmtKeyAlgorithm } from './piv-constants.js';

/**
 * One-block ECB encryption with the PIV card management key (SP 800-73-4 Part 2 §3.2.4 and
 * Appendix A.1: the witness/challenge of GENERAL AUTHENTICATE on key 9B). 3DES works on
 * 8-byte blocks, AES on 16. Used by both the host driver and the emulated card.
 */
const CIPHER: Readonly<Record<MgmtKeyAlgorithm, string>> = {
  tdes: 'des-ede3-ecb',
  aes128: 'aes-128-ecb',
  aes192: 'aes-192-ecb',
  aes256: 'aes-256-ecb',
};

export function mgmtBlockSize(alg: MgmtKeyAlgorithm): number {
  return alg === 'tdes' ? 8 : 16;
}

function run(alg: MgmtKeyAlgorithm, key: Uint8Array, block: Uint8Array, encrypt: boolean): Uint8Array {
  if (key.length !== MGMT_KEY_LENGTH[alg]) throw new RangeError(`a ${alg} management key is ${MGMT_KEY_LENGTH[alg]} bytes, got ${key.length}`);
  if (block.length !== mgmtBlockSize(alg)) throw new RangeError(`${alg} works on ${mgmtBlockSize(alg)}-byte blocks`);
  const c = encrypt ? createCipheriv(CIPHER[alg], key, null) : createDecipheriv(CIPHER[alg], key, null);
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(block), c.final()]));
}

export function mgmtEncrypt(alg: MgmtKeyAlgorithm, key: Uint8Array, block: Uint8Array): Uint8Array {
  return run(alg, key, block, true);
}

export function mgmtDecrypt(alg: MgmtKeyAlgorithm, key: Uint8Array, block: Uint8Array): Uint8Array {
  return run(alg, key, block, false);
}
