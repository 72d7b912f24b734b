import { CardcaError } from '../common/cardca-error.js';

/** Errors raised by the command line itself (bad flags, missing arguments). */
export class CliError extends CardcaError {}

export function usageError(message: string, hint?: string): CliError {
  return new CliError('USAGE_ERROR', message, hint === undefined ? {} : { hint });
}
