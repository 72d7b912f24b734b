import { bytesEqual } from '../common/hex.js';
import { CaError } from './errors.js';
import { sha256 } from './issuance.js';

/**
 * An audit checkpoint (issue #8 item 1; ca-invariants.md G15, G19): what the database said at
 * the end of a ceremony or CRL, kept where the database writer cannot reach it — a
 * PIN-protected data object on the card that just signed — and as a file copy. A database
 * behind a checkpoint (truncated, rolled back) or disagreeing with it (a record rewritten and
 * the chain recomputed) is detected by comparing the two (src/db/checkpoint-compare.ts).
 *
 * The CA key never signs a checkpoint: it signs only certificates and CRLs. The checkpoint's
 * protection is the card's access rule (only a PIN holder writes `CD xx`), its copy in the
 * binder, and the CRL numbers relying parties have seen.
 *
 * Encoding on the card: "CCP1" ‖ length (2 octets, big-endian) ‖ UTF-8 JSON ‖ SHA-256(JSON), so
 * a torn write is recognised, not misread.
 */
export const CHECKPOINT_FORMAT = 'cardca-checkpoint/1';
const MAGIC = Buffer.from('CCP1', 'latin1');

export interface CheckpointCa {
  /** Certificate rows (every reserved serial, whatever its status) of this issuer. */
  readonly serials: number;
  /** Highest CRL number ever reserved for this issuer (decimal), "0" when none. */
  readonly crlNumber: string;
}

export interface Checkpoint {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly homeId: string;
  /** Card the checkpoint was written to. */
  readonly card: string;
  readonly auditSeq: number;
  /** Hash of audit record `auditSeq` (hex). */
  readonly auditHead: string;
  readonly cas: Readonly<Record<string, CheckpointCa>>;
  readonly at: string;
  /** What made it: "ceremony root", "crl servers #4", … */
  readonly reason: string;
  readonly rehearsal?: boolean;
}

const bad = (message: string, source: string): CaError =>
  new CaError('CHECKPOINT_MALFORMED', `${source}: ${message}`, {
    hint: 'This is not a cardca checkpoint, or its write was interrupted. Compare with the other copy (the card object vs. HOME/checkpoints/checkpoint-CARD.json).',
  });

export function encodeCheckpoint(cp: Checkpoint): Uint8Array {
  const json = Buffer.from(JSON.stringify(cp), 'utf8');
  if (json.length > 0xffff) throw new RangeError('checkpoint too large');
  const len = Buffer.from([json.length >> 8, json.length & 0xff]);
  return new Uint8Array(Buffer.concat([MAGIC, len, json, sha256(json)]));
}

/** Decode the card encoding, or the file copy (the bare JSON). */
export function decodeCheckpoint(bytes: Uint8Array, source: string): Checkpoint {
  let json: Buffer;
  const b = Buffer.from(bytes);
  if (b.subarray(0, 4).equals(MAGIC)) {
    if (b.length < 6) throw bad('truncated', source);
    const n = (b[4]! << 8) | b[5]!;
    if (b.length < 6 + n + 32) throw bad(`truncated: ${b.length} bytes, the header announces ${6 + n + 32}`, source);
    json = b.subarray(6, 6 + n);
    if (!bytesEqual(sha256(json), b.subarray(6 + n, 6 + n + 32))) throw bad('its hash does not match its content (torn or altered write)', source);
  } else {
    json = b;
  }
  let v: unknown;
  try {
    v = JSON.parse(json.toString('utf8'));
  } catch {
    throw bad('not JSON', source);
  }
  const o = v as Partial<Checkpoint>;
  const okCas =
    o.cas !== null && typeof o.cas === 'object' && Object.values(o.cas).every((c) => c && Number.isInteger(c.serials) && typeof c.crlNumber === 'string' && /^\d+$/.test(c.crlNumber));
  if (
    o.format !== CHECKPOINT_FORMAT || typeof o.homeId !== 'string' || typeof o.card !== 'string' || !Number.isInteger(o.auditSeq) || (o.auditSeq ?? 0) < 1 ||
    typeof o.auditHead !== 'string' || !/^[0-9a-fA-F]{64}$/.test(o.auditHead) || !okCas || typeof o.at !== 'string' || typeof o.reason !== 'string'
  ) {
    throw bad(`not a ${CHECKPOINT_FORMAT} record`, source);
  }
  return o as Checkpoint;
}
