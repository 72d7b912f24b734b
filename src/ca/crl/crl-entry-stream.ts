import { CaError } from '../errors.js';
import { CRL_REASON_CODES, type CrlReason } from './tbs-cert-list-input.js';

/**
 * One revoked entry packed in one string, as the store hands it to the CRL writer: a CRL of a
 * million entries then costs a million short strings, not a million records and Buffers
 * (issue #14 item 3: a Buffer per row cost better-sqlite3 ≈ 2 µs, a string ≈ 1 µs).
 *
 *   [0, 24)   revocationDate, ISO 8601 UTC `yyyy-mm-ddThh:mm:ss.sssZ` (clock.ts `isoUtc`)
 *   [24, 26)  CRLReason code (RFC 5280 §5.3.1), two decimal digits; `00` = unspecified;
 *             `??` = a reason the database holds that is no CRLReason
 *   [26]      `I` when an invalidityDate follows, `-` otherwise
 *   [27, 51)  invalidityDate (RFC 5280 §5.3.2), ISO 8601 UTC, only after `I`
 *   rest      the serial's content octets, upper-case hex (RFC 5280 §4.1.2.2)
 *
 * The writer truncates times to whole seconds (RFC 5280 §5.1.2.4).
 */
export type PackedCrlEntry = string;

/**
 * The revoked entries of one CRL: `count` (from the kept counts, migration 5) and
 * `serialOctets` size the output buffer before a single `forEach` pass writes the DER.
 */
export interface CrlEntryStream {
  /** Number of entries `forEach` will visit. */
  readonly count: number;
  /** Sum of the serials' lengths in octets (an upper bound is fine). */
  readonly serialOctets: number;
  forEach(visit: (entry: PackedCrlEntry) => void): void;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex').toUpperCase();

/** Pack one entry (tests and in-memory CRLs; the store packs in SQL, sqlite-store.ts). */
export function packCrlEntry(serial: Uint8Array, revocationDate: string, reason: CrlReason = 'unspecified', invalidityDate?: string): PackedCrlEntry {
  for (const [t, what] of [[revocationDate, 'revocationDate'], [invalidityDate, 'invalidityDate']] as const) {
    if (t !== undefined && t.length !== 24) throw new CaError('CA_BAD_CRL_DATES', `${what} "${t}" is not an ISO 8601 UTC time yyyy-mm-ddThh:mm:ss.sssZ`);
  }
  const code = CRL_REASON_CODES[reason];
  const cc = code === undefined ? '??' : String(code).padStart(2, '0');
  return `${revocationDate}${cc}${invalidityDate === undefined ? '-' : `I${invalidityDate}`}${hex(serial)}`;
}

/** An in-memory list as a stream (tests, small CRLs). */
export function crlEntryStreamOf(
  entries: readonly { readonly serial: Uint8Array; readonly revocationDate: string; readonly reason?: CrlReason; readonly invalidityDate?: string }[],
): CrlEntryStream {
  return {
    count: entries.length,
    serialOctets: entries.reduce((n, e) => n + e.serial.length, 0),
    forEach: (visit) => {
      for (const e of entries) visit(packCrlEntry(e.serial, e.revocationDate, e.reason, e.invalidityDate));
    },
  };
}

/**
 * A CRL's entries already DER-encoded (migration 9's crl_entries, sqlite-store.ts): read as a
 * few concatenated chunks instead of a row per entry, sized by SQL sums before a byte is read.
 */
export interface CrlEntryChunks {
  /**
   * Entries per run, in CRL order (revoked, then outcome_unknown). Within a run the serials
   * strictly increase in SQLite's BLOB order (memcmp, then length): the lint checks that order
   * instead of a set of every serial, the store's UNIQUE (issuer_id, serial) having proved there
   * is no duplicate (crl-entry-checks.ts).
   */
  readonly runs: readonly number[];
  /** Sum of the entries' DER lengths. */
  readonly octets: number;
  /** Every entry's DER in CRL order, in chunks of whole entries; `entries`: how many in `der`. */
  forEach(visit: (der: Uint8Array, entries: number) => void): void;
}
