import type { SignatureAlgorithm } from '../../crypto/signer.js';
import { concatBytes } from '../../common/hex.js';
import { CaError } from '../errors.js';
import { encodeTlv, readSingle, tlvHeader } from '../x509/der.js';
import { encodeInteger } from '../x509/integer.js';
import { signatureAlgorithmIdentifier } from '../x509/signature-algorithm-identifier.js';
import type { CrlEntryChunks, CrlEntryStream } from './crl-entry-stream.js';
import { sha256Incremental } from '../../common/sha256.js';
import { CRL_REASON_CODES, type CrlReason } from './tbs-cert-list-input.js';

const MAX_CRL_NUMBER = 1n << 159n;

/** id-ce arc (2.5.29, RFC 5280 §4.2): OID content octets 55 1D n. */
const ID_CE = [0x55, 0x1d] as const;
const ID_CE_CRL_NUMBER = 20;
const ID_CE_REASON_CODE = 21;
const ID_CE_INVALIDITY_DATE = 24;
const ID_CE_AUTHORITY_KEY_IDENTIFIER = 35;

/**
 * The largest encoding of one entry beyond its serial's octets: SEQUENCE header 2, INTEGER
 * header 2, GeneralizedTime 17, and crlEntryExtensions (SEQUENCE header 2, reasonCode 12,
 * invalidityDate 26). Entry content never reaches 128 octets (serial ≤ 20), so every entry
 * header is the two-octet short form (X.690 §8.1.3.4).
 */
const ENTRY_OVERHEAD_MAX = 2 + 2 + 17 + 2 + 12 + 26;

export interface TbsCertListHeader {
  /** Issuer Name DER, byte-identical to the CA certificate's subject. */
  readonly issuerName: Uint8Array;
  /** Authority key identifier = the CA certificate's SKI (RFC 5280 §5.2.1). */
  readonly aki: Uint8Array;
  /** ISO 8601 UTC (clock.ts `isoUtc` / `Date.toISOString`); written in whole seconds. */
  readonly thisUpdate: string;
  readonly nextUpdate: string;
  /** Monotonic CRL number, 0 ≤ n < 2^159 (RFC 5280 §5.2.3: ≤ 20 octets). */
  readonly crlNumber: bigint;
}

export interface WrittenTbsCertList {
  readonly tbs: Uint8Array;
  /** Entries written (equal to the stream's count). */
  readonly entries: number;
}

const ISO_SHAPE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function badTime(iso: string, what: string): CaError {
  return new CaError('CA_BAD_CRL_DATES', `${what} "${iso}" is not an ISO 8601 UTC time yyyy-mm-ddThh:mm:ss.sssZ`, { hint: 'Run `ca db check`: the database holds a malformed time.' });
}

/**
 * Write the X.509 Time for an ISO 8601 UTC instant at `p`: UTCTime YYMMDDHHMMSSZ through 2049,
 * GeneralizedTime YYYYMMDDHHMMSSZ from 2050 (RFC 5280 §5.1.2.4, §4.1.2.5), or GeneralizedTime
 * always (`generalized`, for invalidityDate: RFC 5280 §5.3.2). Seconds are truncated, the same
 * as flooring the instant. Returns the offset after it.
 */
function writeTime(buf: Uint8Array, p: number, src: string, at: number, what: string, generalized = false): number {
  // Character positions in yyyy-mm-ddThh:mm:ss.sssZ from `at`; a cheap shape test per entry,
  // the full regular expression only when it fails (to name the problem).
  const bad = (): CaError => badTime(src.slice(at, at + 24), what);
  if (src.length < at + 24 || src.charCodeAt(at + 10) !== 0x54 || src.charCodeAt(at + 23) !== 0x5a || src.charCodeAt(at + 4) !== 0x2d) throw bad();
  let year = 0;
  for (let i = at; i < at + 4; i++) {
    const d = src.charCodeAt(i) - 48;
    if (d < 0 || d > 9) throw bad();
    year = year * 10 + d;
  }
  if (!(year >= 1950 && year <= 9999)) throw bad();
  const full = generalized || year >= 2050;
  buf[p++] = full ? 0x18 : 0x17;
  buf[p++] = full ? 15 : 13;
  for (let i = full ? at : at + 2; i < at + 4; i++) buf[p++] = src.charCodeAt(i);
  for (let k = 0; k < 10; k++) {
    const c = src.charCodeAt(at + TIME_DIGITS[k]!);
    if (c < 0x30 || c > 0x39) throw bad();
    buf[p++] = c;
  }
  if (src.charCodeAt(at + 7) !== 0x2d || src.charCodeAt(at + 13) !== 0x3a || src.charCodeAt(at + 16) !== 0x3a || src.charCodeAt(at + 19) !== 0x2e) throw bad();
  buf[p++] = 0x5a;
  return p;
}

/** Offsets of MM DD hh mm ss in yyyy-mm-ddThh:mm:ss.sssZ. */
const TIME_DIGITS = Uint8Array.of(5, 6, 8, 9, 11, 12, 14, 15, 17, 18);

/** Value of one hex digit (0-9, A-F, a-f), or -1. */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x57 : -1;
}

/** An X.509 Time (RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050) from an ISO UTC string. */
export function timeTlv(iso: string, what: string): Uint8Array {
  if (iso.length !== 24 && !ISO_SHAPE.test(iso)) throw badTime(iso, what);
  const b = new Uint8Array(17);
  return b.subarray(0, writeTime(b, 0, iso, 0, what));
}

function idCe(n: number): Uint8Array {
  return Uint8Array.of(0x06, 3, ...ID_CE, n);
}

/** Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE (omitted: DER, X.690 §11.5), extnValue }. */
function extension(n: number, value: Uint8Array): Uint8Array {
  return encodeTlv(0x30, concatBytes(idCe(n), encodeTlv(0x04, value)));
}

const REASON_BY_CODE = new Map(Object.entries(CRL_REASON_CODES).map(([name, code]) => [code, name as CrlReason]));

/**
 * The CRLReason code of a packed entry's two digits; certificateHold, removeFromCRL,
 * aACompromise and anything that is no CRLReason are refused.
 */
function reasonCode(d1: number, d2: number): number {
  const code = d1 >= 0x30 && d1 <= 0x39 && d2 >= 0x30 && d2 <= 0x39 ? (d1 - 0x30) * 10 + (d2 - 0x30) : -1;
  const reason = REASON_BY_CODE.get(code);
  if (reason === 'certificateHold' || reason === 'removeFromCRL') {
    throw new CaError('CA_BAD_CRL_REASON', `reason ${reason} is not supported (no certificate holds, no delta CRLs)`);
  }
  if (reason === 'aACompromise') throw new CaError('CA_BAD_CRL_REASON', 'reason aACompromise is not allowed (BR 7.2.2; this CA issues no attribute certificates)');
  if (reason === undefined) throw new CaError('CA_BAD_CRL_REASON', 'a revocation reason is not a CRL reason (RFC 5280 §5.3.1)', { hint: 'Run `ca db check`: the database holds an unknown reason.' });
  return code;
}

/** A packed entry's hex serial → content octets at buf[p]; the same refusals as checkSerial. */
function writeSerial(buf: Uint8Array, p: number, e: string, from: number): number {
  const len = (e.length - from) / 2;
  if (!Number.isInteger(len) || len === 0 || len > 20) throw new CaError('CA_BAD_SERIAL', `serial is ${Math.floor(len)} octets; RFC 5280 §4.1.2.2 allows 1..20`);
  let any = 0;
  for (let i = 0; i < len; i++) {
    const hi = hexDigit(e.charCodeAt(from + 2 * i));
    const lo = hexDigit(e.charCodeAt(from + 2 * i + 1));
    if (hi < 0 || lo < 0) throw new CaError('CA_BAD_SERIAL', 'serial is not hexadecimal', { hint: 'Run `ca db check`.' });
    any |= buf[p + i] = (hi << 4) | lo;
  }
  if (buf[p]! & 0x80) throw new CaError('CA_BAD_SERIAL', 'serial is negative (top bit set); prefix 0x00');
  if (len > 1 && buf[p] === 0 && !(buf[p + 1]! & 0x80)) throw new CaError('CA_BAD_SERIAL', 'serial is not minimally encoded (leading 0x00)');
  if (any === 0) throw new CaError('CA_BAD_SERIAL', 'serial is zero');
  return len;
}

/**
 * The fields around the entries: version, signature, issuer, thisUpdate, nextUpdate (before the
 * revokedCertificates) and crlExtensions [0] (after). Every refusal of the header happens here.
 */
function headerParts(h: TbsCertListHeader, signatureAlgorithm: SignatureAlgorithm): { fixedPrefix: Uint8Array; exts: Uint8Array } {
  if (h.crlNumber < 0n || h.crlNumber >= MAX_CRL_NUMBER) {
    throw new CaError('CA_BAD_CRL_NUMBER', `CRL number ${h.crlNumber} is outside 0..2^159-1 (RFC 5280 §5.2.3)`);
  }
  const thisUpdate = timeTlv(h.thisUpdate, 'thisUpdate');
  const nextUpdate = timeTlv(h.nextUpdate, 'nextUpdate');
  if (!(h.nextUpdate.slice(0, 19) > h.thisUpdate.slice(0, 19))) {
    throw new CaError('CA_BAD_CRL_DATES', 'nextUpdate must be later than thisUpdate (RFC 5280 §5.1.2.5)');
  }
  if (h.aki.length === 0) throw new CaError('CA_BAD_CRL_AKI', 'the CRL needs the issuer key identifier (RFC 5280 §5.2.1)');
  if (h.issuerName.length === 0 || h.issuerName[0] !== 0x30) throw new CaError('CA_TBS_ENCODING', 'the issuer Name is not a DER SEQUENCE');
  try {
    readSingle(h.issuerName);
  } catch (e) {
    throw new CaError('CA_TBS_ENCODING', 'the issuer Name is not DER', { cause: e, hint: 'The issuer name DER is not canonical.' });
  }
  const fixedPrefix = concatBytes(Uint8Array.of(0x02, 0x01, 0x01), signatureAlgorithmIdentifier(signatureAlgorithm), h.issuerName, thisUpdate, nextUpdate);
  // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING } (§4.2.1.1).
  const aki = extension(ID_CE_AUTHORITY_KEY_IDENTIFIER, encodeTlv(0x30, encodeTlv(0x80, h.aki)));
  const crlNumber = extension(ID_CE_CRL_NUMBER, encodeInteger(h.crlNumber));
  return { fixedPrefix, exts: encodeTlv(0xa0, encodeTlv(0x30, concatBytes(aki, crlNumber))) };
}

export interface WrittenTbsFromChunks extends WrittenTbsCertList {
  /** SHA-256 of `tbs`, computed as it was written: the one hash of the TBS before signing. */
  readonly sha256: Uint8Array;
  /**
   * The allocation `tbs` is a view of, with FRAME_HEAD_ROOM octets before it and
   * FRAME_TAIL_ROOM after, owned by nobody else: assemble-crl.ts writes the CertificateList's
   * SEQUENCE header and signature around the TBS in place instead of copying 40 MB.
   */
  readonly frame: Uint8Array;
}

/** Room before the TBS for the CertificateList SEQUENCE header: 0x30 0x84 + 4 length octets (X.690 §8.1.3.5). */
export const FRAME_HEAD_ROOM = 6;
/**
 * Room after the TBS for signatureAlgorithm and signatureValue: an AlgorithmIdentifier (RSA-PSS
 * with its parameters is the longest, < 80 octets), a BIT STRING header (≤ 4) and its unused-bits
 * octet, and a signature of at most 512 octets (RSA-4096; ECDSA P-521 DER is ≤ 139).
 */
export const FRAME_TAIL_ROOM = 1024;

/**
 * Serialise a v2 TBSCertList (RFC 5280 §5.1) around pre-encoded entries (migration 9,
 * sqlite-store.ts revokedEntryChunks): the output is allocated at its exact size from the
 * store's sums, each chunk of entries is copied in once and hashed as it lands, no object per
 * entry. The entries' own rules are the lint's (crl-entry-checks.ts), on these exact bytes,
 * before the card is asked. A source that delivers other sizes or counts than it announced is
 * refused (CA_CRL_ENTRIES_CHANGED).
 */
export function writeTbsCertListFromChunks(h: TbsCertListHeader, signatureAlgorithm: SignatureAlgorithm, entries: CrlEntryChunks): WrittenTbsFromChunks {
  const { fixedPrefix, exts } = headerParts(h, signatureAlgorithm);
  const count = entries.runs.reduce((a, b) => a + b, 0);
  if ((count === 0) !== (entries.octets === 0)) throw new CaError('CA_CRL_ENTRIES_CHANGED', `the store announced ${count} entries in ${entries.octets} octets`, { hint: 'Run `ca db check`.' });
  // An empty revocation list is omitted, not encoded as an empty SEQUENCE (§5.1.2.6).
  const rh = count > 0 ? tlvHeader(0x30, entries.octets) : new Uint8Array(0);
  const th = tlvHeader(0x30, fixedPrefix.length + rh.length + entries.octets + exts.length);
  const tbsLength = th.length + fixedPrefix.length + rh.length + entries.octets + exts.length;
  const frame = new Uint8Array(FRAME_HEAD_ROOM + tbsLength + FRAME_TAIL_ROOM);
  const tbs = frame.subarray(FRAME_HEAD_ROOM, FRAME_HEAD_ROOM + tbsLength);
  const hash = sha256Incremental();
  let p = 0;
  for (const part of [th, fixedPrefix, rh]) (tbs.set(part, p), (p += part.length));
  hash.update(tbs.subarray(0, p));
  const entriesEnd = p + entries.octets;
  let n = 0;
  entries.forEach((der, k) => {
    if (p + der.length > entriesEnd) throw new CaError('CA_CRL_ENTRIES_CHANGED', 'the revoked entries changed while the CRL was written', { hint: 'Run `ca crl` again.' });
    tbs.set(der, p);
    hash.update(tbs.subarray(p, p + der.length));
    p += der.length;
    n += k;
  });
  if (p !== entriesEnd || n !== count) {
    throw new CaError('CA_CRL_ENTRIES_CHANGED', `the revoked entries changed while the CRL was written (${count} entries in ${entries.octets} octets announced, ${n} in ${p - entriesEnd + entries.octets} read)`, { hint: 'Run `ca crl` again.' });
  }
  tbs.set(exts, p);
  hash.update(exts);
  return { tbs, entries: n, sha256: hash.digest(), frame };
}

/**
 * Serialise a v2 TBSCertList (RFC 5280 §5.1) straight from an entry stream into one buffer:
 * no object per entry, one pass over the entries. The buffer is sized from the stream's count
 * and serial octets; entries are written after a gap, and the fields whose lengths depend on
 * the entries' total (revokedCertificates and TBSCertList headers) are written into the gap
 * afterwards, right-aligned, so the result is a subarray without a copy.
 *
 * Extensions: authorityKeyIdentifier and cRLNumber, both non-critical (§5.2.1, §5.2.3). An
 * empty revocation list is omitted, not encoded as an empty SEQUENCE (§5.1.2.6). Entry
 * reasonCode only for reasons other than `unspecified` (§5.3.1); certificateHold,
 * removeFromCRL and aACompromise are refused. Every refusal happens here, before any intent is
 * stored or any card is asked.
 */
export function writeTbsCertList(h: TbsCertListHeader, signatureAlgorithm: SignatureAlgorithm, entries: CrlEntryStream): WrittenTbsCertList {
  const { fixedPrefix, exts } = headerParts(h, signatureAlgorithm);
  const gap = fixedPrefix.length + 2 * 6; // + the two headers written last (≤ 6 octets each)
  const capacity = gap + entries.count * ENTRY_OVERHEAD_MAX + entries.serialOctets + exts.length;
  const buf = new Uint8Array(capacity);
  const entriesStart = gap;
  const entriesEnd = capacity - exts.length;
  let p = entriesStart;
  let n = 0;
  const reasonExt = extension(ID_CE_REASON_CODE, Uint8Array.of(0x0a, 1, 0)); // patched per entry
  const invalidityOid = idCe(ID_CE_INVALIDITY_DATE);
  entries.forEach((e) => {
    // e: a packed entry (crl-entry-stream.ts): revocationDate, reason code, [invalidityDate], serial hex.
    n++;
    const code = reasonCode(e.charCodeAt(24), e.charCodeAt(25));
    const hasInvalidity = e.charCodeAt(26) === 0x49; // 'I'
    const serialFrom = hasInvalidity ? 51 : 27;
    if (!hasInvalidity && e.charCodeAt(26) !== 0x2d) throw new CaError('CA_TBS_ENCODING', 'a packed CRL entry is malformed (crl-entry-stream.ts)');
    if (e.length - serialFrom > 40) throw new CaError('CA_BAD_SERIAL', `serial is ${(e.length - serialFrom) >> 1} octets; RFC 5280 §4.1.2.2 allows 1..20`);
    if (p + ENTRY_OVERHEAD_MAX + ((e.length - serialFrom) >> 1) > entriesEnd) {
      throw new CaError('CA_CRL_ENTRIES_CHANGED', 'the revoked entries changed while the CRL was written', { hint: 'Run `ca crl` again.' });
    }
    const start = p;
    p += 2; // entry SEQUENCE header, short form
    buf[p++] = 0x02;
    const len = writeSerial(buf, p + 1, e, serialFrom);
    buf[p++] = len;
    p += len;
    p = writeTime(buf, p, e, 0, 'revocationDate');
    if (code !== 0 || hasInvalidity) {
      const extStart = p;
      p += 2;
      if (code !== 0) {
        // CRLReason ::= ENUMERATED (RFC 5280 §5.3.1), tag 0x0a.
        buf.set(reasonExt, p);
        p += reasonExt.length;
        buf[p - 1] = code;
      }
      if (hasInvalidity) {
        // Whole seconds of yyyy-mm-ddThh:mm:ss: the invalidity date is not after revocationDate.
        for (let i = 0; i < 19; i++) {
          const a = e.charCodeAt(27 + i);
          const b = e.charCodeAt(i);
          if (a !== b) {
            if (a > b) throw new CaError('CA_BAD_INVALIDITY_DATE', 'the invalidity date is after the revocation date (RFC 5280 §5.3.2)');
            break;
          }
        }
        // InvalidityDate ::= GeneralizedTime, always (RFC 5280 §5.3.2), whole seconds, Zulu.
        buf[p++] = 0x30;
        buf[p++] = 24;
        buf.set(invalidityOid, p);
        p += 5;
        buf[p++] = 0x04;
        buf[p++] = 17;
        p = writeTime(buf, p, e, 27, 'invalidityDate', true);
      }
      buf[extStart] = 0x30;
      buf[extStart + 1] = p - extStart - 2;
    }
    buf[start] = 0x30;
    buf[start + 1] = p - start - 2;
  });
  if (n !== entries.count) {
    throw new CaError('CA_CRL_ENTRIES_CHANGED', `the revoked entries changed while the CRL was written (${entries.count} counted, ${n} read)`, { hint: 'Run `ca crl` again.' });
  }
  buf.set(exts, p);
  const end = p + exts.length;
  // Right-aligned prefix: [TBS header][fixed fields][revokedCertificates header] entries exts.
  let s = entriesStart;
  if (n > 0) {
    const rh = tlvHeader(0x30, p - entriesStart);
    s -= rh.length;
    buf.set(rh, s);
  }
  s -= fixedPrefix.length;
  buf.set(fixedPrefix, s);
  const th = tlvHeader(0x30, end - s);
  s -= th.length;
  buf.set(th, s);
  return { tbs: buf.subarray(s, end), entries: n };
}
