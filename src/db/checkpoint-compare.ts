import { CHECKPOINT_FORMAT, type Checkpoint, type CheckpointCa } from '../ca/checkpoint.js';
import { isoUtc } from '../ca/clock.js';
import { toHex } from '../common/hex.js';
import { DbError } from './db-error.js';
import type { SqliteStore } from './sqlite-store.js';
import { auditHead } from './audit-head.js';

export { auditHead };

/**
 * The database side of audit checkpoints (src/ca/checkpoint.ts): what a checkpoint taken now
 * would say, and how a database compares with a checkpoint taken earlier. A database may be
 * past a checkpoint (later work) but never behind it (truncation, rollback, a stale backup)
 * nor different at the checkpoint's audit record (a rewrite with the chain recomputed).
 */
export interface CheckpointFinding {
  readonly kind: 'foreign' | 'mismatch' | 'behind';
  readonly message: string;
}

/**
 * Per CA: serials ever reserved (the kept counts of migration 5, which `ca db check` compares
 * with a full count: rows are never deleted, so their sum is count(*) without reading a row per
 * certificate; the count(*) took seconds at a million, on every `ca crl` and `ca sign`) and the
 * highest CRL number.
 */
export function caCounters(store: SqliteStore): Record<string, CheckpointCa> {
  const rows = store.db
    .prepare(
      `SELECT i.name AS name,
         (SELECT coalesce(sum(k.n), 0) FROM certificate_counts k WHERE k.issuer_id = i.id) AS serials,
         (SELECT coalesce(max(l.crl_number), 0) FROM crls l WHERE l.issuer_id = i.id) AS crl
       FROM cas i ORDER BY i.id`,
    )
    .all() as { name: string; serials: number; crl: number }[];
  return Object.fromEntries(rows.map((r) => [r.name, { serials: r.serials, crlNumber: String(r.crl) }]));
}

export function checkpointNow(store: SqliteStore, o: { homeId: string; card: string; reason: string; at: Date; rehearsal: boolean }): Checkpoint {
  const head = auditHead(store);
  return {
    format: CHECKPOINT_FORMAT,
    homeId: o.homeId,
    card: o.card,
    auditSeq: head.seq,
    auditHead: head.hash,
    cas: caCounters(store),
    at: isoUtc(o.at),
    reason: o.reason,
    ...(o.rehearsal ? { rehearsal: true } : {}),
  };
}

export function compareWithCheckpoint(store: SqliteStore, homeId: string, cp: Checkpoint): CheckpointFinding[] {
  if (cp.homeId !== homeId) {
    return [{ kind: 'foreign', message: `the checkpoint belongs to CA home ${cp.homeId}, this database to ${homeId}` }];
  }
  const out: CheckpointFinding[] = [];
  const head = auditHead(store);
  const at = store.db.prepare('SELECT hash FROM audit_log WHERE seq = ?').get(cp.auditSeq) as { hash: Buffer } | undefined;
  if (!at) {
    out.push({ kind: 'behind', message: `the audit log ends at #${head.seq}, but the checkpoint covers #${cp.auditSeq}: records #${head.seq + 1}..#${cp.auditSeq} are missing (truncated or rolled back)` });
  } else if (toHex(new Uint8Array(at.hash)).toLowerCase() !== cp.auditHead.toLowerCase()) {
    out.push({ kind: 'mismatch', message: `audit record #${cp.auditSeq} has hash ${toHex(new Uint8Array(at.hash)).toLowerCase()}, the checkpoint recorded ${cp.auditHead}: a record at or before #${cp.auditSeq} was rewritten` });
  }
  const now = caCounters(store);
  for (const [name, c] of Object.entries(cp.cas)) {
    const n = now[name];
    if (!n) {
      out.push({ kind: 'behind', message: `CA ${name} is missing from the database` });
      continue;
    }
    if (n.serials < c.serials) out.push({ kind: 'behind', message: `CA ${name} has ${n.serials} serials, the checkpoint ${c.serials}: ${c.serials - n.serials} certificate row(s) are missing` });
    if (BigInt(n.crlNumber) < BigInt(c.crlNumber)) out.push({ kind: 'behind', message: `CA ${name}'s highest CRL number is ${n.crlNumber}, the checkpoint's ${c.crlNumber}: CRLs ${BigInt(n.crlNumber) + 1n}..${c.crlNumber} are missing` });
  }
  return out;
}

/** Throw the most serious finding against any of the checkpoints (CHECKPOINT_FOREIGN/MISMATCH/BEHIND). */
export function assertMatchesCheckpoints(store: SqliteStore, homeId: string, cps: readonly { cp: Checkpoint; source: string }[]): void {
  const all = cps.flatMap(({ cp, source }) => compareWithCheckpoint(store, homeId, cp).map((f) => ({ ...f, source, cp })));
  for (const kind of ['mismatch', 'behind', 'foreign'] as const) {
    const hits = all.filter((f) => f.kind === kind);
    if (hits.length === 0) continue;
    const text = hits.map((f) => `${f.source} (card ${f.cp.card}, ${f.cp.reason}, ${f.cp.at}): ${f.message}`).join('; ');
    const hint =
      kind === 'foreign'
        ? 'Check --home and the checkpoint: this checkpoint was written by another CA home.'
        : 'The database was altered or rolled back outside cardca. Keep a copy, compare it with your backups (`ca db restore` refuses stale ones) and the binder, and sign nothing until it is explained.';
    throw new DbError(`CHECKPOINT_${kind.toUpperCase()}`, `the database ${kind === 'behind' ? 'is behind' : kind === 'mismatch' ? 'disagrees with' : 'does not belong to'} a checkpoint: ${text}`, {
      hint,
      details: { findings: hits.map((h) => ({ kind: h.kind, source: h.source, message: h.message })) },
    });
  }
}
