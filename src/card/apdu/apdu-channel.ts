import type { CardTransport, TransmitOptions } from '../transport/card-transport.js';
import { chainCommand, encodeCommand, getResponseCommand, isExtended, withLe, type CommandApdu } from './command-apdu.js';
import { parseResponse, type ResponseApdu } from './response-apdu.js';
import { statusWordError } from './status-words.js';
import { toHex } from '../../common/hex.js';

/** Receives every raw exchange (already redacted) for `--trace-apdu`. */
export type ApduTracer = (direction: '=>' | '<=', hex: string) => void;

export interface ChannelOptions {
  /** Largest data field per APDU before command chaining is used (ISO 7816-4 §5.1.1.1). */
  readonly maxCommandData?: number;
  readonly tracer?: ApduTracer;
  /** One limit for every exchange (`--card-timeout`); overrides the per-class defaults. */
  readonly timeoutMs?: number;
}

/**
 * Default time one exchange may take, by operation class. A SmartCard-HSM 4K needs tens of
 * seconds to a few minutes for RSA-4096 key generation (prime search; CardContact quotes
 * "up to several minutes"), about a second for an RSA-4096 signature; file and PIN commands
 * answer in milliseconds, so a stuck reader is reported quickly.
 */
export const OPERATION_TIMEOUTS_MS: Readonly<Record<'keygen' | 'sign' | 'other', number>> = {
  keygen: 600_000,
  sign: 60_000,
  other: 30_000,
};

/**
 * What to blank out in a trace: commands whose data field is secret (VERIFY, CHANGE, RESET RETRY,
 * INITIALIZE, PIV SET MANAGEMENT KEY, MyEID PUT DATA `DA`, whose PIN records carry the PIN and PUK
 * in clear: pkcs15-myeid.c `myeid_create_pin`).
 */
function isSecret(cmd: CommandApdu): boolean {
  const secret =
    (cmd.cla & 0x80) === 0 ? [0x20, 0x24, 0x2c, 0xda, 0xff].includes(cmd.ins) : cmd.ins === 0x50 || cmd.ins === 0x52;
  return secret && cmd.data !== undefined && cmd.data.length > 0;
}

function redact(cmd: CommandApdu, bytes: Uint8Array): string {
  if (!isSecret(cmd)) return toHex(bytes, ' ');
  // Header and Lc only: CLA INS P1 P2 ‖ Lc (1 byte short, 00 ‖ 2 bytes extended; ISO 7816-4 §5.1).
  const headerLen = 4 + (isExtended(cmd) ? 3 : 1);
  return `${toHex(bytes.subarray(0, headerLen), ' ')} <${cmd.data!.length} bytes redacted>`;
}

/**
 * The response-handling loop of ISO 7816-4 §5.1/§5.6, implemented once on top of a transport:
 * `6Cxx` → resend with Le = xx (once), `61xx` → GET RESPONSE until done, command chaining when
 * the data exceeds `maxCommandData`. Never retries anything else (a VERIFY is never resent).
 */
export class ApduChannel {
  readonly transport: CardTransport;
  private readonly opts: ChannelOptions;
  /** Number of raw exchanges so far (for benchmarks and tests). */
  exchanges = 0;
  /**
   * Chaining limit chosen after the driver (card-family seam): used when the channel options
   * set none. PIV sets 255 (SP 800-73-4 Part 2 §3: command chaining, short APDUs, as
   * yubico-piv-tool and OpenSC send them).
   */
  driverMaxCommandData: number | undefined;

  constructor(transport: CardTransport, opts: ChannelOptions = {}) {
    this.transport = transport;
    this.opts = opts;
  }

  private async raw(cmd: CommandApdu): Promise<ResponseApdu> {
    const bytes = encodeCommand(cmd);
    this.opts.tracer?.('=>', redact(cmd, bytes));
    const t: TransmitOptions = { timeoutMs: this.opts.timeoutMs ?? OPERATION_TIMEOUTS_MS[cmd.timeoutClass ?? 'other'] };
    this.exchanges++;
    let resp: Uint8Array;
    try {
      resp = await this.transport.transmit(bytes, t);
    } finally {
      // The encoded VERIFY / CHANGE / RESET RETRY / INITIALIZE carries a PIN: wipe it.
      if (isSecret(cmd)) bytes.fill(0);
    }
    this.opts.tracer?.('<=', toHex(resp, ' '));
    return parseResponse(resp);
  }

  /** Exchange one logical command; returns data and the final status word (not checked). */
  async transmit(cmd: CommandApdu): Promise<ResponseApdu> {
    const limit = this.opts.maxCommandData ?? this.driverMaxCommandData;
    const parts = limit === undefined ? [cmd] : chainCommand(cmd, limit);
    for (const part of parts.slice(0, -1)) {
      const r = await this.raw(part);
      if (r.sw !== 0x9000) return r; // the card refused the chain; the caller maps the SW
    }
    const last = parts[parts.length - 1]!;
    let r = await this.raw(last);
    if (r.sw >> 8 === 0x6c) {
      // Wrong Le: the card tells the exact length; resend once with it.
      r = await this.raw(withLe(last, r.sw & 0xff || 256));
    }
    if (r.sw >> 8 !== 0x61) return r;
    const chunks: Uint8Array[] = [r.data];
    let total = r.data.length;
    for (let guard = 0; r.sw >> 8 === 0x61; guard++) {
      if (guard > 256) throw statusWordError(r.sw, 'GET RESPONSE loop did not end');
      r = await this.raw(getResponseCommand(r.sw & 0xff));
      chunks.push(r.data);
      total += r.data.length;
    }
    const data = new Uint8Array(total);
    let off = 0;
    for (const c of chunks) {
      data.set(c, off);
      off += c.length;
    }
    return { data, sw: r.sw };
  }

  /** Exchange and require 9000; otherwise throw the typed error for the status word. */
  async expectOk(cmd: CommandApdu, context: string): Promise<Uint8Array> {
    const r = await this.transmit(cmd);
    if (r.sw !== 0x9000) throw statusWordError(r.sw, context);
    return r.data;
  }
}
