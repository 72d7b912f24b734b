/**
 * A transport moves APDU bytes to one card and back. It does not interpret status words
 * (that is `apdu/`'s job) and never retries on its own.
 *
 * Implementations: `pcsc-transport.ts` (pcscd via the `pcsclite` package), and
 * `in-process-transport.ts` (drives an emulated card object directly, for unit tests).
 */
export interface TransmitOptions {
  /** Give up after this many milliseconds; the error says the APDU may have reached the card. */
  timeoutMs?: number;
}

export interface CardTransport {
  /** Reader name (PC/SC) or a descriptive name for in-process cards. */
  readonly readerName: string;
  /** Answer-to-reset of the connected card. */
  atr(): Uint8Array;
  /** Send one command APDU, return response data ‖ SW1 SW2. One exchange at a time. */
  transmit(command: Uint8Array, options?: TransmitOptions): Promise<Uint8Array>;
  /**
   * Run `fn` while holding exclusive access to the card (PC/SC SCardBeginTransaction /
   * SCardEndTransaction). Multi-APDU operations (select + verify + sign) must run inside one.
   */
  exclusive<T>(fn: () => Promise<T>, options?: { timeoutMs?: number }): Promise<T>;
  /** Disconnect from the card. Idempotent. */
  close(): Promise<void>;
}
