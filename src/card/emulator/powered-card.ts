import type { VirtualCard } from './virtual-card.js';

/**
 * The contact power states every emulated card shares (ISO 7816-3 §6): activation, deactivation
 * and warm reset each start the volatile state clean; a card without power answers nothing
 * useful. A card family supplies its ATR, its command processing and what "volatile" means for it.
 */
export abstract class PoweredCard implements VirtualCard {
  protected powered = true;

  abstract atr(): Uint8Array;
  abstract process(command: Uint8Array): Promise<Uint8Array>;
  /** Forget what a power cycle forgets: PIN-verified flags, selection, pending response data. */
  protected abstract clearVolatile(): void;

  powerOn(): void {
    this.clearVolatile();
    this.powered = true;
  }

  powerOff(): void {
    this.clearVolatile();
    this.powered = false;
  }

  reset(): void {
    this.clearVolatile();
    this.powered = true;
  }
}
