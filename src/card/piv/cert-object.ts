import { createRequire } from 'node:module';
import { CardError } from '../errors.js';
import { findTlv, readAllTlv, tlv } from '../tlv.js';

/**
 * The content of a PIV certificate data object (SP 800-73-4 Part 1 Appendix A, Table 10):
 * `70 <certificate> 71 <CertInfo> FE <error detection code>`. CertInfo bit 0 = 1 means the
 * certificate is gzip-compressed (OpenSC card-piv.c and yubico-piv-tool both honour it).
 */
export function encodeCertObject(der: Uint8Array): Uint8Array {
  return new Uint8Array(Buffer.concat([tlv(0x70, der), tlv(0x71, [0x00]), tlv(0xfe, [])]));
}

export function decodeCertObject(content: Uint8Array, where: string): Uint8Array | undefined {
  let items;
  try {
    items = readAllTlv(content);
  } catch (e) {
    throw new CardError('PIV_BAD_OBJECT', `the certificate object of ${where} is not a PIV certificate template`, { cause: e });
  }
  const cert = items.find((t) => t.tag === 0x70)?.value;
  if (cert === undefined || cert.length === 0) return undefined;
  const info = findTlv(content, 0x71);
  if (info && info.length > 0 && (info[0]! & 0x01) !== 0) {
    try {
      return new Uint8Array(zlibOnDemand().gunzipSync(cert));
    } catch (e) {
      throw new CardError('PIV_BAD_OBJECT', `the compressed certificate of ${where} does not decompress`, { cause: e });
    }
  }
  return cert.slice();
}

/**
 * node:zlib, loaded only for a compressed PIV certificate: imported statically it was loaded by
 * every `ca` process that loads the card stack (≈ 1.5 ms, docs/benchmarks.md).
 */
function zlibOnDemand(): typeof import('node:zlib') {
  return createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib');
}
