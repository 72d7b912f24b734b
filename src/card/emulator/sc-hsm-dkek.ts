import { createCipheriv, createDecipheriv, createPrivateKey, randomBytes } from 'node:crypto';
import { bigintToBytes, bytesToBigint, gcd, modInv as modInverse, modPow } from '../../common/bigint-math.js';
import { sha256, sha256Incremental } from '../../common/sha256.js';
import { aesCmac } from './aes-cmac.js';
import { ecParts, loadPrivateKey } from './card-crypto.js';
import type { CardStateData, StoredKey } from './card-state.js';
import { curveByName, curveByPrime, type CurveName } from './ec-curves.js';
import { encodeEcPrivateKey } from './ec-private-key.js';
import { fail, SW } from './status-words.js';

/**
 * The SmartCard-HSM's Device Key Encryption Key: share import (`80 52`), WRAP KEY (`80 72`) and
 * UNWRAP KEY (`80 74`), and the key-blob format (card-protocols.md §3.1 "DKEK"; byte layout as
 * in the compatible implementation pico-hsm `kek.c` `dkek_encode_key`/`dkek_decode_key`, and the
 * host side in OpenSC `card-sc-hsm.c` `sc_hsm_import_dkek_share`/`_wrap_key`/`_unwrap_key`).
 *
 * The DKEK is the XOR of all imported 32-byte shares. KCV = SHA-256(DKEK)[0..8];
 * Kenc = SHA-256(DKEK ‖ 00000001); Kmac = SHA-256(DKEK ‖ 00000002).
 */
export type DkekState = NonNullable<CardStateData['dkek']>;

/** Key types in the blob (byte 8). */
export const BLOB_KEY_TYPE = { rsa: 5, rsaCrt: 6, ec: 12, aes: 15 } as const;
/** Default algorithm OIDs (id-TA-RSA-v1-5-SHA-256, id-TA-ECDSA-SHA-256; BSI TR-03110-3 §A.6.4). */
const OID_RSA = Uint8Array.of(0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x02, 0x01, 0x02);
const OID_EC = Uint8Array.of(0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x02, 0x02, 0x03);
/** Algorithm id that allows WRAP in a key's algorithm list (GAKP tag 91; pico-hsm `cmd_key_wrap.c`). */
export const ALG_WRAP = 0x92;

/** True when every announced share is in (and there is at least one). */
export function dkekComplete(d: CardStateData['dkek']): boolean {
  return d !== null && d.total > 0 && d.imported >= d.total;
}

export function dkekKcv(value: Uint8Array): Uint8Array {
  return sha256(value).slice(0, 8);
}

function derive(value: Uint8Array, counter: number): Uint8Array {
  const h = sha256Incremental();
  h.update(value);
  h.update(Uint8Array.of(0, 0, 0, counter));
  return h.digest();
}

/** Response of `80 52`: total shares ‖ outstanding shares ‖ KCV (8). Zeros KCV before any share. */
export function dkekStatusBytes(d: CardStateData['dkek']): Uint8Array {
  if (!d) return new Uint8Array(10);
  const kcv = d.imported > 0 ? dkekKcv(Buffer.from(d.value, 'hex')) : new Uint8Array(8);
  return Uint8Array.from([d.total, Math.max(0, d.total - d.imported), ...kcv]);
}

/**
 * IMPORT DKEK SHARE. No PIN is needed (OpenSC's `sc-hsm-tool --import-dkek-share` verifies none);
 * `6A88` when the card was initialised without shares, `6986` once all shares are in.
 */
export function importDkekShare(s: CardStateData, share: Uint8Array): void {
  if (!s.initialized) fail(SW.SECURITY_NOT_SATISFIED);
  if (share.length !== 32) fail(SW.WRONG_LENGTH);
  const d = s.dkek;
  if (!d || d.total === 0) fail(SW.REF_DATA_NOT_FOUND);
  if (d.imported >= d.total) fail(0x6986);
  const v = Buffer.from(d.value, 'hex');
  for (let i = 0; i < 32; i++) v[i]! ^= share[i]!;
  d.value = v.toString('hex');
  v.fill(0);
  d.imported += 1;
}

// ------------------------------------------------------------------ blob encoding

function u16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}

function lv(value: Uint8Array): number[] {
  return [...u16(value.length), ...value];
}

function minimal(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

function jwkBytes(b64: string | undefined): Uint8Array {
  return minimal(new Uint8Array(Buffer.from(b64 ?? '', 'base64url')));
}

/** Plain key components: `keySizeBits16 ‖ (len16 ‖ value)*` in the order of the key type. */
function components(key: StoredKey, pkcs8: Uint8Array): { type: number; oid: Uint8Array; body: number[] } {
  if (key.spec.kind === 'rsa') {
    const j = loadPrivateKey(pkcs8).export({ format: 'jwk' });
    // Type 6 (RSA-CRT): dp1, dq1, p, pq (= qInv), q, n, e.
    const parts = [j.dp, j.dq, j.p, j.qi, j.q, j.n, j.e].map(jwkBytes);
    return { type: BLOB_KEY_TYPE.rsaCrt, oid: OID_RSA, body: [...u16(key.spec.bits), ...parts.flatMap(lv)] };
  }
  const ec = ecParts(pkcs8, key.spec.curve);
  const c = ec.curve;
  const g = Uint8Array.from([0x04, ...bigintToBytes(c.gx, c.size), ...bigintToBytes(c.gy, c.size)]);
  const parts = [bigintToBytes(c.a, c.size), bigintToBytes(c.b, c.size), bigintToBytes(c.p, c.size), bigintToBytes(c.n, c.size), g, ec.d, ec.q];
  const body = [...u16(c.bits), ...parts.flatMap(lv)];
  ec.d.fill(0);
  return { type: BLOB_KEY_TYPE.ec, oid: OID_EC, body };
}

/**
 * Key blob: KCV(8) ‖ keyType(1) ‖ lv(default alg OID) ‖ lv(allowed algorithms) ‖ lv(access
 * conditions) ‖ lv(key OID) ‖ AES-256-CBC(Kenc, IV 0)[random(8) ‖ components ‖ 80 00… pad] ‖
 * AES-CMAC(Kmac)(everything before).
 */
export function encodeKeyBlob(dkek: Uint8Array, key: StoredKey): Uint8Array {
  const pkcs8 = new Uint8Array(Buffer.from(key.pkcs8, 'base64'));
  const { type, oid, body } = components(key, pkcs8);
  pkcs8.fill(0);
  const algs = key.algorithms ? new Uint8Array(Buffer.from(key.algorithms, 'hex')) : new Uint8Array(0);
  const header = Uint8Array.from([...dkekKcv(dkek), type, ...lv(oid), ...lv(algs), ...u16(0), ...u16(0)]);
  const plainLen = 8 + body.length;
  const padded = new Uint8Array(Math.ceil((plainLen + 1) / 16) * 16);
  padded.set(randomBytes(8), 0);
  padded.set(body, 8);
  padded[plainLen] = 0x80; // ISO/IEC 9797-1 method 2
  body.fill(0);
  const kenc = derive(dkek, 1);
  const c = createCipheriv('aes-256-cbc', kenc, Buffer.alloc(16));
  c.setAutoPadding(false);
  const enc = Buffer.concat([c.update(padded), c.final()]);
  padded.fill(0);
  kenc.fill(0);
  const macd = Buffer.concat([header, enc]);
  const kmac = derive(dkek, 2);
  const mac = aesCmac(kmac, macd);
  kmac.fill(0);
  return new Uint8Array(Buffer.concat([macd, mac]));
}

export interface DecodedKey {
  spec: StoredKey['spec'];
  pkcs8: Uint8Array;
  algorithms: Uint8Array | undefined;
}

/**
 * Check and open a key blob: KCV (`6A80` "wrong DKEK", which OpenSC reports as "Wrapped key does
 * not match DKEK"), structure, CMAC, then the components. Every failure is a status word and
 * nothing is written.
 */
export function decodeKeyBlob(dkek: Uint8Array, blob: Uint8Array): DecodedKey {
  if (blob.length < 8 + 1 + 8 + 16 + 16) fail(SW.WRONG_DATA);
  if (!Buffer.from(blob.subarray(0, 8)).equals(Buffer.from(dkekKcv(dkek)))) fail(SW.WRONG_DATA);
  const kmac = derive(dkek, 2);
  const mac = aesCmac(kmac, blob.subarray(0, blob.length - 16));
  kmac.fill(0);
  if (!Buffer.from(mac).equals(Buffer.from(blob.subarray(blob.length - 16)))) fail(SW.WRONG_DATA);
  const type = blob[8]!;
  let off = 9;
  const take = (): Uint8Array => {
    if (off + 2 > blob.length - 16) fail(SW.WRONG_DATA);
    const n = (blob[off]! << 8) | blob[off + 1]!;
    if (off + 2 + n > blob.length - 16) fail(SW.WRONG_DATA);
    const v = blob.subarray(off + 2, off + 2 + n);
    off += 2 + n;
    return v;
  };
  const oid = take();
  const algs = take();
  take(); // access conditions
  take(); // key OID
  const enc = blob.subarray(off, blob.length - 16);
  if (enc.length === 0 || enc.length % 16 !== 0) fail(SW.WRONG_DATA);
  const kenc = derive(dkek, 1);
  const d = createDecipheriv('aes-256-cbc', kenc, Buffer.alloc(16));
  d.setAutoPadding(false);
  const plain = new Uint8Array(Buffer.concat([d.update(enc), d.final()]));
  kenc.fill(0);
  try {
    let p = 10; // 8 random bytes, key size (2)
    const part = (): Uint8Array => {
      if (p + 2 > plain.length) fail(SW.WRONG_DATA);
      const n = (plain[p]! << 8) | plain[p + 1]!;
      if (p + 2 + n > plain.length) fail(SW.WRONG_DATA);
      const v = plain.slice(p + 2, p + 2 + n);
      p += 2 + n;
      return v;
    };
    let spec: StoredKey['spec'];
    let pkcs8: Uint8Array;
    if (type === BLOB_KEY_TYPE.rsa || type === BLOB_KEY_TYPE.rsaCrt) {
      if (!Buffer.from(oid).equals(Buffer.from(OID_RSA))) fail(SW.WRONG_DATA);
      let n: Uint8Array, e: Uint8Array, dd: Uint8Array, pp: Uint8Array, q: Uint8Array;
      if (type === BLOB_KEY_TYPE.rsa) {
        dd = part();
        n = part();
        e = part();
        [pp, q] = factorFromPrivateExponent(bytesToBigint(n), bytesToBigint(e), bytesToBigint(dd));
      } else {
        part(); // dp1
        part(); // dq1
        pp = part();
        part(); // pq
        q = part();
        n = part();
        e = part();
        dd = privateExponent(bytesToBigint(pp), bytesToBigint(q), bytesToBigint(e));
      }
      pkcs8 = rsaPkcs8(n, e, dd, pp, q);
      const bits = bytesToBigint(n).toString(2).length;
      spec = { kind: 'rsa', bits };
    } else if (type === BLOB_KEY_TYPE.ec) {
      if (!Buffer.from(oid).equals(Buffer.from(OID_EC))) fail(SW.WRONG_DATA);
      part(); // a
      part(); // b
      const prime = part();
      part(); // order
      part(); // G
      const dBytes = part();
      const curve = curveByPrime(bytesToBigint(prime));
      if (!curve) fail(SW.WRONG_DATA);
      const dNum = bytesToBigint(dBytes);
      if (dNum === 0n || dNum >= curve.n) fail(SW.WRONG_DATA);
      // Q is recomputed from d (the blob's Q is not trusted).
      pkcs8 = ecPkcs8(curve.name, bigintToBytes(dNum, curve.size));
      spec = { kind: 'ec', curve: curve.name };
    } else {
      return fail(SW.WRONG_DATA);
    }
    return { spec, pkcs8, algorithms: algs.length > 0 ? algs.slice() : undefined };
  } finally {
    plain.fill(0);
  }
}

// ------------------------------------------------------------------ key reconstruction

/** a^-1 mod m, or 6A80 (a blob whose numbers do not form a key). */
function modInv(a: bigint, m: bigint): bigint {
  try {
    return modInverse(a, m);
  } catch {
    return fail(SW.WRONG_DATA);
  }
}

function privateExponent(p: bigint, q: bigint, e: bigint): Uint8Array {
  if (p < 3n || q < 3n) fail(SW.WRONG_DATA);
  const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
  return bigintToBytes(modInv(e, lambda));
}

/** Recover p and q from n, e, d (NIST SP 800-56B rev. 2 §C.2). */
function factorFromPrivateExponent(n: bigint, e: bigint, d: bigint): [Uint8Array, Uint8Array] {
  const k = d * e - 1n;
  if (k <= 0n || k & 1n) fail(SW.WRONG_DATA);
  let t = 0n;
  let r = k;
  while ((r & 1n) === 0n) {
    r >>= 1n;
    t++;
  }
  for (let g = 2n; g < 200n; g++) {
    let y = modPow(g, r, n);
    if (y === 1n || y === n - 1n) continue;
    for (let i = 1n; i <= t; i++) {
      const x = (y * y) % n;
      if (x === 1n) {
        const p = gcd(y - 1n, n);
        return [bigintToBytes(p), bigintToBytes(n / p)];
      }
      if (x === n - 1n) break;
      y = x;
    }
  }
  return fail(SW.WRONG_DATA);
}

function rsaPkcs8(n: Uint8Array, e: Uint8Array, d: Uint8Array, p: Uint8Array, q: Uint8Array): Uint8Array {
  const [P, Q, D] = [bytesToBigint(p), bytesToBigint(q), bytesToBigint(d)];
  if (P * Q !== bytesToBigint(n)) fail(SW.WRONG_DATA);
  const enc = (v: bigint) => Buffer.from(minimal(bigintToBytes(v))).toString('base64url');
  try {
    const key = createPrivateKey({
      key: { kty: 'RSA', n: enc(bytesToBigint(n)), e: enc(bytesToBigint(e)), d: enc(D), p: enc(P), q: enc(Q), dp: enc(D % (P - 1n)), dq: enc(D % (Q - 1n)), qi: enc(modInv(Q, P)) },
      format: 'jwk',
    });
    return new Uint8Array(key.export({ type: 'pkcs8', format: 'der' }));
  } catch {
    return fail(SW.WRONG_DATA);
  }
}

function ecPkcs8(curveName: CurveName, d: Uint8Array): Uint8Array {
  // Through SEC 1 ECPrivateKey, not JWK: node's JWK import has no brainpool curves, and the
  // SmartCard-HSM holds every curve of the table (NIST P, brainpool r1, secp256k1).
  const curve = curveByName(curveName);
  if (!curve) return fail(SW.WRONG_DATA);
  let sec1: Uint8Array | undefined;
  try {
    sec1 = encodeEcPrivateKey(curve.oid, d, curve.publicPoint(d));
    const key = createPrivateKey({ key: Buffer.from(sec1), format: 'der', type: 'sec1' });
    return new Uint8Array(key.export({ type: 'pkcs8', format: 'der' }));
  } catch {
    return fail(SW.WRONG_DATA);
  } finally {
    sec1?.fill(0);
  }
}

// ------------------------------------------------------------------ APDU handlers

/** What the DKEK commands need from the card: its non-volatile state and the PIN flag. */
export interface DkekCardContext {
  readonly state: CardStateData;
  readonly userVerified: boolean;
  save(): void;
}

export interface DkekReply {
  data?: Uint8Array;
  sw?: number;
}

/** EF the host stages an UNWRAP blob in (OpenSC `sc_hsm_unwrap_key`). */
export const EF_UNWRAP_STAGING = '2F10';

function dkekValue(s: CardStateData): Uint8Array {
  // WRAP/UNWRAP need a complete DKEK; the card answers 6A88 otherwise (pico-hsm cmd_key_wrap.c).
  if (!dkekComplete(s.dkek)) fail(SW.REF_DATA_NOT_FOUND);
  return new Uint8Array(Buffer.from(s.dkek!.value, 'hex'));
}

/** `80 52 00 00 [32-byte share]`: import one share and/or report the status. */
function dkekShareCommand(ctx: DkekCardContext, p1: number, p2: number, data: Uint8Array): DkekReply {
  // P1/P2 select key domains on newer firmware; only the default domain is offered.
  if (p1 !== 0x00 || p2 !== 0x00) fail(SW.WRONG_P1P2);
  if (data.length > 0) {
    importDkekShare(ctx.state, data);
    ctx.save();
  }
  return { data: dkekStatusBytes(ctx.state.dkek) };
}

/** WRAP KEY `80 72 <key id> 92`: the key blob under the DKEK. */
function wrapCommand(ctx: DkekCardContext, keyId: number, p2: number): DkekReply {
  if (p2 !== 0x92) fail(SW.WRONG_P1P2);
  if (!ctx.userVerified) fail(SW.SECURITY_NOT_SATISFIED);
  const key = ctx.state.keys[String(keyId)];
  if (!key || keyId === 0) fail(SW.FILE_NOT_FOUND);
  const dkek = dkekValue(ctx.state);
  try {
    // Only keys made (or imported) under the complete DKEK may leave, and only when their
    // algorithm list (GAKP tag 91) allows wrapping.
    const listed = key.algorithms === undefined || Buffer.from(key.algorithms, 'hex').includes(ALG_WRAP);
    if (key.exportable !== true || !listed) fail(SW.CONDITIONS_NOT_SATISFIED);
    return { data: encodeKeyBlob(dkek, key) };
  } finally {
    dkek.fill(0);
  }
}

/** UNWRAP KEY `80 74 <key id> 93`, blob inline or (no data) staged in EF 2F10. */
function unwrapCommand(ctx: DkekCardContext, keyId: number, p2: number, data: Uint8Array): DkekReply {
  if (p2 !== 0x93) fail(SW.WRONG_P1P2);
  if (keyId === 0) fail(SW.WRONG_P1P2);
  if (!ctx.userVerified) fail(SW.SECURITY_NOT_SATISFIED);
  const s = ctx.state;
  if (s.keys[String(keyId)]) fail(SW.FILE_EXISTS);
  let blob = data;
  if (blob.length === 0) {
    const staged = s.files[EF_UNWRAP_STAGING];
    if (staged === undefined || staged.length === 0) fail(SW.FILE_NOT_FOUND);
    blob = new Uint8Array(Buffer.from(staged, 'hex'));
  }
  const dkek = dkekValue(s);
  let decoded: DecodedKey;
  try {
    decoded = decodeKeyBlob(dkek, blob);
  } finally {
    dkek.fill(0);
  }
  const stored: StoredKey = {
    spec: decoded.spec,
    pkcs8: Buffer.from(decoded.pkcs8).toString('base64'),
    signatures: 0,
    createdAt: new Date().toISOString(),
    exportable: true,
  };
  decoded.pkcs8.fill(0);
  if (decoded.algorithms) stored.algorithms = Buffer.from(decoded.algorithms).toString('hex').toUpperCase();
  s.keys[String(keyId)] = stored;
  ctx.save();
  return {};
}

/** Dispatch `80 52`, `80 72`, `80 74`; any other INS is not ours (`6D00`). */
export function dkekCommand(ctx: DkekCardContext, ins: number, p1: number, p2: number, data: Uint8Array): DkekReply {
  switch (ins) {
    case 0x52: return dkekShareCommand(ctx, p1, p2, data);
    case 0x72: return wrapCommand(ctx, p1, p2);
    case 0x74: return unwrapCommand(ctx, p1, p2, data);
    default: return fail(SW.INS_NOT_SUPPORTED);
  }
}
