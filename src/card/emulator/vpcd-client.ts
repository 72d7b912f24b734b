import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { VirtualCard } from './virtual-card.js';
import { VPCD_DEFAULT_HOST, VPCD_DEFAULT_PORT } from './vpcd-defaults.js';

/**
 * Connects a VirtualCard to vsmartcard's vpcd (the pcscd reader driver), which listens on TCP.
 * Wire format (card-protocols.md §5, pcsc-rig.md): every message is a 2-byte big-endian length
 * and a payload; a 1-byte payload is a control (00 off, 01 on, 02 reset, 04 get ATR → reply
 * ATR), anything longer is a command APDU (reply: response APDU). Closing the socket is card
 * removal. Connect to 127.0.0.2 so the quickack route avoids the delayed-ACK penalty.
 */
export interface VpcdClientOptions {
  host?: string;
  port?: number;
  /** Wait between connection attempts while vpcd is not reachable (default 250 ms). */
  reconnectDelayMs?: number;
  /**
   * After a simulated removal (`remove()` or a `remove-after` fault), re-insert the card after
   * this many ms. Default: stay removed until `reinsert()`.
   */
  reinsertAfterMs?: number;
}

export { VPCD_DEFAULT_HOST, VPCD_DEFAULT_PORT } from './vpcd-defaults.js';

export declare interface VpcdClient {
  on(event: 'connected' | 'disconnected' | 'removed', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}

export class VpcdClient extends EventEmitter {
  readonly host: string;
  readonly port: number;
  private readonly reconnectDelayMs: number;
  private readonly reinsertAfterMs: number | undefined;
  private socket: Socket | undefined;
  private stopped = true;
  private removed = false;
  private timer: NodeJS.Timeout | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly card: VirtualCard, options: VpcdClientOptions = {}) {
    super();
    this.host = options.host ?? VPCD_DEFAULT_HOST;
    this.port = options.port ?? VPCD_DEFAULT_PORT;
    this.reconnectDelayMs = options.reconnectDelayMs ?? 250;
    this.reinsertAfterMs = options.reinsertAfterMs;
  }

  get connected(): boolean {
    return this.socket !== undefined && !this.socket.connecting && !this.socket.destroyed;
  }

  /** Start connecting; resolves once connected the first time (retries while vpcd is down). */
  start(): Promise<void> {
    this.stopped = false;
    const first = new Promise<void>((resolve) => this.once('connected', resolve));
    this.connectNow();
    return first;
  }

  /** Disconnect for good (card removed) and stop reconnecting. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const s = this.socket;
    this.socket = undefined;
    if (s && !s.destroyed) {
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.end();
        setTimeout(() => s.destroy(), 500).unref();
      });
    }
    await this.chain;
  }

  /** Simulate pulling the card out of the reader. */
  remove(): void {
    this.removed = true;
    this.card.powerOff();
    this.socket?.destroy();
    this.emit('removed');
    if (this.reinsertAfterMs !== undefined) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reinsert(), this.reinsertAfterMs);
    }
  }

  /** Put the card back after `remove()`. */
  reinsert(): void {
    if (!this.removed) return;
    this.removed = false;
    if (!this.stopped) this.connectNow();
  }

  private connectNow(): void {
    if (this.stopped || this.removed || this.socket) return;
    const s = connect({ host: this.host, port: this.port });
    this.socket = s;
    this.buffer = Buffer.alloc(0);
    s.setNoDelay(true);
    s.on('connect', () => this.emit('connected'));
    s.on('data', (chunk) => this.onData(s, chunk));
    s.on('error', () => {
      /* 'close' follows; vpcd down or gone — reconnect below */
    });
    s.on('close', () => {
      const wasUp = this.socket === s;
      if (wasUp) this.socket = undefined;
      this.emit('disconnected');
      if (!this.stopped && !this.removed) {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.connectNow(), this.reconnectDelayMs);
      }
    });
  }

  private onData(s: Socket, chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 2) {
      const len = this.buffer.readUInt16BE(0);
      if (this.buffer.length < 2 + len) break;
      const payload = new Uint8Array(this.buffer.subarray(2, 2 + len));
      this.buffer = this.buffer.subarray(2 + len);
      this.chain = this.chain.then(() => this.handle(s, payload)).catch((err: Error) => {
        this.emit('error', err);
      });
    }
  }

  private async handle(s: Socket, payload: Uint8Array): Promise<void> {
    if (payload.length === 1) {
      switch (payload[0]) {
        case 0x00:
          this.card.powerOff();
          return;
        case 0x01:
          this.card.powerOn();
          return;
        case 0x02:
          this.card.reset();
          return;
        case 0x04:
          this.send(s, this.card.atr());
          return;
        default:
          return; // unknown control: vpcd expects no answer
      }
    }
    const response = await this.card.process(payload);
    this.send(s, response);
  }

  private send(s: Socket, payload: Uint8Array): void {
    if (s.destroyed) return;
    const frame = Buffer.alloc(2 + payload.length);
    frame.writeUInt16BE(payload.length, 0);
    frame.set(payload, 2);
    s.write(frame);
  }
}
