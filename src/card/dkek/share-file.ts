import { createCipheriv, createDecipheriv } from 'node:crypto';
import { CardError } from '../errors.js';
import { md5Iterate, type Progress } from './md5-iterate.js';

/**
 * The DKEK share file of `sc-hsm-tool --create-dkek-share` / `--import-dkek-share`
 * (OpenSC `sc-hsm-tool.c` `create_dkek_share`/`import_dkek_share`; card-protocols.md §3.1):
 * exactly 64 bytes, `"Salted__"` ‖ salt (8) ‖ AES-256-CBC with PKCS#7 padding of the 32-byte
 * share (48 bytes), key and IV from OpenSSL `EVP_BytesToKey(aes-256-cbc, md5, salt, password,
 * 10 000 000)`.
 */
export const SHARE_FILE_SIZE = 64;
export const SHARE_SIZE = 32;
/** sc-hsm-tool's fixed iteration count (`opt_iter`). */
export const SC_HSM_TOOL_ITERATIONS = 10_000_000;
const MAGIC = Buffer.from('Salted__', 'latin1');

export interface KdfOptions {
  /** EVP_BytesToKey iteration count; only tests use anything but sc-hsm-tool's 10^7. */
  iterations?: number;
  progress?: Progress;
}

/**
 * OpenSSL `EVP_BytesToKey` with MD5 for AES-256-CBC: D_i = MD5^count(D_{i−1} ‖ password ‖ salt),
 * key = D1 ‖ D2, IV = D3.
 */
export function evpBytesToKeyMd5(password: Uint8Array, salt: Uint8Array, count: number, progress?: Progress): { key: Buffer; iv: Buffer } {
  const parts: Uint8Array[] = [];
  let prev: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < 3; i++) {
    const input = Buffer.concat([prev, password, salt]);
    prev = md5Iterate(input, count, progress, i * count, 3 * count);
    input.fill(0);
    parts.push(prev);
  }
  const all = Buffer.concat(parts);
  parts.forEach((p) => p.fill(0));
  const key = Buffer.from(all.subarray(0, 32));
  const iv = Buffer.from(all.subarray(32, 48));
  all.fill(0);
  return { key, iv };
}

/** Encrypt a 32-byte share under a password with an 8-byte salt: the 64-byte file. */
export function encryptShare(share: Uint8Array, password: Uint8Array, salt: Uint8Array, options: KdfOptions = {}): Uint8Array {
  if (share.length !== SHARE_SIZE) throw new RangeError('a DKEK share is 32 bytes');
  if (salt.length !== 8) throw new RangeError('the salt is 8 bytes');
  const { key, iv } = evpBytesToKeyMd5(password, salt, options.iterations ?? SC_HSM_TOOL_ITERATIONS, options.progress);
  try {
    const c = createCipheriv('aes-256-cbc', key, iv);
    return new Uint8Array(Buffer.concat([MAGIC, salt, c.update(share), c.final()]));
  } finally {
    key.fill(0);
    iv.fill(0);
  }
}

/** Check the file's size and magic before any password is asked for (nothing else is knowable). */
export function checkShareFile(file: Uint8Array, name = 'the share file'): void {
  if (file.length !== SHARE_FILE_SIZE) {
    throw new CardError('DKEK_SHARE_FILE_INVALID', `${name} is ${file.length} bytes; a DKEK share file is exactly ${SHARE_FILE_SIZE}`, {
      hint: 'Give the file written by `ca card dkek create-share` or `sc-hsm-tool --create-dkek-share`.',
    });
  }
  if (!Buffer.from(file.subarray(0, 8)).equals(MAGIC)) {
    throw new CardError('DKEK_SHARE_FILE_INVALID', `${name} does not start with "Salted__": not a DKEK share file`, {
      hint: 'Give the file written by `ca card dkek create-share` or `sc-hsm-tool --create-dkek-share`.',
    });
  }
}

/** Decrypt a share file. A wrong password shows as bad padding or a wrong length (as in sc-hsm-tool). */
export function decryptShare(file: Uint8Array, password: Uint8Array, options: KdfOptions = {}): Uint8Array {
  checkShareFile(file);
  const { key, iv } = evpBytesToKeyMd5(password, file.subarray(8, 16), options.iterations ?? SC_HSM_TOOL_ITERATIONS, options.progress);
  let plain: Buffer | undefined;
  try {
    const d = createDecipheriv('aes-256-cbc', key, iv);
    plain = Buffer.concat([d.update(file.subarray(16)), d.final()]);
  } catch {
    plain = undefined;
  } finally {
    key.fill(0);
    iv.fill(0);
  }
  if (!plain || plain.length !== SHARE_SIZE) {
    plain?.fill(0);
    throw new CardError('DKEK_SHARE_PASSWORD_WRONG', 'the password does not decrypt this DKEK share', {
      hint: 'Check the password (or the threshold shares) of this share file; nothing was sent to the card.',
    });
  }
  const out = new Uint8Array(plain);
  plain.fill(0);
  return out;
}
