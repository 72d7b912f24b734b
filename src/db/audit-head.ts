import { toHex } from '../common/hex.js';
import type { SqliteStore } from './sqlite-store.js';

/**
 * The newest audit record's sequence number and hash (lower-case hex), or seq 0 for an empty
 * log. On its own (checkpoint-compare.ts re-exports it) so that `ca status` reads it without
 * importing the checkpoint format and, through it, the issuance engine.
 */
export function auditHead(store: SqliteStore): { seq: number; hash: string } {
  const r = store.db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: Buffer } | undefined;
  return r ? { seq: r.seq, hash: toHex(new Uint8Array(r.hash)).toLowerCase() } : { seq: 0, hash: '' };
}
