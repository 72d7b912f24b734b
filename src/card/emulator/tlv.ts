/**
 * Minimal BER-TLV (ISO 7816-4 §5.2 / ISO 8825-1) for the emulator: multi-byte tags, definite
 * lengths up to 4 length bytes. Enough for SmartCard-HSM command data and CV certificates.
 */
export interface Tlv {
  tag: number;
  value: Uint8Array;
  /** Offset of the first byte after this TLV in the parsed buffer. */
  end: number;
}

export class TlvError extends Error {}

/** Parse one TLV at `offset`. Throws TlvError on truncation. */
export function readTlv(buf: Uint8Array, offset = 0): Tlv {
  let p = offset;
  const need = (n: number) => {
    if (p + n > buf.length) throw new TlvError('truncated TLV');
  };
  need(1);
  let tag = buf[p++]!;
  if ((tag & 0x1f) === 0x1f) {
    // Subsequent tag bytes while bit 8 is set (ISO 8825-1 §8.1.2.4).
    let b: number;
    do {
      need(1);
      b = buf[p++]!;
      tag = tag * 256 + b;
    } while (b & 0x80);
  }
  need(1);
  let len = buf[p++]!;
  if (len === 0x80 || len > 0x84) throw new TlvError('unsupported TLV length');
  if (len > 0x80) {
    const n = len - 0x80;
    need(n);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
  }
  need(len);
  return { tag, value: buf.subarray(p, p + len), end: p + len };
}

/** Parse a concatenation of TLVs (skipping 00/FF padding bytes between them). */
export function parseTlvs(buf: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  let p = 0;
  while (p < buf.length) {
    if (buf[p] === 0x00 || buf[p] === 0xff) {
      p++;
      continue;
    }
    const t = readTlv(buf, p);
    out.push(t);
    p = t.end;
  }
  return out;
}

export function findTlv(list: readonly Tlv[], tag: number): Uint8Array | undefined {
  return list.find((t) => t.tag === tag)?.value;
}

function encodeLength(n: number): number[] {
  if (n < 0x80) return [n];
  if (n < 0x100) return [0x81, n];
  if (n < 0x10000) return [0x82, n >> 8, n & 0xff];
  return [0x83, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

function encodeTag(tag: number): number[] {
  const out: number[] = [];
  let t = tag;
  do {
    out.unshift(t & 0xff);
    t = Math.floor(t / 256);
  } while (t > 0);
  return out;
}

/** Encode tag ‖ length ‖ value; value parts are concatenated. */
export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((n, x) => n + x.length, 0);
  const head = [...encodeTag(tag), ...encodeLength(len)];
  const out = new Uint8Array(head.length + len);
  out.set(head, 0);
  let off = head.length;
  for (const x of parts) {
    out.set(x, off);
    off += x.length;
  }
  return out;
}
