import { curveOfKeyAlgorithm, type NamedCurve } from '../../../crypto/ec-curves.js';
import type { KeyAlgorithm } from '../../../crypto/signer.js';
import { tlv } from '../../tlv.js';

/**
 * The GENERATE ASYMMETRIC KEY PAIR template: the body of a CV certificate request
 * (BSI TR-03110-3 §C.1; card-protocols.md §3.1 "Generate a key").
 */
const OID_TA_RSA_V15_SHA256 = Uint8Array.of(0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x02, 0x01, 0x02);
const OID_TA_ECDSA_SHA256 = Uint8Array.of(0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x02, 0x02, 0x03);

export const RSA_BITS: Partial<Record<KeyAlgorithm, number>> = { rsa2048: 2048, rsa3072: 3072, rsa4096: 4096 };

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

/** What to generate: an RSA modulus size, or a named curve (table in src/crypto/ec-curves.ts). */
export type GakpKeySpec = { readonly kind: 'rsa'; readonly bits: number } | { readonly kind: 'ec'; readonly curve: NamedCurve };

/**
 * Build the GAKP data field: `5F29 01 00` (CPI), `42 <CAR>`, `7F49 {…}` (public-key template),
 * `5F20 <CHR>`. The EC template carries the full domain (81 p, 82 a, 83 b, 84 G, 85 n, 87 h),
 * as OpenSC's `sc_hsm_generate_keypair` sends it (card-sc-hsm.c builds it from the curve's
 * parameters); the RSA template gives the exponent (82) and the modulus size (02).
 */
export function buildGakp(alg: KeyAlgorithm, car: string, chr: string): Uint8Array {
  const bits = RSA_BITS[alg];
  if (bits !== undefined) return buildGakpFor({ kind: 'rsa', bits }, car, chr);
  const curve = curveOfKeyAlgorithm(alg);
  if (!curve) throw new RangeError(`unsupported key algorithm ${alg}`);
  return buildGakpFor({ kind: 'ec', curve }, car, chr);
}

export function buildGakpFor(spec: GakpKeySpec, car: string, chr: string): Uint8Array {
  let pub: Uint8Array;
  if (spec.kind === 'rsa') {
    pub = tlv(0x7f49, [...tlv(0x06, OID_TA_RSA_V15_SHA256), ...tlv(0x82, [0x01, 0x00, 0x01]), ...tlv(0x02, [spec.bits >> 8, spec.bits & 0xff])]);
  } else {
    const d = spec.curve;
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
