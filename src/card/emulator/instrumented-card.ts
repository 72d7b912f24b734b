import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { apduLogEntry, type ApduLog } from './apdu-log.js';
import { FaultPlan } from './fault-plan.js';
import type { VirtualCard } from './virtual-card.js';

export interface InstrumentedCardOptions {
  faults?: FaultPlan;
  apduLog?: ApduLog;
  /** Called after the response to an APDU marked `remove-after` has been produced. */
  onRemove?: () => void;
}

/**
 * Wraps a VirtualCard with fault injection and the APDU transcript. The sequence number counts
 * every APDU since construction (1-based), independent of power cycles.
 */
export class InstrumentedCard implements VirtualCard {
  readonly faults: FaultPlan;
  private seq = 0;
  private powerLost = false;
  onRemove: (() => void) | undefined;

  constructor(readonly inner: VirtualCard, private readonly options: InstrumentedCardOptions = {}) {
    this.faults = options.faults ?? new FaultPlan();
    this.onRemove = options.onRemove;
  }

  /** Number of APDUs processed so far. */
  get apduCount(): number {
    return this.seq;
  }

  /**
   * True once after a `power-off-after` fault fired: the in-process transport then reports a
   * reset (as PC/SC does with SCARD_W_RESET_CARD) and powers the card on again.
   */
  consumePowerLoss(): boolean {
    const lost = this.powerLost;
    this.powerLost = false;
    return lost;
  }

  atr(): Uint8Array {
    return this.inner.atr();
  }
  powerOn(): void {
    this.powerLost = false;
    this.inner.powerOn();
  }
  powerOff(): void {
    this.inner.powerOff();
  }
  reset(): void {
    this.inner.reset();
  }

  async process(command: Uint8Array): Promise<Uint8Array> {
    const seq = ++this.seq;
    const started = new Date();
    const t0 = performance.now();
    const d = this.faults.decide(seq, command.length >= 2 ? command[1]! : -1);
    if (d.delayMs > 0) await sleep(d.delayMs);
    const response = d.sw !== undefined ? Uint8Array.of(d.sw >> 8, d.sw & 0xff) : await this.inner.process(command);
    try {
      this.options.apduLog?.append(apduLogEntry(seq, started, command, response, performance.now() - t0));
    } catch {
      /* the transcript is a debugging aid; a full disk must not break the card */
    }
    if (d.powerOffAfter) {
      this.inner.powerOff();
      this.powerLost = true;
    }
    if (d.removeAfter) queueMicrotask(() => this.onRemove?.());
    return response;
  }
}
