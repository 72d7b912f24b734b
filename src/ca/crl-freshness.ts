/**
 * CRL freshness as an obligation (issue 16 item 4), measured against the CA profile's
 * `crl.overlap`: the profile says "re-issue this long before nextUpdate", so
 *
 *   ok     before nextUpdate − overlap (a freshly signed CRL is always ok),
 *   warn   inside the overlap window: the next CRL is due (`ca crl --due` signs it),
 *   alarm  in the last quarter of the window, or at/after nextUpdate (RFC 5280 §5.1.2.5:
 *          relying parties refuse a CRL past its nextUpdate; the VPN goes down).
 *
 * The window is taken from the CRL's own lifetime when the profile's overlap is not shorter than
 * it (a CRL signed under an older, longer-lived profile): then half of the lifetime, so a CRL
 * just signed is still never "due". Pure: times in, level out.
 */
export type FreshnessLevel = 'ok' | 'warn' | 'alarm';

export interface CrlFreshness {
  level: FreshnessLevel;
  /** Start of the overlap window: from here on a fresh CRL is due. */
  dueFrom: Date;
  /** Start of the last quarter of the window. */
  alarmFrom: Date;
  /** Length of the window used (ms). */
  windowMs: number;
  expired: boolean;
}

export function crlFreshness(now: Date, thisUpdate: Date, nextUpdate: Date, overlapMs: number): CrlFreshness {
  const next = nextUpdate.getTime();
  const lifetime = Math.max(0, next - thisUpdate.getTime());
  const windowMs = overlapMs > 0 && overlapMs < lifetime ? overlapMs : Math.floor(lifetime / 2);
  const dueFrom = new Date(next - windowMs);
  const alarmFrom = new Date(next - Math.floor(windowMs / 4));
  const t = now.getTime();
  const expired = t >= next;
  const level: FreshnessLevel = expired || t >= alarmFrom.getTime() ? 'alarm' : t >= dueFrom.getTime() ? 'warn' : 'ok';
  return { level, dueFrom, alarmFrom, windowMs, expired };
}
