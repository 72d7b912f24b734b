import type { SqliteStore } from '../db/sqlite-store.js';
import { auditHead } from '../db/audit-head.js';
import { CHECKPOINT_EVENT } from './checkpoint-event.js';
import { println, type CliContext } from './context.js';
import type { HomeMode } from './home-mode.js';
import { currentPin } from './profile-pin.js';
import { RECORDS_OF_EVENT_SQL } from '../db/audit-by-event.js';

/**
 * The trust part of `ca status` (issue #8 items 1 and 6, #18 item 12): whether this is a
 * REHEARSAL home, the newest checkpoint per card and how far the database is past it, and the
 * pinned profile set. Read from the audit log only: no card, no PIN.
 */
export interface TrustStatus {
  rehearsal: boolean;
  checkpoints: { card: string; auditSeq: number; at: string; reason: string; onCard: boolean; recordsSince: number }[];
  profiles: { sha256: string; pinnedBy: number; at: string } | null;
}

export function collectTrustStatus(store: SqliteStore, mode: HomeMode): TrustStatus {
  const head = auditHead(store).seq;
  const newest = new Map<string, TrustStatus['checkpoints'][number]>();
  const rows = store.db.prepare(RECORDS_OF_EVENT_SQL).all(CHECKPOINT_EVENT) as { at: string; data: string }[];
  for (const r of rows) {
    const d = JSON.parse(r.data) as { card?: unknown; auditSeq?: unknown; reason?: unknown; onCard?: unknown };
    if (typeof d.card !== 'string' || typeof d.auditSeq !== 'number') continue;
    newest.set(d.card, { card: d.card, auditSeq: d.auditSeq, at: r.at, reason: String(d.reason ?? ''), onCard: d.onCard === true, recordsSince: head - d.auditSeq });
  }
  const pin = currentPin(store);
  return { rehearsal: mode.rehearsal, checkpoints: [...newest.values()], profiles: pin ? { sha256: pin.sha256, pinnedBy: pin.seq, at: pin.at } : null };
}

export const REHEARSAL_STATUS_LINE = '*** REHEARSAL home (ca init --rehearsal): emulated cards allowed; nothing issued here is for production ***';

export function renderTrustStatus(ctx: CliContext, t: TrustStatus): void {
  println(ctx);
  if (t.checkpoints.length === 0) println(ctx, 'checkpoints: none yet (written at the end of every ceremony and `ca crl`)');
  for (const c of t.checkpoints) {
    println(ctx, `checkpoint on card ${c.card}: audit #${c.auditSeq} (${c.reason}, ${c.at})${c.onCard ? '' : ' — file copy only, the card write failed'}; the database is ${c.recordsSince} record(s) past it`);
  }
  if (t.profiles) println(ctx, `profiles: SHA-256 ${t.profiles.sha256} (pinned by audit #${t.profiles.pinnedBy}, ${t.profiles.at})`);
  if (t.rehearsal) println(ctx, REHEARSAL_STATUS_LINE);
}
