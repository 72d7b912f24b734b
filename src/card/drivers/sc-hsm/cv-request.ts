import { createPublicKey } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
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
  readonly algorithm: KeyAlgorithm;
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

/** Convert the 7F49 public-key template to SPKI DER (RFC 5480 / RFC 8017 via node's JWK import). */
export function publicKeyFromTemplate(pub: Uint8Array): { spki: Uint8Array; algorithm: KeyAlgorithm } {
  const point = findTlv(pub, 0x86);
  if (point) {
    const fieldBytes = (point.length - 1) / 2;
    const crv = fieldBytes === 32 ? 'P-256' : fieldBytes === 48 ? 'P-384' : fieldBytes === 66 ? 'P-521' : undefined;
    if (!crv || point[0] !== 0x04) throw bad(`unsupported EC point of ${point.length} bytes`);
    const curve = crv === 'P-256' ? p256 : crv === 'P-384' ? p384 : p521;
    curve.Point.fromBytes(point).assertValidity(); // rejects points not on the curve
    const key = createPublicKey({
      format: 'jwk',
      key: { kty: 'EC', crv, x: b64u(point.subarray(1, 1 + fieldBytes)), y: b64u(point.subarray(1 + fieldBytes)) },
    });
    const algorithm: KeyAlgorithm = crv === 'P-256' ? 'p256' : crv === 'P-384' ? 'p384' : 'p521';
    return { spki: new Uint8Array(key.export({ format: 'der', type: 'spki' })), algorithm };
  }
  const n = findTlv(pub, 0x81);
  const e = findTlv(pub, 0x82);
  if (!n || !e) throw bad('public key template has neither an EC point nor an RSA modulus/exponent');
  const mod = strip(n);
  const bits = mod.length * 8 - Math.clz32(mod[0]!) + 24;
  const algorithm: KeyAlgorithm | undefined = bits === 2048 ? 'rsa2048' : bits === 3072 ? 'rsa3072' : bits === 4096 ? 'rsa4096' : undefined;
  if (!algorithm) throw bad(`unsupported RSA modulus of ${bits} bits`);
  const key = createPublicKey({ format: 'jwk', key: { kty: 'RSA', n: b64u(mod), e: b64u(strip(e)) } });
  return { spki: new Uint8Array(key.export({ format: 'der', type: 'spki' })), algorithm };
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
