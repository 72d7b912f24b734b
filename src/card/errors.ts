import { CardcaError } from '../common/cardca-error.js';

/**
 * Errors of the card stack. Codes are stable strings; the CLI maps their prefix to an exit code
 * (`src/cli/exit-codes.ts`). Messages never contain a PIN or key material.
 */
export class CardError extends CardcaError {}

/** PC/SC layer failures: pcscd down, reader gone, card removed, timeouts. */
export class PcscError extends CardError {}

/**
 * A status word other than 9000 that the layer above did not expect (ISO 7816-4 §5.6).
 * `sw` is the 16-bit status word; `meaning` its text from the table in `apdu/status-words.ts`.
 */
export class StatusWordError extends CardError {
  readonly sw: number;
  readonly meaning: string;
  constructor(code: string, sw: number, meaning: string, context: string, options: { hint?: string } = {}) {
    super(code, `${context}: card answered ${sw.toString(16).toUpperCase().padStart(4, '0')} (${meaning})`, {
      ...options,
      details: { sw: sw.toString(16).toUpperCase().padStart(4, '0') },
    });
    this.sw = sw;
    this.meaning = meaning;
  }
}

/** PIN problems: wrong PIN (with tries left), blocked, not initialised, last try refused. */
export class PinError extends CardError {
  readonly triesLeft: number | undefined;
  constructor(code: string, message: string, options: { hint?: string; triesLeft?: number; cause?: unknown } = {}) {
    const { triesLeft, ...rest } = options;
    super(code, message, { ...rest, details: triesLeft === undefined ? {} : { triesLeft } });
    this.triesLeft = triesLeft;
  }
}
