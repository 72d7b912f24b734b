import { encodeTlv } from './der.js';

/** Content octets of the minimal two's-complement DER INTEGER for a non-negative bigint (X.690 §8.3). */
export function bigintToIntegerContent(n: bigint): Uint8Array {
  if (n < 0n) throw new RangeError('negative integers are not used here');
  let hex = n.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = '00' + hex;
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

export function encodeInteger(n: bigint): Uint8Array {
  return encodeTlv(0x02, bigintToIntegerContent(n));
}

/** Value of the content octets of a DER INTEGER (two's complement). */
export function integerContentToBigint(c: Uint8Array): bigint {
  if (c.length === 0) return 0n;
  let v = BigInt('0x' + Buffer.from(c).toString('hex'));
  if (c[0]! & 0x80) v -= 1n << BigInt(c.length * 8);
  return v;
}
