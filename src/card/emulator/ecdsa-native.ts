import { createECDH, randomBytes } from 'node:crypto';
import { bigintToBytes, bytesToBigint, modInv } from '../../common/bigint-math.js';

/** The curve parameters an ECDSA signature needs (ec-curves.ts CurveInfo has them). */
export interface EcdsaCurve {
  /** node:crypto / OpenSSL curve name. */
  readonly nodeName: string;
  /** Field element length in bytes (the length of X in a point). */
  readonly size: number;
  /** Bit length of the group order n. */
  readonly bits: number;
  readonly n: bigint;
}

/**
 * ECDSA signature generation over a given hash, with a fresh random k per signature
 * (SEC 1 v2 §4.1.3; FIPS 186-5 §6.4.1): returns r ‖ s, each as long as the order.
 *
 * Why here and not @noble/curves, which the emulator signed with before: the scalar
 * multiplication kG in JavaScript was ≈ 0.7 ms of the ≈ 1.4 ms an emulated SIGN took
 * (docs/benchmarks.md), and node:crypto has no ECDSA over a given hash (`sign()` hashes its input
 * again; the SmartCard-HSM's alg 70, MyEID's and PIV's sign the hash they are given). So kG comes
 * from OpenSSL through node:crypto's ECDH (`setPrivateKey` computes the public point natively) and
 * the two modular steps run on bigint. This is the emulated card's private-key operation, for
 * rehearsal keys only; the host verifies every signature a card returns (card/card-signer.ts).
 */
export function ecdsaSignRaw(curve: EcdsaCurve, hash: Uint8Array, d: Uint8Array): Uint8Array {
  const { n } = curve;
  const orderBytes = Math.ceil(curve.bits / 8);
  // SEC 1 §4.1.3 step 5: e is the leftmost `bits` bits of the hash (FIPS 186-5 §6.4.1 step 2).
  const e = leftmostBits(hash, curve.bits) % n;
  const x = bytesToBigint(d);
  if (x <= 0n || x >= n) throw new RangeError('EC private scalar out of range');
  const ecdh = createECDH(curve.nodeName);
  for (;;) {
    const k = randomScalar(n, curve.bits, orderBytes);
    ecdh.setPrivateKey(bigintToBytes(k, orderBytes));
    const point = ecdh.getPublicKey(); // 04 ‖ X ‖ Y
    const r = bytesToBigint(point.subarray(1, 1 + curve.size)) % n;
    if (r === 0n) continue;
    const s = (modInv(k, n) * ((e + r * x) % n)) % n;
    if (s === 0n) continue;
    const out = new Uint8Array(2 * orderBytes);
    out.set(bigintToBytes(r, orderBytes), 0);
    out.set(bigintToBytes(s, orderBytes), orderBytes);
    return out;
  }
}

/** A uniform k in [1, n-1]: `bits` random bits, drawn again when out of range (FIPS 186-5 §A.3.2). */
function randomScalar(n: bigint, bits: number, bytes: number): bigint {
  const excess = 8 * bytes - bits;
  for (;;) {
    const b = randomBytes(bytes);
    b[0] = b[0]! & (0xff >> excess);
    const k = bytesToBigint(b);
    if (k >= 1n && k < n) return k;
  }
}

function leftmostBits(hash: Uint8Array, bits: number): bigint {
  const v = bytesToBigint(hash);
  const excess = 8 * hash.length - bits;
  return excess > 0 ? v >> BigInt(excess) : v;
}
