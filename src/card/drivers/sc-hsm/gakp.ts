import { p256, p384, p521 } from '@noble/curves/nist.js';
import type { KeyAlgorithm } from '../../../crypto/signer.js';
import { tlv } from '../../tlv.js';

/**
 * The GENERATE ASYMMETRIC KEY PAIR template: the body of a CV certificate request
 * (BSI TR-03110-3 §C.1; card-protocols.md §3.1 "Generate a key").
 */
const OID_TA_RSA_V15_SHA256 = Uint8Array.of(0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x02, 0x01, 0x02);
const OID_TA_ECDSA_SHA256 = Uint8Array.of(0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x02, 0x02, 0x03);

export const RSA_BITS: Partial<Record<KeyAlgorithm, number>> = { rsa2048: 2048, rsa3072: 3072, rsa4096: 4096 };

interface CurveDomain {
  readonly fieldBytes: number;
  readonly p: bigint;
  readonly a: bigint;
  readonly b: bigint;
  readonly gx: bigint;
  readonly gy: bigint;
  readonly n: bigint;
  readonly h: bigint;
}

/** Domain parameters of the NIST curves (FIPS 186-4 §D.1.2), taken from @noble/curves. */
export function curveDomain(alg: KeyAlgorithm): CurveDomain | undefined {
  const pick = alg === 'p256' ? p256 : alg === 'p384' ? p384 : alg === 'p521' ? p521 : undefined;
  if (!pick) return undefined;
  const c = pick.Point.CURVE();
  const fieldBytes = alg === 'p256' ? 32 : alg === 'p384' ? 48 : 66;
  return { fieldBytes, p: c.p, a: c.a, b: c.b, gx: c.Gx, gy: c.Gy, n: c.n, h: c.h };
}

export function bigToBytes(v: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let x = v;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  if (x !== 0n) throw new RangeError('integer does not fit');
  return out;
}

function minimal(v: bigint): Uint8Array {
  let len = 1;
  while (v >> BigInt(8 * len) !== 0n) len++;
  return bigToBytes(v, len);
}

/**
 * Build the GAKP data field: `5F29 01 00` (CPI), `42 <CAR>`, `7F49 {…}` (public-key template),
 * `5F20 <CHR>`.
 */
export function buildGakp(alg: KeyAlgorithm, car: string, chr: string): Uint8Array {
  const bits = RSA_BITS[alg];
  let pub: Uint8Array;
  if (bits !== undefined) {
    pub = tlv(0x7f49, [...tlv(0x06, OID_TA_RSA_V15_SHA256), ...tlv(0x82, [0x01, 0x00, 0x01]), ...tlv(0x02, [bits >> 8, bits & 0xff])]);
  } else {
    const d = curveDomain(alg);
    if (!d) throw new RangeError(`unsupported key algorithm ${alg}`);
    const g = Uint8Array.from([0x04, ...bigToBytes(d.gx, d.fieldBytes), ...bigToBytes(d.gy, d.fieldBytes)]);
    pub = tlv(0x7f49, [
      ...tlv(0x06, OID_TA_ECDSA_SHA256),
      ...tlv(0x81, bigToBytes(d.p, d.fieldBytes)),
      ...tlv(0x82, bigToBytes(d.a, d.fieldBytes)),
      ...tlv(0x83, bigToBytes(d.b, d.fieldBytes)),
      ...tlv(0x84, g),
      ...tlv(0x85, bigToBytes(d.n, d.fieldBytes)),
      ...tlv(0x87, minimal(d.h)),
    ]);
  }
  const enc = new TextEncoder();
  return Uint8Array.from([
    ...tlv(0x5f29, [0x00]),
    ...tlv(0x42, enc.encode(car)),
    ...pub,
    ...tlv(0x5f20, enc.encode(chr)),
  ]);
}
