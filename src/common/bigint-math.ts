/** Modular arithmetic on bigint for the few places that need it (Shamir shares, RSA key rebuild, the emulators' ECDSA). */
export function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let r = 1n;
  let b = ((base % m) + m) % m;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

/** a^-1 mod m (extended Euclid); RangeError when gcd(a, m) ≠ 1. */
export function modInv(a: bigint, m: bigint): bigint {
  let [r0, r1] = [((a % m) + m) % m, m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new RangeError('not invertible');
  return ((s0 % m) + m) % m;
}

export function gcd(a: bigint, b: bigint): bigint {
  let [x, y] = [a < 0n ? -a : a, b < 0n ? -b : b];
  while (y) [x, y] = [y, x % y];
  return x;
}

/** Big-endian unsigned bytes of `v`, left-padded with zeros to `len` when shorter. */
export function bigintToBytes(v: bigint, len?: number): Uint8Array {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let bytes = Uint8Array.from(Buffer.from(hex, 'hex'));
  if (len !== undefined && bytes.length < len) {
    const padded = new Uint8Array(len);
    padded.set(bytes, len - bytes.length);
    bytes = padded;
  }
  return bytes;
}

/** The unsigned big-endian integer of `b` (0 for no bytes). */
export function bytesToBigint(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + Buffer.from(b).toString('hex'));
}
