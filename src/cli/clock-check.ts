import type { ConfirmClockArgs } from './command-options.js';
import { assertClockNotAhead } from '../ca/clock-ahead.js';
import { isoUtc } from '../ca/clock.js';
import { assertClockSane } from '../ca/issuance.js';
import type { CaContext } from './ca-context.js';

export { withConfirmClock, type ConfirmClockArgs } from './command-options.js';

/**
 * Both clock checks of a command that signs or records a time, before any card or PIN: not
 * behind the last signing event (`CLOCK_BEHIND`), not more than the home's limit past it
 * without `--confirm-clock` (`CLOCK_AHEAD`); a confirmed jump is audited.
 */
export function checkCommandClock(ca: CaContext, args: ConfirmClockArgs, command: string): Date {
  const now = ca.clock.now();
  assertClockSane(ca.store, now);
  const jump = assertClockNotAhead(ca.store, now, ca.mode.clockMaxAheadDays, args['confirm-clock'] === true);
  if (jump) {
    ca.store.audit(
      { event: 'clock.ahead-confirmed', data: { command, now: isoUtc(now), lastSigning: isoUtc(jump.last), days: Number(jump.days.toFixed(3)), maxAheadDays: ca.mode.clockMaxAheadDays } },
      now,
    );
  }
  return now;
}
