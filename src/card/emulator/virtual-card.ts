/**
 * What every emulated card implements. The emulator is the card: it holds its own keys and
 * PIN state, and the host reaches it only through APDUs (ISO 7816-4 §5), exactly as with a
 * physical card. Transports (in-process, vpcd) drive it through this interface.
 */
export interface VirtualCard {
  /** Answer-to-reset (ISO 7816-3 §8) announced to the reader. */
  atr(): Uint8Array;
  /** Contact activation. Volatile state (PIN-verified flags, selection, pending data) starts clean. */
  powerOn(): void;
  /** Deactivation: clears all volatile state, like removing power from a real chip. */
  powerOff(): void;
  /** Warm reset (ISO 7816-3 §6.2.3): clears volatile state. */
  reset(): void;
  /** Process one command APDU; resolves with response data ‖ SW1 SW2. Never rejects. */
  process(command: Uint8Array): Promise<Uint8Array>;
}
