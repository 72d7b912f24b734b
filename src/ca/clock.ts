import { DateTime } from 'luxon';
import { CaError } from './errors.js';

/**
 * The injected clock (ARCHITECTURE.md "The clock is injected"). Every time the CA writes into a
 * certificate, CRL or audit record comes from here, so tests and ceremony rehearsals can pin it
 * and the clock-sanity check (`CLOCK_BEHIND`) has one source.
 */
export interface Clock {
  now(): Date;
}

/**
 * Options for every luxon object the CA makes: UTC, and a fixed locale. Without a locale luxon
 * asks ICU for the system's (`new Intl.DateTimeFormat().resolvedOptions()`), which costs
 * 30–60 ms of ICU start-up on the first call: a third of a single `ca sign`'s own work
 * (docs/benchmarks.md). Our times are machine text (ISO 8601), so no locale is ever wanted.
 */
export const LUXON_UTC = { zone: 'utc', locale: 'en-US' } as const;
/** The same for luxon Durations, which have no zone. */
export const LUXON_LOCALE = { locale: 'en-US' } as const;

/** The machine clock. */
export const systemClock: Clock = { now: () => new Date() };

/** A clock pinned to `at` (tests, `CA_FAKE_NOW`). */
export function fixedClock(at: Date | string): Clock {
  const t = typeof at === 'string' ? DateTime.fromISO(at, LUXON_UTC).toJSDate() : at;
  if (Number.isNaN(t.getTime())) throw new RangeError(`invalid clock time: ${String(at)}`);
  return { now: () => new Date(t.getTime()) };
}

/** ISO 8601 UTC with milliseconds: the one textual time format of the store (sorts as text). */
export function isoUtc(d: Date): string {
  // Never let "Invalid DateTime" into the store: a non-finite date is a bug or a bad clock.
  if (!Number.isFinite(d.getTime())) throw new CaError('CLOCK_INVALID', 'an invalid date reached the store', { hint: 'Check the system clock (`date -u`) and CA_FAKE_NOW.' });
  // Date#toISOString is this exact format for years 0000–9999 (ECMA-262 §21.4.1.32, "Date Time
  // String Format") at a fraction of luxon's cost — isoUtc runs several times per certificate
  // (audit records, rows; docs/benchmarks.md, "Batches, third pass"). Other years it writes as
  // ±YYYYYY, so those keep luxon's rendering.
  const y = d.getUTCFullYear();
  if (y >= 0 && y <= 9999) return d.toISOString();
  return DateTime.fromJSDate(d, LUXON_UTC).toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'");
}

/**
 * A clock whose every reading is checked: a non-finite date (a bad fake time, a broken RTC)
 * never reaches a certificate, CRL or audit record (issue #8 item 4). `source` names where the
 * time comes from, for the message.
 */
export function checkedClock(inner: Clock, source: string): Clock {
  return {
    now: () => {
      const t = inner.now();
      if (!(t instanceof Date) || !Number.isFinite(t.getTime())) {
        throw new CaError('CLOCK_INVALID', `the clock (${source}) gave an invalid time`, { hint: 'Check the system clock (`date -u`); a CA_FAKE_NOW value must be an ISO 8601 time.' });
      }
      return t;
    },
  };
}

/**
 * Parse `CA_FAKE_NOW` strictly (ISO 8601 with a time and a zone, e.g. 2026-12-01T10:00:00Z):
 * anything else is refused with `CLOCK_FAKE_INVALID` instead of becoming "Invalid DateTime".
 */
export function parseFakeNow(text: string): Date {
  const ok = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.test(text);
  const t = ok ? DateTime.fromISO(text, { ...LUXON_LOCALE, setZone: true }) : undefined;
  if (!t || !t.isValid) {
    throw new CaError('CLOCK_FAKE_INVALID', `CA_FAKE_NOW=${JSON.stringify(text.slice(0, 40))} is not an ISO 8601 time with a zone`, {
      hint: 'Use e.g. CA_FAKE_NOW=2026-12-01T10:00:00Z, or unset it.',
    });
  }
  return t.toJSDate();
}
