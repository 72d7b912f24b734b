import { p256, p384, p521 } from '@noble/curves/nist.js';
import { brainpoolP256r1, brainpoolP384r1, brainpoolP512r1 } from '@noble/curves/misc.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { KeyAlgorithm } from './signer.js';

/**
 * The named EC curves a SmartCard-HSM 4K / Nitrokey HSM 2 can hold (CardContact SmartCard-HSM
 * 4K data sheet: NIST P-192..P-521, brainpoolP192r1..P512r1, secp192k1/secp256k1; we list the ones
 * of 256 bits and more). A card identifies a curve by its explicit domain parameters
 * (BSI TR-03110-3 §D.3, tags 81–87), never by name, so identification here matches the prime,
 * coefficients, base point and order, never just the key length: P-256, brainpoolP256r1 and
 * secp256k1 all have 32-byte points.
 */
export type CurveName = 'P-256' | 'P-384' | 'P-521' | 'brainpoolP256r1' | 'brainpoolP384r1' | 'brainpoolP512r1' | 'secp256k1';

type Noble = typeof p256;

export interface NamedCurve {
  readonly name: CurveName;
  /** node:crypto / OpenSSL short name. */
  readonly nodeName: string;
  /** namedCurve OID (RFC 5480 §2.1.1.1, RFC 5639 §4.1, SEC 2 §A.2). */
  readonly oid: string;
  /** Bit length of the group order n (FIPS 186-4 §6.4 truncates the digest to this). */
  readonly orderBits: number;
  /** Field element length in bytes. */
  readonly fieldBytes: number;
  /** cardca signs with this curve (only the CA/B Forum BR curves, §6.1.5). */
  readonly keyAlgorithm: KeyAlgorithm | undefined;
  readonly p: bigint;
  readonly a: bigint;
  readonly b: bigint;
  readonly gx: bigint;
  readonly gy: bigint;
  readonly n: bigint;
  readonly h: bigint;
  readonly noble: Noble;
}

function make(name: CurveName, nodeName: string, oid: string, keyAlgorithm: KeyAlgorithm | undefined, c: Noble): NamedCurve {
  const k = c.Point.CURVE();
  const bitsOf = (v: bigint) => v.toString(2).length;
  return {
    name,
    nodeName,
    oid,
    keyAlgorithm,
    orderBits: bitsOf(k.n),
    fieldBytes: Math.ceil(bitsOf(k.p) / 8),
    p: k.p,
    a: k.a,
    b: k.b,
    gx: k.Gx,
    gy: k.Gy,
    n: k.n,
    h: k.h,
    noble: c,
  };
}

let table: NamedCurve[] | undefined;

export function namedCurves(): readonly NamedCurve[] {
  table ??= [
    make('P-256', 'prime256v1', '1.2.840.10045.3.1.7', 'p256', p256),
    make('P-384', 'secp384r1', '1.3.132.0.34', 'p384', p384 as unknown as Noble),
    make('P-521', 'secp521r1', '1.3.132.0.35', 'p521', p521 as unknown as Noble),
    make('brainpoolP256r1', 'brainpoolP256r1', '1.3.36.3.3.2.8.1.1.7', undefined, brainpoolP256r1 as unknown as Noble),
    make('brainpoolP384r1', 'brainpoolP384r1', '1.3.36.3.3.2.8.1.1.11', undefined, brainpoolP384r1 as unknown as Noble),
    make('brainpoolP512r1', 'brainpoolP512r1', '1.3.36.3.3.2.8.1.1.13', undefined, brainpoolP512r1 as unknown as Noble),
    make('secp256k1', 'secp256k1', '1.3.132.0.10', undefined, secp256k1 as unknown as Noble),
  ];
  return table;
}

export function curveByName(name: string): NamedCurve | undefined {
  return namedCurves().find((c) => c.name === name || c.nodeName === name);
}

export function curveOfKeyAlgorithm(alg: KeyAlgorithm): NamedCurve | undefined {
  return namedCurves().find((c) => c.keyAlgorithm === alg);
}

/** Explicit domain parameters as a card sends them; absent fields are not compared. */
export interface DomainParameters {
  readonly p: bigint;
  readonly a?: bigint | undefined;
  readonly b?: bigint | undefined;
  readonly gx?: bigint | undefined;
  readonly gy?: bigint | undefined;
  readonly n?: bigint | undefined;
}

/**
 * The named curve with these domain parameters. The prime alone already separates every curve in
 * the table; the other parameters, when given, must match too (a curve with P-256's prime and
 * another `b` is not P-256).
 */
export function curveByDomain(d: DomainParameters): NamedCurve | undefined {
  return namedCurves().find(
    (c) =>
      c.p === d.p &&
      (d.a === undefined || c.a === d.a) &&
      (d.b === undefined || c.b === d.b) &&
      (d.gx === undefined || c.gx === d.gx) &&
      (d.gy === undefined || c.gy === d.gy) &&
      (d.n === undefined || c.n === d.n),
  );
}

/** The curves on which this uncompressed point lies (used when a card omits the domain). */
export function curvesOfPoint(point: Uint8Array): NamedCurve[] {
  return namedCurves().filter((c) => {
    if (point.length !== 1 + 2 * c.fieldBytes || point[0] !== 0x04) return false;
    try {
      c.noble.Point.fromBytes(point).assertValidity();
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * FIPS 186-4 §6.4 / SEC 1 §4.1.3 step 5: an ECDSA signer uses the leftmost `orderBits` bits of
 * the digest. Done on the host, as OpenSC does in `pkcs15-sec.c` (`sc_pkcs15_compute_signature`
 * cuts the input to the field length for EC keys), so the card never gets more bytes than its
 * field: byte-level truncation to ceil(orderBits/8); the remaining bits are dropped by the card's
 * bits2int (only P-521 has an order that is not a whole number of bytes, and SHA-512 is shorter).
 */
export function truncateDigestForCurve(h: Uint8Array, curve: NamedCurve): Uint8Array {
  const max = Math.ceil(curve.orderBits / 8);
  return h.length > max ? h.slice(0, max) : h;
}
