import { AsyncLocalStorage } from 'node:async_hooks';
import { PcscError } from '../errors.js';
import type { CardTransport, TransmitOptions } from './card-transport.js';
import { cardRemovedError, mapPcscError } from './pcsc-errors.js';
import type { NativeCardReader } from './pcsc-native.js';

/** A reader of the addon (pcsc-native.ts); the package's JavaScript hands out the same objects. */
type PcscReader = NativeCardReader;

/** Default time one APDU exchange may take (RSA-4096 key generation takes tens of seconds on real cards). */
export const DEFAULT_TRANSMIT_TIMEOUT_MS = 120_000;
/** Largest response we accept: extended Le 65 536 + SW. */
const MAX_RESPONSE = 65538;

/** What the owner of the reader's status thread does around the disconnect (pcsc-context.ts). */
export interface DisconnectHooks {
  /** Stop a status thread that must not see the disconnect (its stop could race it). */
  beforeDisconnect?: () => Promise<void>;
  /** Note that the disconnect woke a status thread that keeps running. */
  afterDisconnect?: () => void;
}

/** Run async functions one after the other (a promise-chain mutex). */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }
}

/**
 * `CardTransport` over pcscd with the `pcsclite` binding.
 *
 * pcsclite exposes no SCardBeginTransaction/SCardEndTransaction, so the card is connected with
 * SCARD_SHARE_EXCLUSIVE for the whole session: no other PC/SC client can interleave APDUs
 * (PC/SC part 5 §3.1.3). `exclusive()` then only serialises operations inside this process.
 */
export class PcscTransport implements CardTransport {
  readonly readerName: string;
  private readonly reader: PcscReader;
  private readonly protocol: number;
  private readonly atrBytes: Uint8Array;
  private readonly exchanges = new SerialQueue();
  private readonly operations = new SerialQueue();
  /** Marks code already inside `exclusive()`, so nested calls run instead of deadlocking. */
  private readonly holder = new AsyncLocalStorage<boolean>();
  private closed = false;
  /** Set when an exchange timed out: its answer may still arrive, so the channel is unusable. */
  private poisoned: PcscError | undefined;

  /** Hooks of the context that owns the reader's status thread (pcsc-context.ts, status-thread-stop.ts). */
  private readonly hooks: DisconnectHooks;

  private constructor(reader: PcscReader, protocol: number, atr: Uint8Array, hooks: DisconnectHooks) {
    this.hooks = hooks;
    this.reader = reader;
    this.readerName = reader.name;
    this.protocol = protocol;
    this.atrBytes = atr;
  }

  /** Connect exclusively to the card in `reader`. */
  static async connect(reader: PcscReader, atr: Uint8Array, { timeoutMs = 10_000, ...hooks }: { timeoutMs?: number } & DisconnectHooks = {}): Promise<PcscTransport> {
    const protocol = await withTimeout(
      new Promise<number>((resolve, reject) => {
        // The addon's own call (pcsc-native.ts), with what pcsclite's `connect` would pass:
        // exclusive, T=0 or T=1.
        reader._connect(reader.SCARD_SHARE_EXCLUSIVE, reader.SCARD_PROTOCOL_T0 | reader.SCARD_PROTOCOL_T1, (err, proto) => {
          if (err) reject(mapPcscError(err, 'connect', reader.name, false));
          else resolve(proto);
        });
      }),
      timeoutMs,
      () =>
        new PcscError('CARD_CONNECT_TIMEOUT', `connecting to the card in "${reader.name}" took longer than ${timeoutMs} ms`, {
          hint: 'Another program may hold the card; close it and run the command again.',
        }),
    );
    return new PcscTransport(reader, protocol, atr, hooks);
  }

  atr(): Uint8Array {
    return this.atrBytes.slice();
  }

  transmit(command: Uint8Array, options: TransmitOptions = {}): Promise<Uint8Array> {
    return this.exchanges.run(async () => {
      if (this.closed) throw new PcscError('CARD_CLOSED', `the connection to "${this.readerName}" is closed`);
      if (this.poisoned) throw this.poisoned;
      const timeoutMs = options.timeoutMs ?? DEFAULT_TRANSMIT_TIMEOUT_MS;
      return withTimeout(
        new Promise<Uint8Array>((resolve, reject) => {
          // Our own copy for the binding; wiped once pcscd has it (it may hold a PIN).
          const copy = Buffer.from(command);
          this.reader._transmit(copy, MAX_RESPONSE, this.protocol, (err, data) => {
            copy.fill(0);
            if (err) reject(mapPcscError(err, 'transmit', this.readerName, true));
            else if (data.length < 2) {
              // vpcd and some readers report a vanished card as an empty answer, not an error.
              reject(cardRemovedError(this.readerName, true));
            } else resolve(new Uint8Array(data));
          });
        }),
        timeoutMs,
        () => {
          this.poisoned = new PcscError(
            'CARD_TIMEOUT',
            `no answer from the card in "${this.readerName}" within ${timeoutMs} ms; the command may have reached the card`,
            { hint: 'Remove and re-insert the card, then check its state (`ca card status`, `ca card list`) before retrying.' },
          );
          return this.poisoned;
        },
      );
    });
  }

  exclusive<T>(fn: () => Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
    if (this.holder.getStore()) return fn();
    const run = this.operations.run(() => this.holder.run(true, fn));
    if (options.timeoutMs === undefined) return run;
    return withTimeout(run, options.timeoutMs, () => new PcscError('CARD_TIMEOUT', `card operation on "${this.readerName}" took longer than ${options.timeoutMs} ms; commands may have reached the card`));
  }

  /** Disconnect, resetting the card so that its PIN state is cleared (a logout). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.hooks.beforeDisconnect?.();
    await new Promise<void>((resolve) => {
      if (!this.reader.connected) return resolve();
      const timer = setTimeout(resolve, 5000);
      this.reader._disconnect(this.reader.SCARD_RESET_CARD, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.hooks.afterDisconnect?.();
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

export type { PcscReader };
