import { children, encodeTlv, readSingle, value, type Tlv } from './der.js';
import { encodeInteger, integerContentToBigint } from './integer.js';

/**
 * The canonical DER of a public key, and what keeps a given SubjectPublicKeyInfo from being it.
 *
 * One key has exactly one canonical SPKI:
 * - RSA: AlgorithmIdentifier { rsaEncryption, NULL } (RFC 3279 §2.3.1 "the parameters field MUST
 *   have ASN.1 type NULL"; RFC 4055 §1.2), BIT STRING with 0 unused bits holding the DER
 *   RSAPublicKey { modulus, publicExponent } with minimal INTEGERs (RFC 8017 A.1.1).
 * - EC: AlgorithmIdentifier { id-ecPublicKey, namedCurve OID } (RFC 5480 §2.1.1: implicitCurve
 *   and specifiedCurve MUST NOT be used), BIT STRING holding the uncompressed point 04‖X‖Y
 *   (RFC 5480 §2.2: compressed points MAY be supported, the uncompressed form MUST be).
 *   The point itself (on the curve, right length) is checked by key-policy.ts.
 * RSASSA-PSS SPKIs (RFC 4055 §1.2) are accepted by no shipped profile: key-policy refuses them,
 * so no canonical form is defined for them here.
 *
 * Fingerprints, duplicate-key and revoked-key checks hash the canonical form, so a key sent
 * with absent, NULL or junk parameters is one key, not three.
 */
export interface SpkiProblem {
  /** zlint-style rule name (also used by the certificate lint). */
  readonly rule: string;
  readonly message: string;
}

export interface CanonicalSpki {
  /** The canonical DER (equal to the input when `problems` is empty). */
  readonly canonical: Uint8Array;
  readonly problems: readonly SpkiProblem[];
}

const RSA_ALG_CANONICAL = Uint8Array.from([0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00]);
const OID_EC_PUBLIC_KEY = Uint8Array.from([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]);
const OID_RSA = Uint8Array.from([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]);

function eq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Analyse a DER SubjectPublicKeyInfo. Throws only if it is not even SEQUENCE { SEQUENCE { OID … }, BIT STRING }. */
export function canonicalSpki(der: Uint8Array): CanonicalSpki {
  const top = readSingle(der);
  const f = children(der, top);
  if (top.tag !== 0x30 || f.length !== 2 || f[0]!.tag !== 0x30 || f[1]!.tag !== 0x03) {
    throw new TypeError('not a SubjectPublicKeyInfo (SEQUENCE { AlgorithmIdentifier, BIT STRING })');
  }
  const alg = children(der, f[0]!);
  if (alg.length < 1 || alg[0]!.tag !== 0x06) throw new TypeError('AlgorithmIdentifier without an OID');
  const oid = value(der, alg[0]!);
  const params: Tlv[] = alg.slice(1);
  const bits = value(der, f[1]!);
  const problems: SpkiProblem[] = [];
  if (bits.length === 0 || bits[0] !== 0) {
    problems.push({ rule: 'e_spki_bit_string_unused_bits', message: 'subjectPublicKey BIT STRING has unused bits' });
  }
  const key = bits.subarray(1);

  if (eq(oid, OID_RSA)) {
    const p = params[0];
    if (params.length !== 1 || p!.tag !== 0x05 || p!.end !== p!.valueStart) {
      const what = params.length === 0 ? 'absent' : params.length > 1 ? 'more than one value' : p!.tag === 0x05 ? 'a NULL with content' : `tag 0x${p!.tag.toString(16)}`;
      problems.push({ rule: 'e_spki_rsa_encryption_parameter_not_null', message: `rsaEncryption parameters are ${what}, not NULL (RFC 3279 §2.3.1)` });
    }
    let rsaKey = key;
    try {
      const seq = readSingle(key);
      const ints = children(key, seq);
      if (seq.tag !== 0x30 || ints.length !== 2 || ints.some((t) => t.tag !== 0x02)) throw new TypeError('not SEQUENCE { INTEGER, INTEGER }');
      const n = integerContentToBigint(value(key, ints[0]!));
      const e = integerContentToBigint(value(key, ints[1]!));
      rsaKey = encodeTlv(0x30, concat(encodeInteger(n), encodeInteger(e)));
      if (!eq(rsaKey, key)) problems.push({ rule: 'e_spki_rsa_public_key_not_der', message: 'RSAPublicKey INTEGERs are not minimally encoded' });
    } catch (e) {
      // Left to the key policy (KEY_MALFORMED); the canonical form keeps the bytes as they are.
      void e;
    }
    return { canonical: encodeTlv(0x30, concat(RSA_ALG_CANONICAL, encodeTlv(0x03, concat(Uint8Array.of(0), rsaKey)))), problems };
  }

  if (eq(oid, OID_EC_PUBLIC_KEY)) {
    const p = params[0];
    if (params.length !== 1 || p!.tag !== 0x06) {
      const what = params.length === 0 ? 'absent' : p!.tag === 0x05 ? 'NULL' : p!.tag === 0x30 ? 'explicit curve parameters' : `tag 0x${p!.tag.toString(16)}`;
      problems.push({ rule: 'e_spki_ec_parameters_not_named_curve', message: `id-ecPublicKey parameters are ${what}, not a namedCurve OID (RFC 5480 §2.1.1)` });
    }
    if (key[0] !== 0x04) {
      problems.push({ rule: 'e_spki_ec_point_not_uncompressed', message: 'the EC point is not in uncompressed form (RFC 5480 §2.2)' });
    }
    // A compressed point or an unnamed curve is refused, not repaired: the input stands.
    return { canonical: der.slice(), problems };
  }

  return { canonical: der.slice(), problems };
}

/** True if `der` is the canonical SPKI of its key. */
export function isCanonicalSpki(der: Uint8Array): boolean {
  try {
    const c = canonicalSpki(der);
    return c.problems.length === 0 && eq(c.canonical, der);
  } catch {
    return false;
  }
}
