import { AsyncLocalStorage } from 'node:async_hooks';
import { CardcaError } from '../../common/cardca-error.js';
import type { VirtualCard } from '../emulator/virtual-card.js';
import type { CardTransport, TransmitOptions } from './card-transport.js';
import { cardResetError } from './pcsc-errors.js';

export interface InProcessTransportOptions {
  /** Reader name reported to callers (default "in-process:<card class>"). */
  readerName?: string;
  /** Default timeout for one APDU in ms (default 30 000). */
  timeoutMs?: number;
}

/**
 * A CardTransport that drives a VirtualCard object in the same process (unit tests). It keeps
 * the PC/SC contract: one exchange at a time, `exclusive()` serialises whole operations, every
 * wait has a timeout, and a card that lost power reports a reset once.
 */
export class InProcessTransport implements CardTransport {
  readonly readerName: string;
  private readonly defaultTimeout: number;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Marks code running inside this transport's exclusive() (nested calls just run). */
  private readonly holder = new AsyncLocalStorage<boolean>();

  constructor(private readonly card: VirtualCard, options: InProcessTransportOptions = {}) {
    this.readerName = options.readerName ?? `in-process:${card.constructor.name}`;
    this.defaultTimeout = options.timeoutMs ?? 30_000;
    card.powerOn();
  }

  atr(): Uint8Array {
    this.assertOpen();
    return this.card.atr();
  }

  async transmit(command: Uint8Array, options: TransmitOptions = {}): Promise<Uint8Array> {
    this.assertOpen();
    const lossy = this.card as VirtualCard & { consumePowerLoss?: () => boolean };
    if (lossy.consumePowerLoss?.()) {
      this.card.powerOn();
      throw cardResetError(this.readerName, true);
    }
    const timeoutMs = options.timeoutMs ?? this.defaultTimeout;
    const copy = command.slice(); // the card's own copy, wiped after it answered (it may hold a PIN)
    const answer = this.card.process(copy).finally(() => copy.fill(0));
    return withTimeout(answer, timeoutMs, () =>
      new CardcaError('CARD_TIMEOUT', `no response from the card within ${timeoutMs} ms; the APDU may have reached the card`, {
        hint: 'Check the card state (e.g. PIN tries, signature count) before retrying.',
      }),
    );
  }

  async exclusive<T>(fn: () => Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
    this.assertOpen();
    if (this.holder.getStore()) return fn();
    const timeoutMs = options.timeoutMs ?? this.defaultTimeout;
    const previous = this.queue;
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    this.queue = previous.then(() => mine);
    try {
      await withTimeout(previous, timeoutMs, () =>
        new CardcaError('CARD_BUSY', `waited ${timeoutMs} ms for exclusive access to ${this.readerName}`, {
          hint: 'Another operation holds the card; wait for it to finish.',
        }),
      );
    } catch (err) {
      // Still keep our place in the queue consistent: release once the predecessor finishes.
      previous.then(release, release);
      throw err;
    }
    try {
      return await this.holder.run(true, fn);
    } finally {
      release();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.card.powerOff();
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new CardcaError('CARD_CLOSED', `transport to ${this.readerName} is closed`, { hint: 'Open a new session.' });
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
