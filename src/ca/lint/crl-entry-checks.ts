import { toHex } from '../../common/hex.js';
import { walkCrlEntries, type CrlEntryView } from '../crl/crl-structure.js';
import type { Tlv } from '../x509/der.js';
import { decodeOidContent } from './certificate-model.js';
import type { CrlLintContext } from './crl-model.js';
import { SerialSet } from './serial-set.js';
import { checkTimeEncoding } from './x509-time.js';

/**
 * The per-entry CRL rules (crl-rules.ts names them), run in ONE walk over revokedCertificates so
 * a CRL of a million entries is linted in one pass with bounded memory (issue #14 item 3).
 * Each rule keeps its first MAX_MESSAGES messages and counts the rest.
 */
export const MAX_MESSAGES = 20;

/** BR 7.2.2 / 4.9.1: keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn. */
const ALLOWED_REASONS = new Set([1, 2, 3, 4, 5, 9]);

export type EntryRuleName =
  | 'e_crl_entry_serial_invalid'
  | 'e_crl_entry_serial_unknown'
  | 'e_crl_entry_duplicate_serial'
  | 'e_crl_entry_time_format'
  | 'e_crl_entry_unknown_extension'
  | 'e_crl_invalidity_date_not_generalized_time'
  | 'e_crl_invalidity_date_after_revocation_date'
  | 'e_crl_invalidity_date_critical'
  | 'e_crl_reason_code_critical'
  | 'e_crl_reason_code_not_allowed';

export interface CrlEntryFindings {
  readonly count: number;
  readonly messages: ReadonlyMap<EntryRuleName, readonly string[]>;
}

/** id-ce-cRLReasons 2.5.29.21 and id-ce-invalidityDate 2.5.29.24 as OID content octets 55 1D nn. */
const isIdCe = (b: Uint8Array, oid: Tlv, n: number): boolean => oid.end - oid.valueStart === 3 && b[oid.valueStart] === 0x55 && b[oid.valueStart + 1] === 0x1d && b[oid.valueStart + 2] === n;
const REASON = 21;
const INVALIDITY = 24;

/** Time content digits → YYYYMMDDHHMMSS as a number (for ordering), or NaN. */
function timeKey(b: Uint8Array, t: Tlv): number {
  const len = t.end - t.valueStart;
  const utc = t.tag === 0x17;
  if ((utc && len !== 13) || (!utc && len !== 15) || b[t.end - 1] !== 0x5a) return NaN;
  let v = 0;
  for (let i = t.valueStart; i < t.end - 1; i++) {
    const d = b[i]! - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  if (utc) v += (Math.floor(v / 1e10) >= 50 ? 1900 : 2000) * 1e10;
  return v;
}

/** The same verdict as x509-time.ts `checkTimeEncoding`, without a string or a Date per entry. */
function timeOk(b: Uint8Array, t: Tlv): boolean {
  const k = timeKey(b, t);
  if (Number.isNaN(k)) return false;
  return t.tag === 0x17 || Math.floor(k / 1e10) >= 2050;
}

/** Serial content octets b[s0, s1) sort after b[p0, p1) in SQLite's BLOB order (memcmp, then the shorter first). */
function serialAfter(b: Uint8Array, p0: number, p1: number, s0: number, s1: number): boolean {
  const n = Math.min(p1 - p0, s1 - s0);
  for (let i = 0; i < n; i++) {
    const d = b[s0 + i]! - b[p0 + i]!;
    if (d !== 0) return d > 0;
  }
  return s1 - s0 > p1 - p0;
}

export function checkCrlEntries(tbs: Uint8Array, list: Tlv, ctx: CrlLintContext): CrlEntryFindings {
  const messages = new Map<EntryRuleName, string[]>();
  const more = new Map<EntryRuleName, number>();
  const report = (rule: EntryRuleName, message: () => string): void => {
    const m = messages.get(rule) ?? (messages.set(rule, []), messages.get(rule)!);
    if (m.length < MAX_MESSAGES) m.push(message());
    else more.set(rule, (more.get(rule) ?? 0) + 1);
  };
  const runs = ctx.entryRuns;
  // Presized from the list's length (an entry is ≥ 20 octets), so it never rehashes. Not built
  // when the store's order stands in for it (entryRuns).
  const seen = runs ? undefined : new SerialSet(Math.ceil((list.end - list.valueStart) / 20));
  const known = ctx.knownSerials instanceof SerialSet ? ctx.knownSerials : undefined;
  // entryRuns: the run the current entry is in, entries left in it, the previous serial's offsets.
  let run = 0;
  let left = runs?.[0] ?? 0;
  let p0 = -1;
  let p1 = -1;
  // The current entry's serial as offsets, for messages: no subarray per entry (a million
  // typed-array views were a third of the walk's time).
  let s0 = 0;
  let s1 = 0;
  const hex = (): string => toHex(tbs.subarray(s0, s1));
  const inv17: { tag: number; start: number; valueStart: number; end: number } = { tag: 0x18, start: 0, valueStart: 0, end: 0 };
  const count = walkCrlEntries(tbs, list, (e: CrlEntryView) => {
    s0 = e.serial.valueStart;
    s1 = e.serial.end;
    // RFC 5280 §4.1.2.2: a positive INTEGER of at most 20 octets, minimally encoded (X.690
    // §8.3.2), so not zero.
    if (s1 - s0 > 20 || tbs[s0]! & 0x80 || (s1 - s0 > 1 && tbs[s0] === 0 && !(tbs[s0 + 1]! & 0x80)) || (s1 - s0 === 1 && tbs[s0] === 0)) {
      report('e_crl_entry_serial_invalid', () => `entry serial ${hex()} is not a valid serial`);
    }
    if (runs) {
      while (left === 0 && run < runs.length - 1) (left = runs[++run]!), (p0 = -1);
      if (left === 0) report('e_crl_entry_serial_unknown', () => `entry serial ${hex()} is beyond the store's ${runs.reduce((a, b) => a + b, 0)} entries`);
      else if (p0 >= 0 && !serialAfter(tbs, p0, p1, s0, s1)) report('e_crl_entry_duplicate_serial', () => `serial ${hex()} is not after the previous entry's (a duplicate, or not the store's order)`);
      left--;
      p0 = s0;
      p1 = s1;
    } else if (known ? !known.hasAt(tbs, s0, s1) : ctx.knownSerials && !ctx.knownSerials.has(tbs.subarray(s0, s1))) report('e_crl_entry_serial_unknown', () => `entry serial ${hex()} was not issued by this CA`);
    else if (!ctx.knownSerials && ctx.knownSerialsHex && !ctx.knownSerialsHex.has(toHex(tbs.subarray(s0, s1)))) report('e_crl_entry_serial_unknown', () => `entry serial ${hex()} was not issued by this CA`);
    if (seen && !seen.addAt(tbs, s0, s1)) report('e_crl_entry_duplicate_serial', () => `serial ${hex()} listed twice`);
    if (!timeOk(tbs, e.revocationDate)) report('e_crl_entry_time_format', () => checkTimeEncoding(tbs, e.revocationDate).problem ?? 'revocationDate malformed');
    for (let xi = 0; xi < e.extensionCount; xi++) {
      const x = e.extensions[xi]!;
      const reason = isIdCe(tbs, x.oid, REASON);
      const invalidity = isIdCe(tbs, x.oid, INVALIDITY);
      if (!reason && !invalidity) {
        report('e_crl_entry_unknown_extension', () => `entry extension ${decodeOidContent(tbs.subarray(x.oid.valueStart, x.oid.end))}`);
        continue;
      }
      const v0 = x.value.valueStart;
      const vLen = x.value.end - v0;
      if (reason) {
        if (x.critical) report('e_crl_reason_code_critical', () => 'reasonCode critical');
        // CRLReason ::= ENUMERATED (RFC 5280 §5.3.1): exactly 0a 01 nn.
        const code = vLen === 3 && tbs[v0] === 0x0a && tbs[v0 + 1] === 1 ? tbs[v0 + 2]! : -1;
        if (!ALLOWED_REASONS.has(code)) report('e_crl_reason_code_not_allowed', () => `reason code ${code} not allowed for ${hex()}`);
      } else {
        if (x.critical) report('e_crl_invalidity_date_critical', () => 'invalidityDate critical');
        // InvalidityDate ::= GeneralizedTime YYYYMMDDHHMMSSZ (RFC 5280 §5.3.2), the whole value.
        const whole = vLen === 17 && tbs[v0] === 0x18 && tbs[v0 + 1] === 15;
        if (whole) (inv17.start = v0), (inv17.valueStart = v0 + 2), (inv17.end = v0 + 17);
        const inv = whole ? timeKey(tbs, inv17) : NaN;
        if (Number.isNaN(inv)) {
          report('e_crl_invalidity_date_not_generalized_time', () => `invalidityDate of ${hex()} is not a GeneralizedTime YYYYMMDDHHMMSSZ`);
          continue;
        }
        const rev = timeKey(tbs, e.revocationDate);
        if (!Number.isNaN(rev) && inv > rev) report('e_crl_invalidity_date_after_revocation_date', () => `invalidityDate of ${hex()} is after its revocationDate`);
      }
    }
  });
  if (runs && count !== runs.reduce((a, b) => a + b, 0)) report('e_crl_entry_serial_unknown', () => `${count} entries, but the store has ${runs.reduce((a, b) => a + b, 0)}`);
  for (const [rule, n] of more) messages.get(rule)!.push(`… and ${n} more`);
  return { count, messages };
}
