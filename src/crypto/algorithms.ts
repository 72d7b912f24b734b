import { createHash, verify as nodeVerify, constants } from 'node:crypto';
import type { HashAlgorithm, KeyAlgorithm, SignatureAlgorithm } from './signer.js';
import { readTlv } from '../common/der.js';
import { bytesEqual } from '../common/hex.js';
import { publicKeyObject } from './public-key-object.js';

/** OIDs, named as in the RFCs that define them. */
export const OID = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  sha384WithRSAEncryption: '1.2.840.113549.1.1.12',
  sha512WithRSAEncryption: '1.2.840.113549.1.1.13',
  id_RSASSA_PSS: '1.2.840.113549.1.1.10',
  id_mgf1: '1.2.840.113549.1.1.8',
  id_sha256: '2.16.840.1.101.3.4.2.1',
  id_sha384: '2.16.840.1.101.3.4.2.2',
  id_sha512: '2.16.840.1.101.3.4.2.3',
  id_ecPublicKey: '1.2.840.10045.2.1',
  ecdsa_with_SHA256: '1.2.840.10045.4.3.2',
  ecdsa_with_SHA384: '1.2.840.10045.4.3.3',
  ecdsa_with_SHA512: '1.2.840.10045.4.3.4',
  secp256r1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  secp521r1: '1.3.132.0.35',
} as const;

export interface SignatureAlgorithmInfo {
  readonly family: 'rsa-pkcs1' | 'rsa-pss' | 'ecdsa';
  readonly hash: HashAlgorithm;
  /** Hash output length in bytes (also the PSS salt length we use, RFC 8017 §9.1 / RFC 4055 §3.1). */
  readonly hashLength: number;
  /** signatureAlgorithm OID for X.509 (RFC 4055, RFC 5758). */
  readonly oid: string;
}

const HASH_LEN: Record<HashAlgorithm, number> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };
const HASH_OID: Record<HashAlgorithm, string> = {
  'SHA-256': OID.id_sha256,
  'SHA-384': OID.id_sha384,
  'SHA-512': OID.id_sha512,
};

export const SIGNATURE_ALGORITHMS: Readonly<Record<SignatureAlgorithm, SignatureAlgorithmInfo>> = {
  'rsa-pkcs1-sha256': { family: 'rsa-pkcs1', hash: 'SHA-256', hashLength: 32, oid: OID.sha256WithRSAEncryption },
  'rsa-pkcs1-sha384': { family: 'rsa-pkcs1', hash: 'SHA-384', hashLength: 48, oid: OID.sha384WithRSAEncryption },
  'rsa-pkcs1-sha512': { family: 'rsa-pkcs1', hash: 'SHA-512', hashLength: 64, oid: OID.sha512WithRSAEncryption },
  'rsa-pss-sha256': { family: 'rsa-pss', hash: 'SHA-256', hashLength: 32, oid: OID.id_RSASSA_PSS },
  'rsa-pss-sha384': { family: 'rsa-pss', hash: 'SHA-384', hashLength: 48, oid: OID.id_RSASSA_PSS },
  'rsa-pss-sha512': { family: 'rsa-pss', hash: 'SHA-512', hashLength: 64, oid: OID.id_RSASSA_PSS },
  'ecdsa-sha256': { family: 'ecdsa', hash: 'SHA-256', hashLength: 32, oid: OID.ecdsa_with_SHA256 },
  'ecdsa-sha384': { family: 'ecdsa', hash: 'SHA-384', hashLength: 48, oid: OID.ecdsa_with_SHA384 },
  'ecdsa-sha512': { family: 'ecdsa', hash: 'SHA-512', hashLength: 64, oid: OID.ecdsa_with_SHA512 },
};

export function signatureAlgorithmInfo(alg: SignatureAlgorithm): SignatureAlgorithmInfo {
  const info = SIGNATURE_ALGORITHMS[alg];
  if (!info) throw new TypeError(`unknown signature algorithm ${String(alg)}`);
  return info;
}

export function hashOidOf(hash: HashAlgorithm): string {
  return HASH_OID[hash];
}

export function hashLength(hash: HashAlgorithm): number {
  return HASH_LEN[hash];
}

export function digest(hash: HashAlgorithm, data: Uint8Array): Uint8Array {
  const name = hash === 'SHA-256' ? 'sha256' : hash === 'SHA-384' ? 'sha384' : 'sha512';
  return new Uint8Array(createHash(name).update(data).digest());
}

/**
 * DER prefixes of DigestInfo (RFC 8017 §9.2 note 1): prefix ‖ hash = DigestInfo.
 */
export const DIGEST_INFO_PREFIX: Readonly<Record<HashAlgorithm, Uint8Array>> = {
  'SHA-256': Uint8Array.from(Buffer.from('3031300d060960864801650304020105000420', 'hex')),
  'SHA-384': Uint8Array.from(Buffer.from('3041300d060960864801650304020205000430', 'hex')),
  'SHA-512': Uint8Array.from(Buffer.from('3051300d060960864801650304020305000440', 'hex')),
};

export function digestInfo(hash: HashAlgorithm, h: Uint8Array): Uint8Array {
  const p = DIGEST_INFO_PREFIX[hash];
  const out = new Uint8Array(p.length + h.length);
  out.set(p);
  out.set(h, p.length);
  return out;
}

/** EMSA-PKCS1-v1_5 encoding (RFC 8017 §9.2): 00 01 FF..FF 00 ‖ DigestInfo, k bytes. */
export function emsaPkcs1v15Encode(hash: HashAlgorithm, h: Uint8Array, k: number): Uint8Array {
  const t = digestInfo(hash, h);
  if (k < t.length + 11) throw new RangeError('intended encoded message length too short');
  const em = new Uint8Array(k).fill(0xff);
  em[0] = 0x00;
  em[1] = 0x01;
  em[k - t.length - 1] = 0x00;
  em.set(t, k - t.length);
  return em;
}

/** Curve of a key algorithm, and the hash that matches it (card-protocols.md §3 "Match hash and curve"). */
export function defaultSignatureAlgorithm(key: KeyAlgorithm): SignatureAlgorithm {
  switch (key) {
    case 'p256':
      return 'ecdsa-sha256';
    case 'p384':
      return 'ecdsa-sha384';
    case 'p521':
      return 'ecdsa-sha512';
    default:
      return 'rsa-pkcs1-sha256';
  }
}

/**
 * Convert between raw r‖s and DER Ecdsa-Sig-Value (RFC 3279 §2.2.3).
 * `ecdsaDerToRaw` also validates that the DER is canonical and rejects anything else.
 */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new RangeError('raw ECDSA signature must be r‖s of even length');
  const n = raw.length / 2;
  const int = (b: Uint8Array): Uint8Array => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = b.subarray(i);
    const pad = v[0]! & 0x80 ? 1 : 0;
    const out = new Uint8Array(v.length + pad);
    out.set(v, pad);
    return out;
  };
  const r = int(raw.subarray(0, n));
  const s = int(raw.subarray(n));
  const body = [...derTlv(0x02, r), ...derTlv(0x02, s)];
  return Uint8Array.from(derTlv(0x30, Uint8Array.from(body)));
}

export function ecdsaDerToRaw(der: Uint8Array, fieldBytes: number): Uint8Array {
  const seq = readTlv(der, 0);
  if (seq.tag !== 0x30 || seq.end !== der.length) throw new RangeError('ECDSA signature is not a single DER SEQUENCE');
  const r = readTlv(der, seq.valueStart);
  const s = readTlv(der, r.end);
  if (r.tag !== 0x02 || s.tag !== 0x02 || s.end !== seq.end) throw new RangeError('ECDSA signature is not SEQUENCE { INTEGER, INTEGER }');
  const out = new Uint8Array(fieldBytes * 2);
  for (const [i, t] of [r, s].entries()) {
    let v = der.subarray(t.valueStart, t.end);
    if (v.length === 0 || v[0]! & 0x80) throw new RangeError('ECDSA r/s must be positive');
    if (v.length > 1 && v[0] === 0 && !(v[1]! & 0x80)) throw new RangeError('ECDSA r/s not minimally encoded');
    while (v.length > 1 && v[0] === 0) v = v.subarray(1);
    if (v.length > fieldBytes) throw new RangeError('ECDSA r/s longer than the field');
    out.set(v, i * fieldBytes + fieldBytes - v.length);
  }
  return out;
}

/** Re-encode a DER ECDSA signature canonically (strict parse, then minimal encoding). */
export function canonicalEcdsaDer(der: Uint8Array, fieldBytes: number): Uint8Array {
  return ecdsaRawToDer(ecdsaDerToRaw(der, fieldBytes));
}

function derTlv(tag: number, value: Uint8Array): number[] {
  const len = value.length;
  const lenBytes = len < 0x80 ? [len] : len < 0x100 ? [0x81, len] : [0x82, len >> 8, len & 0xff];
  return [tag, ...lenBytes, ...value];
}


/**
 * Verify a signature in X.509 form against a DER SubjectPublicKeyInfo. Used after every card
 * signature before anything is released (card-protocols.md §3 "Verify every signature on the host").
 */
export function verifySignature(
  spki: Uint8Array,
  alg: SignatureAlgorithm,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  const v = lastVerified;
  if (v && v.alg === alg && bytesEqual(v.signature, signature) && bytesEqual(v.data, data) && bytesEqual(v.spki, spki)) return true;
  const ok = verifyWithOpenssl(spki, alg, data, signature);
  if (ok && data.length <= MEMO_MAX_DATA) lastVerified = { spki: spki.slice(), alg, data: data.slice(), signature: signature.slice() };
  return ok;
}

/**
 * The last signature that verified, by value (copies: a caller's buffers may change later). Every
 * issued certificate's signature is verified twice on the same bytes: by the card layer on what
 * the card returned (card/card-signer.ts) and by the CA on the assembled certificate
 * (ca/cert/verify-issued-certificate.ts), with the same key, algorithm, TBS and signature. The
 * answer is a pure function of those four, compared here in full, so the second check costs four
 * byte comparisons instead of an ECDSA or RSA verification (≈ 0.1 ms per certificate of a batch).
 * Only a success is kept, and only over data of at most 64 KiB (a certificate's TBS is a few
 * hundred bytes): a CRL's TBS of a million entries is 40 MB, which would be copied and held.
 */
const MEMO_MAX_DATA = 64 * 1024;
let lastVerified: { readonly spki: Uint8Array; readonly alg: SignatureAlgorithm; readonly data: Uint8Array; readonly signature: Uint8Array } | undefined;

function verifyWithOpenssl(spki: Uint8Array, alg: SignatureAlgorithm, data: Uint8Array, signature: Uint8Array): boolean {
  const info = signatureAlgorithmInfo(alg);
  const key = publicKeyObject(spki);
  const hashName = info.hash === 'SHA-256' ? 'sha256' : info.hash === 'SHA-384' ? 'sha384' : 'sha512';
  if (info.family === 'rsa-pss') {
    return nodeVerify(hashName, data, {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: info.hashLength,
    }, signature);
  }
  if (info.family === 'ecdsa') {
    return nodeVerify(hashName, data, { key, dsaEncoding: 'der' }, signature);
  }
  return nodeVerify(hashName, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
}
