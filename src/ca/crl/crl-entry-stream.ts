import type { CrlReason } from './tbs-cert-list-input.js';

/**
 * One revoked entry as the CRL writer consumes it: positional arguments, not an object, so a
 * CRL of a million entries allocates no record per entry (issue #14 item 3). Times are ISO 8601
 * UTC strings `yyyy-mm-ddThh:mm:ss.sssZ` as the store keeps them (clock.ts `isoUtc`); the writer
 * truncates them to whole seconds (RFC 5280 §5.1.2.4).
 */
export type CrlEntryVisitor = (serial: Uint8Array, revocationDate: string, reason: CrlReason, invalidityDate: string | undefined) => void;

/**
 * The revoked entries of one CRL, read twice at most: `count` and `serialOctets` (from one SQL
 * aggregate) size the output buffer before a single `forEach` pass writes the DER.
 */
export interface CrlEntryStream {
  /** Number of entries `forEach` will visit. */
  readonly count: number;
  /** Sum of the serials' lengths in octets. */
  readonly serialOctets: number;
  forEach(visit: CrlEntryVisitor): void;
}

/** An in-memory list as a stream (tests, small CRLs). */
export function crlEntryStreamOf(
  entries: readonly { readonly serial: Uint8Array; readonly revocationDate: string; readonly reason?: CrlReason; readonly invalidityDate?: string }[],
): CrlEntryStream {
  return {
    count: entries.length,
    serialOctets: entries.reduce((n, e) => n + e.serial.length, 0),
    forEach: (visit) => {
      for (const e of entries) visit(e.serial, e.revocationDate, e.reason ?? 'unspecified', e.invalidityDate);
    },
  };
}
