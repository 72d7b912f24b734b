/**
 * OpenVPN's own static key file format ("OpenVPN Static key V1", as written by
 * `openvpn --genkey secret FILE`; src/openvpn/crypto.c write_key_file / read_key_file): 2048
 * bits = 256 bytes, hex, 16 bytes per line between the BEGIN/END lines, `#` comment lines
 * before. Used for `tls-crypt` (OpenVPN 2.4+), which takes the whole 256-byte key.
 * Pure: bytes in, text out and back.
 */
import { ExportError } from './export-error.js';

export const STATIC_KEY_BYTES = 256;
const BEGIN = '-----BEGIN OpenVPN Static key V1-----';
const END = '-----END OpenVPN Static key V1-----';

export function encodeOpenvpnStaticKey(key: Uint8Array): string {
  if (key.length !== STATIC_KEY_BYTES) throw new RangeError(`an OpenVPN static key is ${STATIC_KEY_BYTES} bytes, not ${key.length}`);
  const hex = Buffer.from(key).toString('hex');
  const lines: string[] = [];
  for (let i = 0; i < hex.length; i += 32) lines.push(hex.slice(i, i + 32));
  return ['#', '# 2048 bit OpenVPN static key', '#', BEGIN, ...lines, END, ''].join('\n');
}

/** The 256 key bytes of a static key file; `EXPORT_TLS_CRYPT_KEY_INVALID` when it is not one. */
export function decodeOpenvpnStaticKey(text: string): Uint8Array {
  const body = text.split(/\r?\n/);
  const b = body.indexOf(BEGIN);
  const e = body.indexOf(END);
  const hex = b >= 0 && e > b ? body.slice(b + 1, e).join('').trim() : '';
  if (!/^[0-9a-f]{512}$/i.test(hex)) {
    throw new ExportError('EXPORT_TLS_CRYPT_KEY_INVALID', 'the tls-crypt key file is not an OpenVPN static key (V1, 2048 bits)', {
      hint: 'Create one with `ca openvpn tls-crypt-key create` (or `openvpn --genkey secret FILE`).',
    });
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
