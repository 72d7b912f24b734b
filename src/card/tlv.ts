/**
 * Minimal BER-TLV reader/writer for card data objects (ISO 7816-4 §5.2, ISO/IEC 8825-1):
 * multi-byte tags (5F29, 7F49), definite lengths up to 3 bytes. Used for FCPs, CV requests and
 * proprietary DOs; PKCS#15 structures go through the declared asn1-schema classes instead.
 */
export interface Tlv {
  readonly tag: number;
  readonly value: Uint8Array;
  /** Offset just after this TLV. */
  readonly end: number;
}

export function readTlv(buf: Uint8Array, off: number): Tlv {
  if (off >= buf.length) throw new RangeError('TLV: truncated tag');
  let tag = buf[off++]!;
  if ((tag & 0x1f) === 0x1f) {
    let b: number;
    do {
      if (off >= buf.length) throw new RangeError('TLV: truncated tag');
      b = buf[off++]!;
      tag = tag * 256 + b;
    } while (b & 0x80);
  }
  if (off >= buf.length) throw new RangeError('TLV: truncated length');
  let len = buf[off++]!;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || off + n > buf.length) throw new RangeError('TLV: bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[off++]!;
  }
  if (off + len > buf.length) throw new RangeError('TLV: value runs past the end');
  return { tag, value: buf.subarray(off, off + len), end: off + len };
}

/** All TLVs at one level. Stops at a 00 or FF filler byte (PKCS#15 files are padded). */
export function readAllTlv(buf: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  let off = 0;
  while (off < buf.length && buf[off] !== 0x00 && buf[off] !== 0xff) {
    const t = readTlv(buf, off);
    out.push(t);
    off = t.end;
  }
  return out;
}

export function findTlv(buf: Uint8Array, tag: number): Uint8Array | undefined {
  return readAllTlv(buf).find((t) => t.tag === tag)?.value;
}

export function encodeLength(len: number): number[] {
  if (len < 0x80) return [len];
  if (len < 0x100) return [0x81, len];
  if (len < 0x10000) return [0x82, len >> 8, len & 0xff];
  return [0x83, len >> 16, (len >> 8) & 0xff, len & 0xff];
}

export function tlv(tag: number, value: Uint8Array | readonly number[]): Uint8Array {
  const tagBytes: number[] = [];
  for (let t = tag; t > 0; t = Math.floor(t / 256)) tagBytes.unshift(t & 0xff);
  if (tagBytes.length === 0) tagBytes.push(0);
  return Uint8Array.from([...tagBytes, ...encodeLength(value.length), ...value]);
}
