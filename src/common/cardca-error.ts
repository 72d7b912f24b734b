/**
 * Base class of every error cardca raises on purpose.
 *
 * `code` is stable (scripts and the exit-code table rely on it); `message` says what happened;
 * `hint` tells the operator what to do next. Messages and hints must never contain a PIN,
 * key material or other secret.
 */
export class CardcaError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: string,
    message: string,
    options: { hint?: string; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, hint: this.hint, details: this.details };
  }
}

export function isCardcaError(e: unknown): e is CardcaError {
  return e instanceof CardcaError;
}
