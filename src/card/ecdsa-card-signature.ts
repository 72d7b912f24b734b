import { ecdsaRawToDer } from '../crypto/algorithms.js';

/**
 * Read the ECDSA signature a card returns as leniently as OpenSC does, then re-encode it
 * canonically for X.509 (RFC 3279 §2.2.3, DER). OpenSC's `sc_asn1_sig_value_sequence_to_rs`
 * (`asn1.c`) decodes `r` and `s` as INTEGERs with the `SC_ASN1_UNSIGNED` flag into octet strings:
 * leading zero bytes are stripped, a missing 00 before a high bit is not an error, lengths may use
 * the long form, and bytes after the SEQUENCE are ignored. What stays an error: anything that is
 * not `SEQUENCE { INTEGER, INTEGER }`, a truncated encoding, r or s longer than the field after
 * stripping, or zero. The host verifies the result against the public key anyway.
 */
export function lenientEcdsaDerToRaw(der: Uint8Array, fieldBytes: number): Uint8Array {
  const seq = readBer(der, 0);
  if (seq.tag !== 0x30) throw new RangeError('ECDSA signature is not a SEQUENCE');
  const r = readBer(der, seq.valueStart);
  const s = readBer(der, r.end);
  if (r.tag !== 0x02 || s.tag !== 0x02 || s.end > seq.end) throw new RangeError('ECDSA signature is not SEQUENCE { INTEGER, INTEGER }');
  const out = new Uint8Array(fieldBytes * 2);
  for (const [i, t] of [r, s].entries()) {
    let v = der.subarray(t.valueStart, t.end);
    while (v.length > 0 && v[0] === 0) v = v.subarray(1);
    if (v.length === 0) throw new RangeError('ECDSA r/s is zero');
    if (v.length > fieldBytes) throw new RangeError('ECDSA r/s longer than the field');
    out.set(v, i * fieldBytes + fieldBytes - v.length);
  }
  return out;
}

/** Lenient parse, canonical DER out. */
export function canonicalCardEcdsa(der: Uint8Array, fieldBytes: number): Uint8Array {
  return ecdsaRawToDer(lenientEcdsaDerToRaw(der, fieldBytes));
}

/** One BER TLV with a single-byte tag; definite lengths, long form of up to 4 bytes, minimal or not. */
function readBer(buf: Uint8Array, off: number): { tag: number; valueStart: number; end: number } {
  if (off + 2 > buf.length) throw new RangeError('truncated ECDSA signature');
  const tag = buf[off]!;
  let len = buf[off + 1]!;
  let p = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > buf.length) throw new RangeError('bad length in ECDSA signature');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    p += n;
  }
  if (p + len > buf.length) throw new RangeError('truncated ECDSA signature');
  return { tag, valueStart: p, end: p + len };
}
