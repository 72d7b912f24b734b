import type { CrlReason } from '../crl/tbs-cert-list-input.js';
import { toHex } from '../../common/hex.js';
import { CaError } from '../errors.js';
import { bigintToIntegerContent } from '../x509/integer.js';

/**
 * OpenSSL's CA database, `index.txt` (also easy-rsa's `pki/index.txt`): one certificate per line,
 * six TAB-separated fields (OpenSSL apps/ca.c, DB_type … DB_name; apps/lib/apps.c load_index):
 *
 *     status  expiry  revocation  serial  file  subject
 *
 * status is `V` (valid), `R` (revoked) or `E` (expired, written by `openssl ca -updatedb`); expiry
 * and the revocation time are ASN.1 time strings (UTCTime `YYMMDDHHMMSSZ`, GeneralizedTime
 * `YYYYMMDDHHMMSSZ` from 2050); serial is hex; file is `unknown` unless the CA kept a name.
 *
 * The revocation field is empty for V/E and, for R, what apps/ca.c make_revocation_str() wrote:
 *   `revtime`                          no reason (→ CRL entry without reasonCode)
 *   `revtime,reason`                   one of crl_reasons[] (case-insensitive, as unpack_revinfo)
 *   `revtime,keyTime,compromiseTime`   keyCompromise with an invalidityDate (`-crl_compromise`)
 *   `revtime,CAkeyTime,compromiseTime` cACompromise with an invalidityDate (`-crl_CA_compromise`)
 *   `revtime,holdInstruction,OID`      certificateHold (`-crl_hold`)
 * Bad lines are refused with their line number: an adoption never guesses.
 */
export type IndexStatus = 'V' | 'R' | 'E';

export interface IndexRevocation {
  /** When the old CA recorded the revocation (the CRL entry's revocationDate). */
  readonly date: Date;
  readonly reason: CrlReason;
  /** keyTime / CAkeyTime: when the key was (suspected) compromised (RFC 5280 §5.3.2). */
  readonly invalidityDate?: Date;
  /** The field as written, for the audit record. */
  readonly raw: string;
}

export interface IndexEntry {
  /** 1-based line in the file. */
  readonly line: number;
  readonly status: IndexStatus;
  readonly expires: Date;
  readonly revocation?: IndexRevocation;
  /** Upper-case hex, no leading zero octets beyond what a positive DER INTEGER needs. */
  readonly serialHex: string;
  readonly serial: bigint;
  readonly fileName: string;
  /** OpenSSL's one-line form, `/C=DE/O=…/CN=…`. */
  readonly subject: string;
}

/** crl_reasons[] of apps/ca.c, lower-cased, with the CRLReason cardca records. */
const REASONS: Readonly<Record<string, CrlReason>> = {
  unspecified: 'unspecified',
  keycompromise: 'keyCompromise',
  cacompromise: 'cACompromise',
  affiliationchanged: 'affiliationChanged',
  superseded: 'superseded',
  cessationofoperation: 'cessationOfOperation',
  certificatehold: 'certificateHold',
  removefromcrl: 'removeFromCRL',
};

/** ASN.1 UTCTime or GeneralizedTime text as OpenSSL writes it (always Zulu, whole seconds). */
export function parseAsn1TimeText(s: string): Date | undefined {
  let m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  let year: number;
  if (m) {
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy; // RFC 5280 §4.1.2.5.1
  } else {
    m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
    if (!m) return undefined;
    year = Number(m[1]);
  }
  const [mo, d, h, mi, se] = [2, 3, 4, 5, 6].map((i) => Number(m![i]));
  const t = Date.UTC(year, mo! - 1, d!, h!, mi!, se!);
  const date = new Date(t);
  // Refuse 20261331…: Date.UTC would roll it over into another valid date.
  if (date.getUTCMonth() !== mo! - 1 || date.getUTCDate() !== d! || date.getUTCHours() !== h! || date.getUTCMinutes() !== mi! || date.getUTCSeconds() !== se!) return undefined;
  return date;
}

/** A hex serial as OpenSSL writes it (index.txt, `serial`, `crlnumber`): upper-case, even length. */
export function parseHexNumber(s: string): bigint | undefined {
  if (!/^[0-9A-Fa-f]+$/.test(s)) return undefined;
  return BigInt(`0x${s}`);
}

/** Canonical upper-case hex of a positive serial: the DER INTEGER content octets. */
export function serialHexOf(n: bigint): string {
  return toHex(bigintToIntegerContent(n)).toUpperCase();
}

function refuse(file: string, line: number, what: string, hint?: string): never {
  throw new CaError('ADOPT_INDEX_MALFORMED', `${file}:${line}: ${what}`, {
    hint: hint ?? 'Fix or remove that line of the CA database (it is what `openssl ca` reads), then run `ca adopt` again.',
    details: { file, line },
  });
}

function parseRevocation(field: string, file: string, line: number): IndexRevocation {
  const parts = field.split(',');
  const date = parseAsn1TimeText(parts[0] ?? '');
  if (!date) refuse(file, line, `revocation time "${parts[0] ?? ''}" is not an ASN.1 time (YYMMDDHHMMSSZ)`);
  if (parts.length === 1) return { date, reason: 'unspecified', raw: field };
  const word = parts[1]!.toLowerCase();
  if (word === 'keytime' || word === 'cakeytime') {
    if (parts.length !== 3) refuse(file, line, `"${parts[1]}" needs a compromise time after it ("revtime,${parts[1]},YYMMDDHHMMSSZ")`);
    const invalidityDate = parseAsn1TimeText(parts[2]!);
    if (!invalidityDate) refuse(file, line, `compromise time "${parts[2]}" is not an ASN.1 time`);
    return { date, reason: word === 'keytime' ? 'keyCompromise' : 'cACompromise', invalidityDate, raw: field };
  }
  if (word === 'holdinstruction') {
    if (parts.length !== 3 || !/^\d+(\.\d+)+$/.test(parts[2]!)) refuse(file, line, 'holdInstruction needs an OID after it ("revtime,holdInstruction,1.2.840.10040.2.2")');
    return { date, reason: 'certificateHold', raw: field };
  }
  const reason = REASONS[word];
  if (!reason) refuse(file, line, `unknown revocation reason "${parts[1]}" (OpenSSL knows ${Object.values(REASONS).join(', ')}, holdInstruction, keyTime, CAkeyTime)`);
  if (parts.length !== 2) refuse(file, line, `unexpected text after the reason: "${field}"`);
  return { date, reason, raw: field };
}

/** Parse a whole `index.txt`. `file` names it in messages. Empty trailing lines are allowed. */
export function parseIndexTxt(text: string, file: string): IndexEntry[] {
  const out: IndexEntry[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, i) => {
    const line = i + 1;
    const l = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (l === '') refuse(file, line, 'empty line (OpenSSL refuses to load such a database)');
    const f = l.split('\t');
    if (f.length !== 6) refuse(file, line, `${f.length} TAB-separated fields, OpenSSL writes 6 (status, expiry, revocation, serial, file, subject)`);
    const [st, exp, rev, ser, fileName, subject] = f as [string, string, string, string, string, string];
    if (st !== 'V' && st !== 'R' && st !== 'E') refuse(file, line, `unknown status letter "${st}" (V valid, R revoked, E expired)`);
    const expires = parseAsn1TimeText(exp);
    if (!expires) refuse(file, line, `expiry "${exp}" is not an ASN.1 time (YYMMDDHHMMSSZ)`);
    const serial = parseHexNumber(ser);
    if (serial === undefined) refuse(file, line, `serial "${ser}" is not hexadecimal`);
    if (serial === 0n) refuse(file, line, 'serial 0 (RFC 5280 §4.1.2.2: serials are positive)');
    if (ser.length > 42) refuse(file, line, `serial ${ser} is longer than 20 octets (RFC 5280 §4.1.2.2)`);
    if (!subject.startsWith('/')) refuse(file, line, `subject "${subject}" is not in OpenSSL's /type=value/… form`);
    let revocation: IndexRevocation | undefined;
    if (st === 'R') {
      if (rev === '') refuse(file, line, 'status R without a revocation time');
      revocation = parseRevocation(rev, file, line);
    } else if (rev !== '') refuse(file, line, `status ${st} with a revocation field "${rev}"`);
    out.push({ line, status: st, expires, ...(revocation ? { revocation } : {}), serialHex: serialHexOf(serial), serial, fileName, subject });
  });
  return out;
}

/**
 * A `serial` or `crlnumber` file: one hex number on the first line (OpenSSL apps/lib/apps.c
 * load_serial). `file` names it in messages.
 */
export function parseNumberFile(text: string, file: string): bigint {
  const first = text.split('\n')[0]!.trim();
  const n = parseHexNumber(first);
  if (n === undefined) {
    throw new CaError('ADOPT_NUMBER_FILE_MALFORMED', `${file}:1: "${first}" is not a hexadecimal number`, {
      hint: 'It must hold one hex number, as `openssl ca` writes it (e.g. 1A).',
      details: { file, line: 1 },
    });
  }
  return n;
}
