import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  privateEncrypt,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { bigintToBytes } from '../../common/bigint-math.js';
import { curveByName, type CurveInfo, type CurveName } from './ec-curves.js';
import { CardStatus, SW } from './status-words.js';
import { emsaPssWithHash } from '../../crypto/emsa-pss.js';
import { children, readSingle, value } from '../../common/der.js';

/**
 * The card's private-key operations. Keys are held as PKCS#8 DER (the state file stores them
 * that way). Everything here operates on a host-supplied hash or encoded message, because the
 * SmartCard-HSM sign algorithms `20`, `30`, `40` and `70` take prehashed input
 * (card-protocols.md §3.1); node's `sign()` would hash again.
 */
export type CardKeySpec = { kind: 'rsa'; bits: number; exponent: number } | { kind: 'ec'; curve: CurveName };

export type HashName = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

export const HASH_BY_LENGTH: Readonly<Record<number, HashName>> = {
  20: 'sha1',
  28: 'sha224',
  32: 'sha256',
  48: 'sha384',
  64: 'sha512',
};

const DIGEST_INFO_PREFIX: Readonly<Record<HashName, string>> = {
  sha1: '3021300906052b0e03021a05000414',
  sha224: '302d300d06096086480165030402040500041c',
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

export function hash(name: HashName, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(name).update(data).digest());
}

export function digestInfo(name: HashName, h: Uint8Array): Uint8Array {
  return new Uint8Array(Buffer.concat([Buffer.from(DIGEST_INFO_PREFIX[name], 'hex'), h]));
}

/** If `input` is a DigestInfo for a known hash, return the bare hash. */
export function stripDigestInfo(input: Uint8Array): { hash: HashName; h: Uint8Array } | undefined {
  for (const [name, prefixHex] of Object.entries(DIGEST_INFO_PREFIX) as [HashName, string][]) {
    const prefix = Buffer.from(prefixHex, 'hex');
    if (input.length === prefix.length + Number(prefix[prefix.length - 1]) && Buffer.from(input.subarray(0, prefix.length)).equals(prefix)) {
      return { hash: name, h: input.slice(prefix.length) };
    }
  }
  return undefined;
}

export interface GeneratedKey {
  pkcs8: Uint8Array;
}

export async function generateCardKey(spec: CardKeySpec): Promise<GeneratedKey> {
  const key = await new Promise<KeyObject>((resolve, reject) => {
    if (spec.kind === 'rsa') {
      generateKeyPair('rsa', { modulusLength: spec.bits, publicExponent: spec.exponent }, (err, _pub, priv) =>
        err ? reject(err) : resolve(priv),
      );
    } else {
      const curve = curveByName(spec.curve)!;
      generateKeyPair('ec', { namedCurve: curve.nodeName }, (err, _pub, priv) => (err ? reject(err) : resolve(priv)));
    }
  });
  return { pkcs8: new Uint8Array(key.export({ type: 'pkcs8', format: 'der' })) };
}

export function loadPrivateKey(pkcs8: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
}

export interface RsaPublic {
  n: Uint8Array;
  e: Uint8Array;
  bits: number;
}

export function rsaPublic(pkcs8: Uint8Array): RsaPublic {
  const jwk = createPublicKey(loadPrivateKey(pkcs8)).export({ format: 'jwk' });
  const n = new Uint8Array(Buffer.from(jwk.n!, 'base64url'));
  const e = new Uint8Array(Buffer.from(jwk.e!, 'base64url'));
  const bits = n.length * 8 - Math.clz32(n[0]!) + 24;
  return { n, e, bits };
}

export interface EcKeyParts {
  curve: CurveInfo;
  d: Uint8Array;
  /** Uncompressed point 04 ‖ X ‖ Y. */
  q: Uint8Array;
}

export function ecParts(pkcs8: Uint8Array, curveName: CurveName): EcKeyParts {
  const curve = curveByName(curveName)!;
  // Not JWK: node cannot export brainpool keys as JWK. SEC 1 §C.4 ECPrivateKey:
  // SEQUENCE { INTEGER 1, OCTET STRING d, ... }; the point comes from the SPKI (RFC 5480 §2.2).
  const sec1 = loadPrivateKey(pkcs8).export({ format: 'der', type: 'sec1' });
  let off = 1;
  off += sec1[off]! & 0x80 ? 1 + (sec1[off]! & 0x7f) : 1; // SEQUENCE length
  off += 3; // INTEGER 1
  if (sec1[off] !== 0x04) throw new Error('ECPrivateKey without privateKey OCTET STRING');
  const dLen = sec1[off + 1]!;
  const d = bigintToBytes(BigInt('0x' + (sec1.subarray(off + 2, off + 2 + dLen).toString('hex') || '0')), curve.size);
  sec1.fill(0);
  const spki = createPublicKey(loadPrivateKey(pkcs8)).export({ format: 'der', type: 'spki' });
  const q = new Uint8Array(spki.subarray(spki.length - (1 + 2 * curve.size)));
  return { curve, d, q };
}

/** Raw RSA private operation on exactly k bytes (alg `20`). `6A80` if the input is not < n. */
export function rsaRaw(pkcs8: Uint8Array, input: Uint8Array): Uint8Array {
  const { n } = rsaPublic(pkcs8);
  if (input.length !== n.length) throw new CardStatus(SW.WRONG_DATA);
  if (Buffer.compare(Buffer.from(input), Buffer.from(n)) >= 0) throw new CardStatus(SW.WRONG_DATA);
  return new Uint8Array(privateEncrypt({ key: loadPrivateKey(pkcs8), padding: constants.RSA_NO_PADDING }, input));
}

/** PKCS#1 v1.5 type-1 padding of a DigestInfo, then RSA (RFC 8017 §9.2, alg `30`). */
export function rsaPkcs1(pkcs8: Uint8Array, digestInfoBytes: Uint8Array): Uint8Array {
  const { n } = rsaPublic(pkcs8);
  if (digestInfoBytes.length > n.length - 11) throw new CardStatus(SW.WRONG_DATA);
  return new Uint8Array(privateEncrypt({ key: loadPrivateKey(pkcs8), padding: constants.RSA_PKCS1_PADDING }, digestInfoBytes));
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1), MGF1 with the same hash, salt length = hash length. */
export function emsaPssEncode(name: HashName, mHash: Uint8Array, emBits: number, salt = randomBytes(mHash.length)): Uint8Array {
  try {
    return emsaPssWithHash(name, mHash, emBits, salt);
  } catch (e) {
    if (e instanceof RangeError) throw new CardStatus(SW.WRONG_DATA);
    throw e;
  }
}

/** RSASSA-PSS over a given hash: EMSA-PSS then raw RSA (alg `40`). */
export function rsaPss(pkcs8: Uint8Array, name: HashName, mHash: Uint8Array): Uint8Array {
  const { n, bits } = rsaPublic(pkcs8);
  const em = emsaPssEncode(name, mHash, bits - 1);
  const k = n.length;
  const full = new Uint8Array(k);
  full.set(em, k - em.length);
  return new Uint8Array(privateEncrypt({ key: loadPrivateKey(pkcs8), padding: constants.RSA_NO_PADDING }, full));
}

/**
 * The private scalar d of an EC key, straight from its PKCS#8 DER (RFC 5208 §5 PrivateKeyInfo
 * { version, algorithm, privateKey OCTET STRING { SEC 1 §C.4 ECPrivateKey { 1, d, … } } }),
 * left-padded to the field length. Same d as `ecParts`, without the two node:crypto key
 * imports and the SEC 1 export (≈ 1 ms of the ≈ 2.5 ms a signature cost), which a signature
 * does not need. The caller zeroes it.
 */
export function ecPrivateScalar(pkcs8: Uint8Array, curve: CurveInfo): Uint8Array {
  const info = children(pkcs8, readSingle(pkcs8));
  const pk = info[2];
  if (info.length < 3 || info[0]!.tag !== 0x02 || info[1]!.tag !== 0x30 || pk?.tag !== 0x04) throw new Error('not a PKCS#8 PrivateKeyInfo');
  const ecpk = value(pkcs8, pk);
  const fields = children(ecpk, readSingle(ecpk));
  const dTlv = fields[1];
  if (fields[0]?.tag !== 0x02 || dTlv?.tag !== 0x04) throw new Error('ECPrivateKey without privateKey OCTET STRING');
  let dv = value(ecpk, dTlv);
  while (dv.length > curve.size && dv[0] === 0) dv = dv.subarray(1);
  if (dv.length > curve.size) throw new Error('EC private key longer than the field');
  const d = new Uint8Array(curve.size);
  d.set(dv, curve.size - dv.length);
  return d;
}

/** ECDSA over a given hash (alg `70`), DER `Ecdsa-Sig-Value` output. */
export function ecdsaSignHash(pkcs8: Uint8Array, curveName: CurveName, h: Uint8Array): Uint8Array {
  if (h.length === 0) throw new CardStatus(SW.WRONG_DATA);
  const curve = curveByName(curveName)!;
  const d = ecPrivateScalar(pkcs8, curve);
  try {
    return curve.sign(h, d);
  } finally {
    d.fill(0);
  }
}
