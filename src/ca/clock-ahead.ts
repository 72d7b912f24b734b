import { isoUtc } from './clock.js';
import { CaError } from './errors.js';
import type { CaStore } from './store.js';

/**
 * The forward half of the clock check (issue #8 item 4): a clock far past the last signing
 * event is more often a wrong clock (a dead RTC battery set to a future date, a typo in
 * `date -s`) than a long pause. Past `maxAheadDays` a signing command needs the operator's
 * explicit `--confirm-clock` (which the caller audits). Returns how far ahead it is, in days.
 */
export const DAY_MS = 86_400_000;

export function clockAheadDays(store: CaStore, now: Date): { last: Date; days: number } | undefined {
  const last = store.lastActivity();
  if (!last) return undefined;
  return { last, days: (now.getTime() - last.getTime()) / DAY_MS };
}

export function assertClockNotAhead(store: CaStore, now: Date, maxAheadDays: number, confirmed: boolean): { last: Date; days: number } | undefined {
  const a = clockAheadDays(store, now);
  if (!a || a.days <= maxAheadDays || confirmed) return a && a.days > maxAheadDays ? a : undefined;
  throw new CaError('CLOCK_AHEAD', `the clock says ${isoUtc(now)}, ${a.days.toFixed(1)} days after the last signing event (${isoUtc(a.last)}); more than ${maxAheadDays} days needs a confirmation`, {
    hint: 'Check the clock against an independent one (`date -u`). If it is right, run the command again with --confirm-clock (recorded in the audit log).',
    details: { now: isoUtc(now), last: isoUtc(a.last), days: a.days, maxAheadDays },
  });
}
