import { createRequire } from 'node:module';
import type pcsclite from 'pcsclite';
import { PcscError } from '../errors.js';
import { pcscUnavailable } from './pcsc-errors.js';
import { PcscTransport, type PcscReader } from './pcsc-transport.js';

type PcscFactory = typeof pcsclite;
type PcscLite = ReturnType<PcscFactory>;

export interface ReaderState {
  readonly name: string;
  readonly cardPresent: boolean;
  /** ATR of the card, when present. */
  readonly atr: Uint8Array | undefined;
}

/** How long to wait for pcscd to report readers and their first status. */
const SCAN_TIMEOUT_MS = 3000;

/**
 * The PC/SC context: reader listing, card-presence watching, connecting. Wraps `pcsclite`'s
 * event API in promises and owns every native handle, so that `close()` lets the process exit
 * (pcsc-rig.md: every reader must be closed; `pcsc.close()` emits `error`).
 */
export class PcscContext {
  private readonly pcsc: PcscLite;
  private readonly readers = new Map<string, { reader: PcscReader; state: ReaderState | undefined }>();
  private readonly waiters = new Set<() => void>();
  private closed = false;
  private lastError: unknown;

  private constructor(pcsc: PcscLite) {
    this.pcsc = pcsc;
    pcsc.on('error', (err: unknown) => {
      // Emitted on close() and when pcscd goes away; remembered and reported by the next call.
      this.lastError = err;
      this.notify();
    });
    pcsc.on('reader', (reader: PcscReader) => {
      const entry = { reader, state: undefined as ReaderState | undefined };
      this.readers.set(reader.name, entry);
      reader.on('error', (err: unknown) => {
        this.lastError = err;
      });
      reader.on('status', (status: { state: number; atr?: Buffer }) => {
        const present = (status.state & reader.SCARD_STATE_PRESENT) !== 0 && (status.state & reader.SCARD_STATE_MUTE) === 0;
        entry.state = {
          name: reader.name,
          cardPresent: present,
          atr: present && status.atr && status.atr.length > 0 ? new Uint8Array(status.atr) : undefined,
        };
        this.notify();
      });
      reader.on('end', () => {
        this.readers.delete(reader.name);
        this.notify();
      });
      this.notify();
    });
  }

  /** Open a context; throws `PCSC_UNAVAILABLE` when pcscd is not running. */
  static open(): PcscContext {
    let factory: PcscFactory;
    try {
      // pcsclite is CommonJS with a native addon: load it only when a context is really needed.
      factory = createRequire(import.meta.url)('pcsclite') as PcscFactory;
    } catch (e) {
      throw new PcscError('PCSC_UNAVAILABLE', 'the pcsclite native module cannot be loaded', {
        hint: 'Install libpcsclite-dev and rebuild node_modules (npm rebuild pcsclite).',
        cause: e,
      });
    }
    try {
      return new PcscContext(factory());
    } catch (e) {
      throw pcscUnavailable(e);
    }
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
    if (cond()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (cond()) {
          cleanup();
          resolve(true);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        resolve(false);
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  /** Every reader pcscd knows, with card presence. Waits until each reader reported its first status. */
  async listReaders(timeoutMs = SCAN_TIMEOUT_MS): Promise<ReaderState[]> {
    this.assertOpen();
    // pcsclite reports the readers from its first scan in one burst; with no reader at all
    // nothing is emitted, so the wait ends at the timeout with an empty list.
    await this.waitFor(() => this.readers.size > 0 || this.lastError !== undefined, timeoutMs);
    await new Promise((r) => setImmediate(r));
    await this.waitFor(() => [...this.readers.values()].every((e) => e.state !== undefined), timeoutMs);
    if (this.readers.size === 0 && this.lastError !== undefined) throw pcscUnavailable(this.lastError);
    return [...this.readers.values()].flatMap((e) => (e.state ? [e.state] : [])).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Wait until `reader` has a card (true) or the timeout passes (false). */
  async waitForCard(readerName: string, timeoutMs: number): Promise<boolean> {
    this.assertOpen();
    return this.waitFor(() => this.readers.get(readerName)?.state?.cardPresent === true, timeoutMs);
  }

  /** Wait until `reader` has no card (true) or the timeout passes (false). */
  async waitForRemoval(readerName: string, timeoutMs: number): Promise<boolean> {
    this.assertOpen();
    return this.waitFor(() => this.readers.get(readerName)?.state?.cardPresent !== true, timeoutMs);
  }

  /** Connect exclusively to the card in `readerName`. */
  async connect(readerName: string): Promise<PcscTransport> {
    this.assertOpen();
    await this.listReaders();
    const e = this.readers.get(readerName);
    if (!e) {
      throw new PcscError('READER_NOT_FOUND', `no reader named "${readerName}"`, {
        hint: 'List the readers with `ca card list`.',
      });
    }
    if (!e.state?.cardPresent || !e.state.atr) {
      throw new PcscError('CARD_NOT_PRESENT', `no card in reader "${readerName}"`, { hint: 'Insert the card and run the command again.' });
    }
    return PcscTransport.connect(e.reader, e.state.atr);
  }

  private assertOpen(): void {
    if (this.closed) throw new PcscError('PCSC_CLOSED', 'the PC/SC context is closed');
  }

  /** Release every native handle so the process can exit by itself. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const { reader } of this.readers.values()) {
      try {
        reader.close();
      } catch {
        /* already closed */
      }
    }
    this.readers.clear();
    try {
      this.pcsc.close();
    } catch {
      /* close() after pcscd died */
    }
  }
}
