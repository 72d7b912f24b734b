import { createPublicKey } from 'node:crypto';
import { curveByDomain, curvesOfPoint } from '../../../crypto/ec-curves.js';
import { ecKeyType, ecSpki, rsaKeyType, type PublicKeyType } from '../../../crypto/public-key-type.js';
import type { KeyAlgorithm } from '../../../crypto/signer.js';
import { CardError } from '../../errors.js';
import { findTlv, readTlv } from '../../tlv.js';

/**
 * Parse a card-verifiable certificate or request (BSI TR-03110-3 §C.1/§C.2), as found in EF
 * `CExx` after key generation and in EF `2F02` (device certificate):
 * `7F21 { 7F4E { 5F29, 42 CAR, 7F49 pub, 5F20 CHR, … }, 5F37 sig }`, or the authenticated form
 * `67 { 7F21 …, 42, 5F37 }`.
 */
export interface CvcBody {
  readonly chr: string;
  readonly car: string | undefined;
  /** Public key as DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  /** What the key really is (rsa1024, brainpoolP256r1, …). */
  readonly keyType: PublicKeyType;
  /** The KeyAlgorithm, when cardca signs with this key type. */
  readonly algorithm: KeyAlgorithm | undefined;
}

function bad(why: string): CardError {
  return new CardError('CARD_BAD_CVC', `card returned a malformed CV certificate/request: ${why}`, {
    hint: 'The card answer is not what a SmartCard-HSM produces; run with --trace-apdu and report it.',
  });
}

const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

function strip(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

const big = (b: Uint8Array | undefined): bigint | undefined => (b && b.length > 0 ? BigInt('0x' + Buffer.from(b).toString('hex')) : undefined);

/**
 * Convert the 7F49 public-key template to SPKI DER (TR-03110-3 §D.3.1 RSA: 81 n, 82 e;
 * §D.3.3 EC: 81 p, 82 a, 83 b, 84 G, 85 r, 86 Y, 87 f). An EC curve is identified by its domain
 * parameters (as OpenSC's `sc_pkcs15emu_sc_hsm_decode_pubkey` does by matching the prime); a
 * template without them (allowed for a CVC whose issuer's domain applies) is matched by which
 * known curve the point lies on, never by its length alone.
 */
export function publicKeyFromTemplate(pub: Uint8Array): { spki: Uint8Array; keyType: PublicKeyType; algorithm: KeyAlgorithm | undefined } {
  const point = findTlv(pub, 0x86);
  if (point) {
    if (point[0] !== 0x04) throw bad(`EC point of ${point.length} bytes is not uncompressed`);
    const p = big(findTlv(pub, 0x81));
    let curve;
    if (p !== undefined) {
      const g = findTlv(pub, 0x84);
      const half = g && g.length > 1 ? (g.length - 1) / 2 : 0;
      curve = curveByDomain({
        p,
        a: big(findTlv(pub, 0x82)),
        b: big(findTlv(pub, 0x83)),
        gx: half ? big(g!.subarray(1, 1 + half)) : undefined,
        gy: half ? big(g!.subarray(1 + half)) : undefined,
        n: big(findTlv(pub, 0x85)),
      });
      if (!curve) throw bad(`EC key on a curve with prime ${p.toString(16).slice(0, 16)}… that cardca does not know`);
    } else {
      const on = curvesOfPoint(point);
      if (on.length !== 1) throw bad(on.length === 0 ? 'EC point lies on no known curve' : 'EC point without domain parameters is ambiguous');
      curve = on[0]!;
    }
    if (point.length !== 1 + 2 * curve.fieldBytes) throw bad(`EC point of ${point.length} bytes does not fit ${curve.name}`);
    try {
      curve.noble.Point.fromBytes(point).assertValidity(); // rejects points not on the curve
    } catch {
      throw bad(`EC point is not on ${curve.name}`);
    }
    const keyType = ecKeyType(curve);
    return { spki: ecSpki(curve, point), keyType, algorithm: keyType.algorithm };
  }
  const n = findTlv(pub, 0x81);
  const e = findTlv(pub, 0x82);
  if (!n || !e) throw bad('public key template has neither an EC point nor an RSA modulus/exponent');
  const mod = strip(n);
  if (mod.length === 0 || mod[0] === 0) throw bad('RSA modulus is zero');
  const bits = mod.length * 8 - Math.clz32(mod[0]!) + 24;
  const key = createPublicKey({ format: 'jwk', key: { kty: 'RSA', n: b64u(mod), e: b64u(strip(e)) } });
  const keyType = rsaKeyType(bits);
  return { spki: new Uint8Array(key.export({ format: 'der', type: 'spki' })), keyType, algorithm: keyType.algorithm };
}

/** Body fields of a CVC or CV request, without verifying its signatures. */
export function parseCvc(bytes: Uint8Array): CvcBody {
  let outer;
  try {
    outer = readTlv(bytes, 0);
  } catch (e) {
    throw bad((e as Error).message);
  }
  let cert = outer;
  if (outer.tag === 0x67) cert = readTlv(outer.value, 0);
  if (cert.tag !== 0x7f21) throw bad(`unexpected outer tag ${cert.tag.toString(16)}`);
  const body = findTlv(cert.value, 0x7f4e);
  if (!body) throw bad('no certificate body (7F4E)');
  const pub = findTlv(body, 0x7f49);
  const chr = findTlv(body, 0x5f20);
  const car = findTlv(body, 0x42);
  if (!pub || !chr) throw bad('missing public key (7F49) or holder reference (5F20)');
  const dec = new TextDecoder();
  return { chr: dec.decode(chr), car: car ? dec.decode(car) : undefined, ...publicKeyFromTemplate(pub) };
}

/** CHR of the first CVC in a byte string (EF 2F02 holds device CVC ‖ issuer CVC). */
export function chrOfFirstCvc(bytes: Uint8Array): string {
  const first = readTlv(bytes, 0);
  const cert = first.tag === 0x67 ? readTlv(first.value, 0) : first;
  if (cert.tag !== 0x7f21) throw bad('device certificate is not a CVC');
  const body = findTlv(cert.value, 0x7f4e);
  const chr = body ? findTlv(body, 0x5f20) : undefined;
  if (!chr) throw bad('device certificate has no holder reference');
  return new TextDecoder().decode(chr);
}
