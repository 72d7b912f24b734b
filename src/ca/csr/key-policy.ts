import { OID } from '../../crypto/algorithms.js';
import type { KeyAlgorithm } from '../../crypto/signer.js';
import { CsrError } from '../errors.js';
import { children, decodeOid, readSingle, slice, value, walkDer, DerError } from '../x509/der.js';
import { integerContentToBigint } from '../x509/integer.js';
import { CURVES, validatePoint } from './ec-point.js';
import { fermatFactor, hasRocaFingerprint, smallPrimeFactor } from './rsa-weak-key-tests.js';

/**
 * Key policy for subscriber keys (ca-invariants.md §2.1 "Keys", Boulder goodkey, BR 6.1.5,
 * 6.1.6, 6.1.1.3). Every rejection has its own stable code.
 */
export interface KeyPolicy {
  readonly rsaMinBits: number;
  readonly rsaMaxBits: number;
  readonly fermatRounds: number;
  readonly smallPrimeLimit: number;
  readonly allowedCurves: readonly ('p256' | 'p384')[];
}

export const DEFAULT_KEY_POLICY: KeyPolicy = {
  rsaMinBits: 2048,
  // Boulder's limit; the SmartCard-HSM and most VPN stacks top out at 4096 too.
  rsaMaxBits: 4096,
  // BR 6.1.1.3 asks for at least 100 rounds.
  fermatRounds: 100,
  smallPrimeLimit: 751,
  allowedCurves: ['p256', 'p384'],
};

export interface CheckedKey {
  readonly type: 'rsa' | 'ec';
  readonly bits: number;
  /** rsa2048/3072/4096, p256/p384; undefined for other RSA sizes that the policy still allows. */
  readonly algorithm: KeyAlgorithm | undefined;
}

const KNOWN_CURVE_NAMES: Readonly<Record<string, string>> = {
  [OID.secp521r1]: 'P-521',
  '1.3.132.0.10': 'secp256k1',
  '1.2.840.10045.3.1.1': 'P-192',
  '1.3.132.0.33': 'P-224',
};

/**
 * SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
 * AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }
 * (RFC 5280 §4.1, RFC 5480 §2), read on the strict DER reader: every TLV of the SPKI walked
 * (definite minimal lengths, no trailing bytes, children filling their parent), exact tags, and
 * a BIT STRING of whole octets (unused-bits octet 0: RSA and EC keys are octet strings). It ran
 * on asn1-schema before, which was ~1 ms per CSR of a batch (twice: CSR check and TBS lint;
 * docs/benchmarks.md, "Batches, third pass"); anything that parse refused this one refuses too.
 */
function readSpki(spkiDer: Uint8Array): { alg: string; params: Uint8Array | undefined; keyBits: Uint8Array } {
  try {
    const top = readSingle(spkiDer);
    walkDer(spkiDer, top);
    const f = children(spkiDer, top);
    if (top.tag !== 0x30 || f.length !== 2 || f[0]!.tag !== 0x30 || f[1]!.tag !== 0x03) throw new DerError('not SEQUENCE { SEQUENCE, BIT STRING }');
    const a = children(spkiDer, f[0]!);
    if (a.length < 1 || a.length > 2 || a[0]!.tag !== 0x06) throw new DerError('AlgorithmIdentifier is not SEQUENCE { OID, ANY OPTIONAL }');
    const oid = value(spkiDer, a[0]!);
    if (oid.length === 0) throw new DerError('empty OID');
    const bits = value(spkiDer, f[1]!);
    if (bits.length < 1 || bits[0] !== 0) throw new DerError('subjectPublicKey is not a BIT STRING of whole octets');
    return { alg: decodeOid(oid), params: a[1] ? slice(spkiDer, a[1]) : undefined, keyBits: bits.subarray(1) };
  } catch (e) {
    throw new CsrError('KEY_MALFORMED', 'the public key is not a valid SubjectPublicKeyInfo', { cause: e });
  }
}

/** Check a DER SubjectPublicKeyInfo against the policy. Throws `CsrError` with a `KEY_…` code. */
export function checkKeyPolicy(spkiDer: Uint8Array, policy: KeyPolicy = DEFAULT_KEY_POLICY): CheckedKey {
  const { alg, params, keyBits } = readSpki(spkiDer);
  if (alg === OID.rsaEncryption) return checkRsa(keyBits, policy);
  if (alg === OID.id_ecPublicKey) return checkEc(params, keyBits, policy);
  throw new CsrError('KEY_TYPE', `public key algorithm ${alg} is not accepted`, { hint: 'Use an RSA or EC P-256/P-384 key.' });
}

function checkRsa(keyBits: Uint8Array, policy: KeyPolicy): CheckedKey {
  let n: bigint;
  let e: bigint;
  try {
    // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 8017 A.1.1)
    const f = children(keyBits, readSingle(keyBits));
    if (f.length !== 2 || f[0]!.tag !== 0x02 || f[1]!.tag !== 0x02) throw new DerError('not SEQUENCE { INTEGER, INTEGER }');
    n = integerContentToBigint(value(keyBits, f[0]!));
    e = integerContentToBigint(value(keyBits, f[1]!));
  } catch (err) {
    throw new CsrError('KEY_MALFORMED', 'the RSA public key is malformed', { cause: err });
  }
  if (n <= 0n || e <= 0n) throw new CsrError('KEY_MALFORMED', 'the RSA modulus or exponent is not positive');
  const bits = n.toString(2).length;
  if (bits < policy.rsaMinBits) {
    throw new CsrError('KEY_RSA_TOO_SMALL', `RSA key is ${bits} bits; at least ${policy.rsaMinBits} required`, {
      hint: `Generate a new key of ${policy.rsaMinBits} bits or more (BR 6.1.5).`,
    });
  }
  if (bits > policy.rsaMaxBits) {
    throw new CsrError('KEY_RSA_TOO_LARGE', `RSA key is ${bits} bits; at most ${policy.rsaMaxBits} accepted`, {
      hint: `Use at most ${policy.rsaMaxBits} bits.`,
    });
  }
  if (bits % 8 !== 0) {
    throw new CsrError('KEY_RSA_SIZE', `RSA modulus length ${bits} is not a multiple of 8 bits`, { hint: 'Generate a standard-size key (2048/3072/4096).' });
  }
  // BR 6.1.6: odd, ≥ 3, and 2^16+1 … 2^256−1; Boulder and this policy require ≥ 65537.
  if (e % 2n === 0n || e < 65537n || e >= 1n << 256n) {
    throw new CsrError('KEY_RSA_EXPONENT', `RSA public exponent ${e < 1n << 64n ? e : 'of ' + e.toString(2).length + ' bits'} is not allowed`, {
      hint: 'Use the exponent 65537.',
    });
  }
  const sp = smallPrimeFactor(n, policy.smallPrimeLimit);
  if (sp !== undefined) {
    throw new CsrError('KEY_SMALL_FACTOR', `RSA modulus is divisible by the small prime ${sp}`, { hint: 'The key generator is broken; generate a new key elsewhere.' });
  }
  if (hasRocaFingerprint(n)) {
    throw new CsrError('KEY_ROCA', 'RSA key has the ROCA fingerprint (CVE-2017-15361, Infineon RSALib)', {
      hint: 'The key can be factored. Update the token firmware and generate a new key.',
    });
  }
  if (fermatFactor(n, policy.fermatRounds)) {
    throw new CsrError('KEY_FERMAT', `RSA modulus factors by Fermat's method within ${policy.fermatRounds} rounds (primes too close)`, {
      hint: 'The key can be factored. Generate a new key with a sound generator.',
    });
  }
  const algorithm = bits === 2048 ? 'rsa2048' : bits === 3072 ? 'rsa3072' : bits === 4096 ? 'rsa4096' : undefined;
  return { type: 'rsa', bits, algorithm };
}

function checkEc(params: Uint8Array | undefined, point: Uint8Array, policy: KeyPolicy): CheckedKey {
  let curveOid: string | undefined;
  if (params) {
    const p = params;
    try {
      const t = readSingle(p);
      // RFC 5480 §2.1.1: namedCurve only; implicitCurve and specifiedCurve MUST NOT be used.
      if (t.tag === 0x06) curveOid = decodeOid(value(p, t));
    } catch {
      curveOid = undefined;
    }
  }
  if (!curveOid) {
    throw new CsrError('KEY_EC_CURVE', 'EC key does not name its curve (explicit or missing parameters)', {
      hint: 'Use a named curve: P-256 or P-384 (RFC 5480 §2.1.1).',
    });
  }
  const curve = CURVES.find((c) => c.oid === curveOid);
  if (!curve || !policy.allowedCurves.includes(curve.name)) {
    throw new CsrError('KEY_EC_CURVE', `EC curve ${KNOWN_CURVE_NAMES[curveOid] ?? curveOid} is not accepted`, { hint: 'Use P-256 or P-384.' });
  }
  const problem = validatePoint(curve, point);
  if (problem) {
    throw new CsrError('KEY_EC_POINT', `EC public key fails validation: ${problem}`, {
      hint: problem === 'compressed' ? 'Send the public key in uncompressed form (RFC 5480 §2.2).' : 'The public key is invalid; generate a new key.',
    });
  }
  return { type: 'ec', bits: curve.byteLength * 8, algorithm: curve.name };
}

/** The one OID decoder is common/der.ts's; re-exported for the modules that import it from here. */
export { decodeOid };
