import { CardcaError } from '../common/cardca-error.js';

/**
 * Say in the error itself which serial (or CRL number) a failure left as `outcome_unknown`, so an
 * operator who pulled the card mid-signature reads in one place what happened and what follows
 * (the serial goes on the next CRL; the CRL number is never reused). The code stays unchanged:
 * scripts keep matching CARD_REMOVED, CARD_RESET, ….
 */
export function noteOutcomeUnknown(e: unknown, what: string, consequence: string): void {
  if (!(e instanceof CardcaError)) return;
  e.message = `${e.message} — ${what} is now recorded as outcome_unknown (${consequence})`;
}
