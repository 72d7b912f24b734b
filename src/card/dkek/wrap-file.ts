import { CardError } from '../errors.js';
import { readTlv, tlv } from '../tlv.js';

/**
 * The key backup file of `sc-hsm-tool --wrap-key` / `--unwrap-key` (OpenSC `sc-hsm-tool.c`
 * `wrap_key`/`unwrap_key`): `30 { 04 <key blob>, [PRKD entry TLV from C4xx], [certificate TLV
 * from CExx] }`. cardca writes and reads exactly this, so either tool restores the other's file.
 */
export interface WrapFile {
  /** The card's key blob (KCV ‖ key type ‖ … ‖ CMAC). */
  readonly blob: Uint8Array;
  /** The PKCS#15 PrKDF entry, as one TLV (`A0…`/`30…`), if present. */
  readonly prkd: Uint8Array | undefined;
  /** The certificate (X.509 `30…`) or CV request (`67…`/`7F21…`) TLV, if present. */
  readonly certificate: Uint8Array | undefined;
}

/** Minimum blob: KCV 8, type 1, four empty length fields 8, one AES block 16, CMAC 16. */
const MIN_BLOB = 8 + 1 + 8 + 16 + 16;

function invalid(what: string): CardError {
  return new CardError('DKEK_BACKUP_FILE_INVALID', `not a usable key backup file: ${what}`, {
    hint: 'Give the file written by `ca key backup` or `sc-hsm-tool --wrap-key`; it may be truncated or damaged.',
  });
}

/** The bytes of one whole TLV at `off` (tag, length and value), like sc-hsm-tool `determineLength`. */
function wholeTlv(buf: Uint8Array, off: number): Uint8Array {
  const t = readTlv(buf, off);
  return buf.subarray(off, t.end);
}

export function encodeWrapFile(f: WrapFile): Uint8Array {
  const parts = [tlv(0x04, f.blob)];
  if (f.prkd && f.prkd.length > 0) parts.push(wholeTlv(f.prkd, 0));
  if (f.certificate && f.certificate.length > 0) parts.push(wholeTlv(f.certificate, 0));
  return tlv(0x30, Buffer.concat(parts));
}

export function parseWrapFile(file: Uint8Array): WrapFile {
  let outer;
  try {
    outer = readTlv(file, 0);
  } catch {
    throw invalid('the outer SEQUENCE is truncated');
  }
  if (outer.tag !== 0x30) throw invalid('it does not start with a SEQUENCE (30)');
  if (outer.end !== file.length) throw invalid(`${file.length - outer.end} bytes after the SEQUENCE`);
  const body = outer.value;
  let key;
  try {
    key = readTlv(body, 0);
  } catch {
    throw invalid('the key blob is truncated');
  }
  if (key.tag !== 0x04) throw invalid('the first element is not the key blob (OCTET STRING 04)');
  if (key.value.length < MIN_BLOB) throw invalid(`the key blob is ${key.value.length} bytes, too short to be one`);
  let off = key.end;
  let prkd: Uint8Array | undefined;
  let certificate: Uint8Array | undefined;
  try {
    if (off < body.length) {
      prkd = wholeTlv(body, off);
      off += prkd.length;
    }
    if (off < body.length) {
      certificate = wholeTlv(body, off);
      off += certificate.length;
    }
  } catch {
    throw invalid('the key description or certificate is truncated');
  }
  if (off !== body.length) throw invalid('unexpected data after the certificate');
  return { blob: key.value.slice(), prkd: prkd?.slice(), certificate: certificate?.slice() };
}

/** The KCV at the start of a key blob, upper-case hex. */
export function blobKcv(blob: Uint8Array): string {
  return Buffer.from(blob.subarray(0, 8)).toString('hex').toUpperCase();
}
