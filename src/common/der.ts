/**
 * The one strict DER TLV reader (ITU-T X.690 §8.1, §10) of the host side. Used to slice exact
 * byte ranges out of encoded structures (TBS inside a certificate, issuer Name inside a TBS) so
 * comparisons are made on the bytes that were signed, never on a re-encoding, and to split
 * ECDSA signatures (crypto/algorithms.ts). Lengths up to 4 octets (objects up to 4 GiB: a CRL
 * of millions of entries is one TLV). Card-side BER-TLV (APDU data objects) is a different
 * encoding with its own reader (card/tlv.ts).
 */
export interface Tlv {
  /** Identifier octet (single-byte tags only; X.509 needs no high-tag-number form). */
  readonly tag: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly valueStart: number;
  /** Offset just past the last content octet. */
  readonly end: number;
}

export class DerError extends Error {}

export function readTlv(buf: Uint8Array, off: number): Tlv {
  return readTlvInto(buf, off, { tag: 0, start: 0, valueStart: 0, end: 0 });
}

/** A Tlv a walker fills again and again (`readTlvInto`). */
export type MutableTlv = { -readonly [K in keyof Tlv]: Tlv[K] };

/**
 * `readTlv` into `out`, for walks over a million TLVs (a CRL's entries) that must not allocate
 * an object per TLV. Same checks, same errors. Returns `out`.
 */
export function readTlvInto(buf: Uint8Array, off: number, out: MutableTlv): MutableTlv {
  if (off + 2 > buf.length) throw new DerError(`truncated DER at offset ${off}`);
  const tag = buf[off]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`high-tag-number form at offset ${off}`);
  let len = buf[off + 1]!;
  let p = off + 2;
  if (len === 0x80) throw new DerError(`indefinite length at offset ${off} (BER, not DER)`);
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n > 4 || p + n > buf.length) throw new DerError(`bad length at offset ${off}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    // X.690 §10.1: the definite form must use the minimum number of octets.
    if (len < 0x80 || buf[p] === 0) throw new DerError(`non-minimal length at offset ${off}`);
    p += n;
  }
  if (p + len > buf.length) throw new DerError(`truncated DER value at offset ${off}`);
  out.tag = tag;
  out.start = off;
  out.valueStart = p;
  out.end = p + len;
  return out;
}

/** The child TLVs of a constructed TLV. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let p = parent.valueStart;
  while (p < parent.end) {
    const t = readTlv(buf, p);
    if (t.end > parent.end) throw new DerError('child overruns its parent');
    out.push(t);
    p = t.end;
  }
  return out;
}

export function slice(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.start, t.end);
}

export function value(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.valueStart, t.end);
}

/** Read one top-level TLV and require that it spans the whole buffer (no trailing bytes). */
export function readSingle(buf: Uint8Array): Tlv {
  const t = readTlv(buf, 0);
  if (t.end !== buf.length) throw new DerError(`${buf.length - t.end} trailing byte(s) after the DER value`);
  return t;
}

/** Encode a TLV with a definite minimal length. */
/** Header octets of a definite-length TLV (X.690 §8.1.3, minimal length form). */
export function tlvHeader(tag: number, len: number): Uint8Array {
  if (len < 0x80) return Uint8Array.of(tag, len);
  const lb: number[] = [];
  for (let l = len; l > 0; l = Math.floor(l / 256)) lb.unshift(l & 0xff);
  return Uint8Array.of(tag, 0x80 | lb.length, ...lb);
}

export function encodeTlv(tag: number, content: Uint8Array): Uint8Array {
  const hdr = tlvHeader(tag, content.length);
  const out = new Uint8Array(hdr.length + content.length);
  out.set(hdr);
  out.set(content, hdr.length);
  return out;
}

/** OBJECT IDENTIFIER content octets → dotted string (X.690 §8.19); '' for no arcs. */
export function decodeOid(c: Uint8Array): string {
  const arcs: bigint[] = [];
  let v = 0n;
  for (let i = 0; i < c.length; i++) {
    v = (v << 7n) | BigInt(c[i]! & 0x7f);
    if (!(c[i]! & 0x80)) {
      arcs.push(v);
      v = 0n;
    }
  }
  if (arcs.length === 0) return '';
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

/** Dotted OID → OBJECT IDENTIFIER content octets (X.690 §8.19), the inverse of `decodeOid`. */
export function encodeOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((a) => {
    if (!/^(0|[1-9][0-9]*)$/.test(a)) throw new DerError(`bad OID arc in ${dotted}`);
    return BigInt(a);
  });
  if (arcs.length < 2 || arcs[0]! > 2n || (arcs[0]! < 2n && arcs[1]! > 39n)) throw new DerError(`bad OID ${dotted}`);
  const out: number[] = [];
  for (const v of [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)]) {
    const g: number[] = [Number(v & 0x7fn)];
    for (let x = v >> 7n; x > 0n; x >>= 7n) g.unshift(Number(x & 0x7fn) | 0x80);
    out.push(...g);
  }
  return Uint8Array.from(out);
}

/** Every TLV inside `buf` read strictly, constructed ones (X.690 §8.1.2.5 bit 6) recursively. */
export function walkDer(buf: Uint8Array, t: Tlv = readSingle(buf)): void {
  if (t.tag & 0x20) for (const c of children(buf, t)) walkDer(buf, c);
}
