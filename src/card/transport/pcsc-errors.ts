import { PcscError } from '../errors.js';

/** PC/SC result codes (pcsc-lite `pcsclite.h`) the stack maps to typed errors. */
export const SCARD = {
  E_TIMEOUT: 0x8010000a,
  E_SHARING_VIOLATION: 0x8010000b,
  E_NO_SMARTCARD: 0x8010000c,
  E_NOT_TRANSACTED: 0x80100016,
  E_READER_UNAVAILABLE: 0x80100017,
  E_NO_SERVICE: 0x8010001d,
  E_SERVICE_STOPPED: 0x8010001e,
  E_UNKNOWN_READER: 0x80100009,
  E_NO_READERS_AVAILABLE: 0x8010002e,
  W_UNRESPONSIVE_CARD: 0x80100066,
  W_UNPOWERED_CARD: 0x80100067,
  W_RESET_CARD: 0x80100068,
  W_REMOVED_CARD: 0x80100069,
} as const;

/** The 0x8010xxxx code inside a pcsclite error message ("SCardTransmit error: …(0x80100069)"). */
export function pcscResultCode(err: unknown): number | undefined {
  const m = /\(0x([0-9a-fA-F]{8})\)/.exec(err instanceof Error ? err.message : String(err));
  return m ? parseInt(m[1]!, 16) : undefined;
}

/**
 * Map a pcsclite failure to a typed error that says what happened and whether the command may
 * have reached the card (`mayHaveReachedCard`: true for failures during a transmit).
 */
export function mapPcscError(err: unknown, op: string, reader: string, duringTransmit: boolean): PcscError {
  const code = pcscResultCode(err);
  const reached = duringTransmit ? ' The command may have reached the card.' : '';
  const details = { reader, pcsc: code === undefined ? undefined : `0x${code.toString(16)}` };
  switch (code) {
    case SCARD.W_REMOVED_CARD:
    case SCARD.E_NO_SMARTCARD:
    // pcscd answers E_NOT_TRANSACTED when the reader lost the card during SCardTransmit
    // (vpcd, and CCID readers on removal); it is the same event as W_REMOVED_CARD.
    case SCARD.E_NOT_TRANSACTED:
      return cardRemovedError(reader, duringTransmit, err);
    case SCARD.W_RESET_CARD:
      return cardResetError(reader, duringTransmit, err);
    case SCARD.W_UNRESPONSIVE_CARD:
    case SCARD.W_UNPOWERED_CARD:
      return new PcscError('CARD_UNRESPONSIVE', `${op}: the card in "${reader}" does not respond.${reached}`, {
        hint: 'Re-insert the card. If it persists, the card may be damaged.',
        cause: err,
      });
    case SCARD.E_SHARING_VIOLATION:
      return new PcscError('CARD_BUSY', `${op}: the card in "${reader}" is in use by another program`, {
        hint: 'Close other smart-card programs (pkcs11-tool, browsers, ssh-agent) and run the command again.',
        cause: err,
      });
    case SCARD.E_READER_UNAVAILABLE:
    case SCARD.E_UNKNOWN_READER:
      return new PcscError('READER_GONE', `${op}: reader "${reader}" is no longer available.${reached}`, {
        hint: 'Reconnect the reader and run the command again.',
        cause: err,
      });
    case SCARD.E_NO_SERVICE:
    case SCARD.E_SERVICE_STOPPED:
      return pcscUnavailable(err);
    default:
      return new PcscError('PCSC_ERROR', `${op} on "${reader}" failed: ${err instanceof Error ? err.message : String(err)}.${reached}`, {
        hint: 'Check that the card is inserted and pcscd is running; run with --trace-apdu for details.',
        cause: err,
        details,
      });
  }
}

export function pcscUnavailable(cause: unknown): PcscError {
  return new PcscError('PCSC_UNAVAILABLE', 'cannot reach the PC/SC service (pcscd)', {
    hint: 'Start pcscd (e.g. `systemctl start pcscd.socket`, or `pcscd --foreground`) and run the command again.',
    cause,
  });
}

/**
 * The one CARD_REMOVED error, whichever way PC/SC reports the removal (an error code, or an
 * empty answer as vpcd gives): same code, same text, same hint.
 */
export function cardRemovedError(reader: string, duringCommand: boolean, cause?: unknown): PcscError {
  return new PcscError(
    'CARD_REMOVED',
    `the card was removed from "${reader}"${duringCommand ? ' during a command; the command may have reached the card' : ''}`,
    {
      hint: 'Insert the card and check what it holds (`ca card list`, `ca status`) before retrying a write or a signature.',
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

/** The one CARD_RESET error (another program reset the card, or it lost power): PIN state is gone. */
export function cardResetError(reader: string, duringCommand: boolean, cause?: unknown): PcscError {
  return new PcscError(
    'CARD_RESET',
    `the card in "${reader}" was reset${duringCommand ? ' during a command; the command may have reached the card' : ''}; its login state is gone`,
    {
      hint: 'Close other smart-card programs, check what the card holds (`ca card list`, `ca status`), and run the command again.',
      ...(cause === undefined ? {} : { cause }),
    },
  );
}
