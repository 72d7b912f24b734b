import { ecdsaRawToDer } from '../../crypto/algorithms.js';
import { ecdsaSignRaw } from './ecdsa-native.js';
import { namedCurves, type CurveName as SharedCurveName, type NamedCurve } from '../../crypto/ec-curves.js';

/**
 * The EC curves this emulator generates keys on: every curve of 256 bits and more that a
 * SmartCard-HSM 4K generates (NIST P, brainpool r1, secp256k1; table in src/crypto/ec-curves.ts),
 * so OpenSC can make "foreign" keys on it. The SmartCard-HSM identifies a curve by its explicit
 * domain parameters in the GAKP template (card-protocols.md §3.1), so we match on the prime `p`
 * (tag 81) and emit the full set (81–87) in CV requests.
 */
export type CurveName = SharedCurveName;

export interface CurveInfo {
  readonly name: CurveName;
  /** node:crypto namedCurve. */
  readonly nodeName: string;
  /** namedCurve OID. */
  readonly oid: string;
  /** Field element length in bytes. */
  readonly size: number;
  readonly bits: number;
  readonly p: bigint;
  readonly a: bigint;
  readonly b: bigint;
  readonly n: bigint;
  readonly gx: bigint;
  readonly gy: bigint;
  readonly h: bigint;
  /** ECDSA over `hash` as given (no re-hash); DER output. */
  sign(hash: Uint8Array, d: Uint8Array): Uint8Array;
  /** ECDSA over `hash`; plain r ‖ s output (BSI TR-03111 §5.2.1, used inside CVCs). */
  signPlain(hash: Uint8Array, d: Uint8Array): Uint8Array;
  /** ECDSA verification of a DER signature over `hash` (no re-hash) for the point `q`. */
  verify(signature: Uint8Array, hash: Uint8Array, q: Uint8Array): boolean;
  /** The uncompressed public point 04 ‖ X ‖ Y of the private scalar `d`. */
  publicPoint(d: Uint8Array): Uint8Array;
}

function make(c: NamedCurve): CurveInfo {
  const ecdsaCurve = { nodeName: c.nodeName, size: c.fieldBytes, bits: c.orderBits, n: c.n };
  return {
    name: c.name,
    nodeName: c.nodeName,
    oid: c.oid,
    bits: c.orderBits,
    size: c.fieldBytes,
    p: c.p,
    a: c.a,
    b: c.b,
    n: c.n,
    gx: c.gx,
    gy: c.gy,
    h: c.h,
    // The card signs the hash it is given (no re-hash), DER output (card-protocols.md §3.1).
    // ecdsa-native.ts says why not noble's sign.
    sign: (hash, d) => ecdsaRawToDer(ecdsaSignRaw(ecdsaCurve, hash, d)),
    signPlain: (hash, d) => ecdsaSignRaw(ecdsaCurve, hash, d),
    verify: (signature, hash, q) => {
      try {
        return c.noble.verify(signature, hash, q, { prehash: false, format: 'der', lowS: false });
      } catch {
        return false;
      }
    },
    publicPoint: (d) => c.noble.getPublicKey(d, false),
  };
}

let table: CurveInfo[] | undefined;

export function curves(): readonly CurveInfo[] {
  table ??= namedCurves().map(make);
  return table;
}

export function curveByName(name: string): CurveInfo | undefined {
  return curves().find((c) => c.name === name);
}

export function curveByPrime(p: bigint): CurveInfo | undefined {
  return curves().find((c) => c.p === p);
}
