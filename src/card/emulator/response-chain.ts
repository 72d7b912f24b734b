/**
 * Response data longer than one response may carry, as the card sees it (ISO/IEC 7816-4 §5.3.4,
 * GET RESPONSE §11.6.2): the first `limit` bytes with SW `61xx` (xx = bytes still waiting, 00 for
 * 256 or more), the rest by GET RESPONSE `00 C0 00 00 Le`, the last part with the command's own
 * status. Only a normal (9000) or warning (62xx, 63xx) answer is split. Any other command
 * drops what was waiting. One helper for every emulator (SmartCard-HSM, PIV, MyEID); the sibling
 * of command-chain.ts, which does the same for command data.
 */
export class ResponseChain {
  private pending: Uint8Array | undefined;
  private pendingSw = 0x9000;

  /** Forget waiting data (power-up, reset, any command other than GET RESPONSE). */
  reset(): void {
    this.pending = undefined;
    this.pendingSw = 0x9000;
  }

  /** `data` + `sw` as one response of at most `limit` data bytes (Ne, or a T=0-style cap). */
  shape(data: Uint8Array, sw: number, limit: number): Uint8Array {
    this.reset();
    const splittable = sw === 0x9000 || sw >> 8 === 0x62 || sw >> 8 === 0x63;
    if (data.length > limit && splittable) {
      this.pending = data.slice(limit);
      this.pendingSw = sw;
      return withSw(data.subarray(0, limit), moreSw(this.pending.length));
    }
    return withSw(data, sw);
  }

  /** GET RESPONSE with at most `limit` data bytes: the next part, or 6985 when nothing waits. */
  getResponse(limit: number): Uint8Array {
    const p = this.pending;
    if (!p) return withSw(new Uint8Array(0), 0x6985);
    if (p.length > limit) {
      this.pending = p.slice(limit);
      return withSw(p.subarray(0, limit), moreSw(this.pending.length));
    }
    const sw = this.pendingSw;
    this.reset();
    return withSw(p, sw);
  }
}

function moreSw(waiting: number): number {
  return 0x6100 | (Math.min(waiting, 256) % 256);
}

function withSw(data: Uint8Array, sw: number): Uint8Array {
  const out = new Uint8Array(data.length + 2);
  out.set(data, 0);
  out[data.length] = sw >> 8;
  out[data.length + 1] = sw & 0xff;
  return out;
}
