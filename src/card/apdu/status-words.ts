import { PinError, StatusWordError } from '../errors.js';
import { swHex } from './response-apdu.js';

/**
 * The one status-word table of the card stack (ISO 7816-4 §5.6, table 6; SmartCard-HSM
 * specifics from card-protocols.md §1.8). Each entry: meaning, stable error code, operator hint.
 */
export interface SwEntry {
  readonly meaning: string;
  readonly code: string;
  readonly hint?: string;
}

export const SW = {
  OK: 0x9000,
  EOF_REACHED: 0x6282,
  VERIFICATION_FAILED: 0x6300,
  WRONG_LENGTH: 0x6700,
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  AUTH_METHOD_BLOCKED: 0x6983,
  REFERENCE_DATA_NOT_USABLE: 0x6984,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  WRONG_DATA: 0x6a80,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  FILE_NOT_FOUND: 0x6a82,
  NOT_ENOUGH_MEMORY: 0x6a84,
  INCORRECT_P1P2: 0x6a86,
  REFERENCED_DATA_NOT_FOUND: 0x6a88,
  FILE_EXISTS: 0x6a89,
  WRONG_P1P2: 0x6b00,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  NO_PRECISE_DIAGNOSIS: 0x6f00,
} as const;

const TABLE: Readonly<Record<number, SwEntry>> = {
  0x6281: { meaning: 'part of returned data may be corrupted', code: 'APDU_DATA_CORRUPTED' },
  0x6282: { meaning: 'end of file reached before Le bytes', code: 'APDU_EOF' },
  0x6283: { meaning: 'selected file invalidated', code: 'CARD_FILE_INVALIDATED' },
  0x6285: { meaning: 'selected file in termination state', code: 'CARD_FILE_TERMINATED' },
  0x6300: { meaning: 'verification failed', code: 'PIN_INCORRECT' },
  0x6581: { meaning: 'memory failure', code: 'CARD_MEMORY_FAILURE', hint: 'The card reports a memory failure; do not use it for a ceremony.' },
  0x6700: { meaning: 'wrong length', code: 'APDU_WRONG_LENGTH', hint: 'This is a bug in cardca or a card size limit; run with --trace-apdu and report it.' },
  0x6881: { meaning: 'logical channel not supported', code: 'APDU_CHANNEL_NOT_SUPPORTED' },
  0x6882: { meaning: 'secure messaging not supported', code: 'APDU_SM_NOT_SUPPORTED' },
  0x6883: { meaning: 'last command of the chain expected', code: 'APDU_CHAIN_INCOMPLETE' },
  0x6884: { meaning: 'command chaining not supported', code: 'APDU_CHAINING_NOT_SUPPORTED' },
  0x6982: { meaning: 'security status not satisfied', code: 'PIN_REQUIRED', hint: 'Verify the user PIN first (the card may have been reset, which logs out).' },
  0x6983: { meaning: 'authentication method blocked', code: 'PIN_BLOCKED', hint: 'Unblock the PIN with the SO-PIN: `ca card pin unblock`.' },
  0x6984: { meaning: 'reference data not usable', code: 'CARD_REFERENCE_DATA_NOT_USABLE', hint: 'The PIN is a transport PIN that must be changed, or the key-use counter is exhausted.' },
  0x6985: { meaning: 'conditions of use not satisfied', code: 'CARD_CONDITIONS_NOT_SATISFIED' },
  0x6986: { meaning: 'command not allowed (no current EF)', code: 'CARD_NO_CURRENT_EF' },
  0x6a80: { meaning: 'incorrect data field', code: 'APDU_WRONG_DATA' },
  0x6a81: { meaning: 'function not supported', code: 'CARD_FUNCTION_NOT_SUPPORTED', hint: 'The card or key does not allow this algorithm.' },
  0x6a82: { meaning: 'file or application not found', code: 'CARD_FILE_NOT_FOUND' },
  0x6a84: { meaning: 'not enough memory', code: 'CARD_MEMORY_FULL', hint: 'Delete unused keys or certificates from the card.' },
  0x6a86: { meaning: 'incorrect parameters P1-P2', code: 'APDU_WRONG_P1P2' },
  0x6a87: { meaning: 'Lc inconsistent with P1-P2', code: 'APDU_WRONG_LC' },
  0x6a88: { meaning: 'referenced data not found', code: 'CARD_REFERENCE_NOT_FOUND' },
  0x6a89: { meaning: 'file already exists', code: 'CARD_FILE_EXISTS' },
  0x6b00: { meaning: 'wrong parameters P1-P2 (offset beyond end of file)', code: 'APDU_WRONG_P1P2' },
  0x6d00: { meaning: 'instruction not supported', code: 'APDU_INS_NOT_SUPPORTED', hint: 'The application may not be selected (the card may have been reset).' },
  0x6e00: { meaning: 'class not supported', code: 'APDU_CLA_NOT_SUPPORTED' },
  0x6f00: { meaning: 'no precise diagnosis', code: 'CARD_INTERNAL_ERROR' },
};

/** Meaning of a status word, including the parametrised ones (61xx, 6Cxx, 63Cx). */
export function describeSw(sw: number): SwEntry {
  if (sw === 0x9000) return { meaning: 'success', code: 'OK' };
  const hit = TABLE[sw];
  if (hit) return hit;
  const s1 = sw >> 8;
  if (s1 === 0x61) return { meaning: `${sw & 0xff || 256} more bytes available`, code: 'APDU_MORE_DATA' };
  if (s1 === 0x6c) return { meaning: `wrong Le, exact length ${sw & 0xff}`, code: 'APDU_WRONG_LE' };
  if ((sw & 0xfff0) === 0x63c0) return { meaning: `verification failed, ${sw & 0x0f} tries left`, code: 'PIN_INCORRECT' };
  if (s1 === 0x62 || s1 === 0x63) return { meaning: 'warning', code: 'CARD_WARNING' };
  if (s1 === 0x64 || s1 === 0x65) return { meaning: 'execution error', code: 'CARD_EXECUTION_ERROR' };
  if (s1 === 0x67) return { meaning: 'wrong length', code: 'APDU_WRONG_LENGTH' };
  if (s1 === 0x68) return { meaning: 'function in CLA not supported', code: 'APDU_CLA_FUNCTION_NOT_SUPPORTED' };
  if (s1 === 0x69) return { meaning: 'command not allowed', code: 'CARD_COMMAND_NOT_ALLOWED' };
  if (s1 === 0x6a) return { meaning: 'wrong parameters', code: 'APDU_WRONG_PARAMETERS' };
  return { meaning: 'unknown status word', code: 'CARD_UNKNOWN_SW' };
}

/** Tries left encoded in 63Cx, or undefined for any other status word. */
export function triesLeftOf(sw: number): number | undefined {
  return (sw & 0xfff0) === 0x63c0 ? sw & 0x0f : undefined;
}

/**
 * Map a failing status word to its typed error. PIN-related words become `PinError` (with tries
 * left for 63Cx); everything else a `StatusWordError { sw, meaning }`.
 */
export function statusWordError(sw: number, context: string): StatusWordError | PinError {
  const e = describeSw(sw);
  const tries = triesLeftOf(sw);
  if (tries !== undefined) {
    return new PinError('PIN_INCORRECT', `${context}: wrong PIN, ${tries} ${tries === 1 ? 'try' : 'tries'} left`, {
      triesLeft: tries,
      hint: tries === 0 ? 'The PIN is now blocked; unblock it with the SO-PIN: `ca card pin unblock`.' : 'Check the PIN; every wrong entry costs a try.',
    });
  }
  if (sw === 0x6983) return new PinError('PIN_BLOCKED', `${context}: the PIN is blocked`, { triesLeft: 0, hint: e.hint ?? '' });
  return new StatusWordError(e.code, sw, e.meaning, context, e.hint === undefined ? {} : { hint: e.hint });
}

export { swHex };
