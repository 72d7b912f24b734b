import { DateTime } from 'luxon';

/**
 * The injected clock (ARCHITECTURE.md "The clock is injected"). Every time the CA writes into a
 * certificate, CRL or audit record comes from here, so tests and ceremony rehearsals can pin it
 * and the clock-sanity check (`CLOCK_BEHIND`) has one source.
 */
export interface Clock {
  now(): Date;
}

/** The machine clock. */
export const systemClock: Clock = { now: () => new Date() };

/** A clock pinned to `at` (tests, `CA_FAKE_NOW`). */
export function fixedClock(at: Date | string): Clock {
  const t = typeof at === 'string' ? DateTime.fromISO(at, { zone: 'utc' }).toJSDate() : at;
  if (Number.isNaN(t.getTime())) throw new RangeError(`invalid clock time: ${String(at)}`);
  return { now: () => new Date(t.getTime()) };
}

/** ISO 8601 UTC with milliseconds: the one textual time format of the store (sorts as text). */
export function isoUtc(d: Date): string {
  return DateTime.fromJSDate(d, { zone: 'utc' }).toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'");
}
