/**
 * Full public-key validation of short-Weierstrass EC points (NIST SP 800-56A rev. 3
 * §5.6.2.3.3): not the point at infinity, coordinates in [0, p−1], on the curve. P-256 and
 * P-384 have cofactor 1, so a point on the curve is in the prime-order subgroup and the
 * n·Q = O step is implied (§5.6.2.3.3 note; SEC 1 §3.2.2.1).
 */
export interface CurveParams {
  readonly name: 'p256' | 'p384';
  readonly oid: string;
  readonly p: bigint;
  readonly a: bigint;
  readonly b: bigint;
  readonly byteLength: number;
}

/** FIPS 186-4 §D.1.2.3 and §D.1.2.4. */
export const CURVES: readonly CurveParams[] = [
  {
    name: 'p256',
    oid: '1.2.840.10045.3.1.7',
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    a: 0xffffffff00000001000000000000000000000000fffffffffffffffffffffffcn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    byteLength: 32,
  },
  {
    name: 'p384',
    oid: '1.3.132.0.34',
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    a: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffcn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    byteLength: 48,
  },
];

export type PointProblem = 'infinity' | 'compressed' | 'encoding' | 'range' | 'not-on-curve';

/** Validate an uncompressed SEC 1 point (04 ‖ X ‖ Y). Returns the problem, or undefined if valid. */
export function validatePoint(curve: CurveParams, point: Uint8Array): PointProblem | undefined {
  if (point.length === 1 && point[0] === 0) return 'infinity';
  if (point[0] === 0x02 || point[0] === 0x03) return 'compressed';
  if (point[0] !== 0x04 || point.length !== 1 + 2 * curve.byteLength) return 'encoding';
  const x = BigInt('0x' + Buffer.from(point.subarray(1, 1 + curve.byteLength)).toString('hex'));
  const y = BigInt('0x' + Buffer.from(point.subarray(1 + curve.byteLength)).toString('hex'));
  const { p, a, b } = curve;
  if (x >= p || y >= p) return 'range';
  if (x === 0n && y === 0n) return 'infinity';
  const lhs = (y * y) % p;
  const rhs = (((x * x) % p) * x + a * x + b) % p;
  if (lhs !== rhs) return 'not-on-curve';
  return undefined;
}
