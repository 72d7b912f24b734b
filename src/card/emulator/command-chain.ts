import type { CommandApdu } from './command-apdu.js';
import { fail } from './status-words.js';

/**
 * Command chaining as the card sees it (ISO/IEC 7816-4 §5.1.1.1): a command sent in parts with
 * CLA bit b5 (0x10) set on every part but the last. The card keeps the parts and answers 9000;
 * the last part (bit clear, same INS P1 P2) completes the command. One helper for every emulator
 * that accepts chaining (PIV; MyEID from v4.5, card-myeid.c `cap_chaining`).
 */
export class CommandChain {
  private chain: { ins: number; p1: number; p2: number; parts: Uint8Array[] } | undefined;

  /** Forget a half-received command (power-up, reset, SELECT of another application). */
  reset(): void {
    this.chain = undefined;
  }

  /**
   * `undefined` when `a` is a part to keep (answer 9000); otherwise the whole command. A part
   * with another INS/P1/P2 starts a new chain; a last part that does not match its chain is
   * refused with 6883 ("last command of the chain expected").
   */
  accept(a: CommandApdu): CommandApdu | undefined {
    if (a.cla & 0x10) {
      if (this.chain && (this.chain.ins !== a.ins || this.chain.p1 !== a.p1 || this.chain.p2 !== a.p2)) this.chain = undefined;
      this.chain ??= { ins: a.ins, p1: a.p1, p2: a.p2, parts: [] };
      this.chain.parts.push(a.data);
      return undefined;
    }
    const c = this.chain;
    if (!c) return a;
    this.chain = undefined;
    if (c.ins !== a.ins || c.p1 !== a.p1 || c.p2 !== a.p2) fail(0x6883);
    return { ...a, data: new Uint8Array(Buffer.concat([...c.parts, a.data])) };
  }
}
