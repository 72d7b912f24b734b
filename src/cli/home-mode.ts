import { toHex } from '../common/hex.js';
import type { SqliteStore } from '../db/sqlite-store.js';

/**
 * What kind of CA home this is, read from its first audit record (`ca.init`). The record is in
 * the hash chain and under every checkpoint, so turning a production home into a rehearsal one
 * (to use an emulated card or a fake clock) rewrites record #1 and breaks `ca audit verify`.
 *
 * - `rehearsal`: made by `ca init --rehearsal`. Only such a home accepts emulated cards and
 *   `CA_FAKE_NOW`; everything it prints says REHEARSAL (issue #18 item 12, #8 item 4).
 * - `homeId`: random id of the home, written into every checkpoint so a checkpoint of another
 *   CA is recognised as foreign. Homes made before it existed use the hash of record #1.
 * - `clockMaxAheadDays`: how far the clock may be past the last signing event before a signing
 *   command needs `--confirm-clock` (default 2 days).
 */
export interface HomeMode {
  readonly rehearsal: boolean;
  readonly homeId: string;
  readonly clockMaxAheadDays: number;
}

export const DEFAULT_CLOCK_MAX_AHEAD_DAYS = 2;

export function readHomeMode(store: SqliteStore): HomeMode {
  const r = store.db.prepare('SELECT event, data, hash FROM audit_log WHERE seq = 1').get() as { event: string; data: string; hash: Buffer } | undefined;
  let data: Record<string, unknown> = {};
  if (r?.event === 'ca.init') {
    try {
      data = JSON.parse(r.data) as Record<string, unknown>;
    } catch {
      /* a damaged record #1 is reported by `ca audit verify`; treat the home as production */
    }
  }
  const days = data['clockMaxAheadDays'];
  return {
    rehearsal: data['rehearsal'] === true,
    homeId: typeof data['homeId'] === 'string' ? data['homeId'] : r ? toHex(new Uint8Array(r.hash)) : '',
    clockMaxAheadDays: typeof days === 'number' && Number.isFinite(days) && days > 0 ? days : DEFAULT_CLOCK_MAX_AHEAD_DAYS,
  };
}
