import { sha256Incremental } from '../common/sha256.js';

/**
 * The audit log's hash chain: h_i = SHA-256(h_{i-1} ‖ canonical(record_i)), h_0 = 32 zero
 * octets. Changing, dropping or reordering any record changes every later hash, so
 * `ca audit verify` detects it (ca-invariants.md §1.5: tamper-evident log).
 */
export const GENESIS_HASH = new Uint8Array(32);

export interface ChainedFields {
  readonly seq: number;
  readonly at: string;
  readonly event: string;
  readonly ca: string | null;
  /** The stored JSON text of the details (already canonical). */
  readonly data: string;
}

/** JSON with object keys sorted at every level: one byte string per value. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('non-finite number in audit data');
    if (typeof value === 'bigint') return JSON.stringify(value.toString());
    return JSON.stringify(value ?? null);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString('hex'));
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/** The canonical bytes of one record (everything but the hashes). */
export function canonicalRecord(r: ChainedFields): Buffer {
  return Buffer.from(canonicalJson({ seq: r.seq, at: r.at, event: r.event, ca: r.ca, data: JSON.parse(r.data) as unknown }), 'utf8');
}

export function chainHash(prev: Uint8Array, r: ChainedFields): Uint8Array {
  const h = sha256Incremental();
  h.update(prev);
  h.update(canonicalRecord(r));
  return h.digest();
}
