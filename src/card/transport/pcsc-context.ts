import { createRequire } from 'node:module';
import type pcsclite from 'pcsclite';
import { PcscError } from '../errors.js';
import { mapPcscError, pcscResultCode, pcscUnavailable, SCARD } from './pcsc-errors.js';
import { cardReaderFor, pcscNative, type NativeCardReader, type PcscNative } from './pcsc-native.js';
import { PcscTransport, type DisconnectHooks, type PcscReader } from './pcsc-transport.js';
import { NewThreads, threadStartedBy } from './status-thread-probe.js';
import { stopStatusThread } from './status-thread-stop.js';

type PcscFactory = typeof pcsclite;
type PcscLite = ReturnType<PcscFactory>;

export interface ReaderState {
  readonly name: string;
  readonly cardPresent: boolean;
  /** ATR of the card, when present. */
  readonly atr: Uint8Array | undefined;
}

/** A reader opened by name: its status thread, when pcscd last woke it, its stop once begun. */
interface SingleReader {
  readonly reader: NativeCardReader;
  /** Its status thread's id, when /proc names it (status-thread-probe.ts). */
  tid?: string;
  lastWake: number;
  stopped?: Promise<void>;
}

/** How long to wait for pcscd to report readers and their first status. */
const SCAN_TIMEOUT_MS = 3000;

/** pcscd's answer when the context a status thread got is not valid (it could not reach pcscd). */
const E_INVALID_HANDLE = 0x80100003;

/**
 * The PC/SC context: reader listing, card-presence watching, connecting. Wraps pcsclite's
 * native addon in promises and owns every native handle, so that `close()` lets the process exit
 * (pcsc-rig.md: every reader must be closed; `pcsc.close()` emits `error`).
 *
 * Two ways to a reader, so that pcscd is asked only for what a command needs:
 * - `connect(name)` before any listing: that reader alone (pcsc-native.ts) — one status thread
 *   for its presence and ATR, one card context; nothing about the other readers.
 * - `listReaders()`, `waitForCard()`, `waitForRemoval()`: the full scan of pcsclite's
 *   JavaScript (every reader, watched until `close()`), started the first time one is called;
 *   `connect` then uses the reader objects of that scan.
 */
export class PcscContext {
  private readonly native: PcscNative;
  private pcsc: PcscLite | undefined;
  /** `lastWake`: when pcscd last had reason to wake the reader's status thread (status-thread-stop.ts). */
  private readonly readers = new Map<string, { reader: PcscReader; state: ReaderState | undefined; lastWake: number; tid: string | undefined }>();
  /**
   * Readers opened by name for `connect` (no scan running); `stopped` once their status thread is
   * being stopped (status-thread-stop.ts: before the card is disconnected).
   */
  private readonly single: SingleReader[] = [];
  /** When the scan's reader-listing thread last reported (it is stopped the same careful way), and its id. */
  private scanWake = 0;
  private scanTid: string | undefined;
  private readonly waiters = new Set<() => void>();
  private closed = false;
  private lastError: unknown;

  private constructor(native: PcscNative) {
    this.native = native;
  }

  /** The full reader scan, started on first use (see the class comment). */
  private scan(): PcscLite {
    if (this.pcsc) return this.pcsc;
    let factory: PcscFactory;
    try {
      // pcsclite is CommonJS with a native addon: load it only when a scan is really needed.
      factory = createRequire(import.meta.url)('pcsclite') as PcscFactory;
    } catch (e) {
      throw new PcscError('PCSC_UNAVAILABLE', 'the pcsclite native module cannot be loaded', {
        hint: 'Install libpcsclite-dev and rebuild node_modules (npm rebuild pcsclite).',
        cause: e,
      });
    }
    let pcsc: PcscLite;
    // pcsclite starts the listing thread in a nextTick queued by factory(), and each reader's
    // thread just before it emits `reader`: each is the one new thread since the last look.
    const threads = new NewThreads();
    try {
      pcsc = factory();
    } catch (e) {
      throw pcscUnavailable(e);
    }
    process.nextTick(() => {
      this.scanTid = threads.next();
    });
    this.pcsc = pcsc;
    this.scanWake = Date.now();
    pcsc.on('error', (err: unknown) => {
      // Emitted on close() and when pcscd goes away; remembered and reported by the next call.
      this.lastError = err;
      this.notify();
    });
    pcsc.on('reader', (r) => {
      const reader = r as unknown as PcscReader & typeof r;
      this.scanWake = Date.now();
      const entry = { reader: reader as PcscReader, state: undefined as ReaderState | undefined, lastWake: Date.now(), tid: threads.next() };
      this.readers.set(reader.name, entry);
      reader.on('error', (err: unknown) => {
        this.lastError = err;
      });
      reader.on('status', (status: { state: number; atr?: Buffer }) => {
        entry.lastWake = Date.now();
        entry.state = readerState(reader, status.state, status.atr);
        this.notify();
      });
      reader.on('end', () => {
        this.readers.delete(reader.name);
        this.notify();
      });
      this.notify();
    });
    return pcsc;
  }

  /** Load the addon; throws `PCSC_UNAVAILABLE` when it cannot be loaded. pcscd is not asked yet. */
  static open(): PcscContext {
    try {
      return new PcscContext(pcscNative());
    } catch (e) {
      throw new PcscError('PCSC_UNAVAILABLE', 'the pcsclite native module cannot be loaded', {
        hint: 'Install libpcsclite-dev and rebuild node_modules (npm rebuild pcsclite).',
        cause: e,
      });
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
    this.scan();
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
    this.scan();
    return this.waitFor(() => this.readers.get(readerName)?.state?.cardPresent === true, timeoutMs);
  }

  /** Wait until `reader` has no card (true) or the timeout passes (false). */
  async waitForRemoval(readerName: string, timeoutMs: number): Promise<boolean> {
    this.assertOpen();
    this.scan();
    return this.waitFor(() => this.readers.get(readerName)?.state?.cardPresent !== true, timeoutMs);
  }

  /** Connect exclusively to the card in `readerName`. */
  async connect(readerName: string): Promise<PcscTransport> {
    this.assertOpen();
    if (!this.pcsc) return this.connectSingle(readerName);
    await this.listReaders();
    const e = this.readers.get(readerName);
    if (!e) throw readerNotFound(readerName);
    if (!e.state?.cardPresent || !e.state.atr) throw cardNotPresent(readerName);
    // The scan keeps watching this reader: our connect and disconnect wake its thread.
    const wake = (): void => {
      e.lastWake = Date.now();
    };
    try {
      return await this.connectCard(readerName, e.state.atr, { afterDisconnect: wake });
    } finally {
      wake();
    }
  }

  /**
   * The card connection goes through the process's one card object for the reader
   * (pcsc-native.ts `cardReaderFor`), never through a status thread's object.
   */
  private async connectCard(readerName: string, atr: Uint8Array, hooks: DisconnectHooks): Promise<PcscTransport> {
    const lease = cardReaderFor(this.native, readerName);
    try {
      return await PcscTransport.connect(lease.reader, atr, {
        ...hooks,
        afterDisconnect: () => {
          lease.release();
          hooks.afterDisconnect?.();
        },
      });
    } catch (e) {
      // A connect that timed out may still complete: that object is not lent again.
      if (!(e instanceof PcscError && e.code === 'CARD_CONNECT_TIMEOUT')) lease.release();
      throw e;
    }
  }

  /**
   * `readerName` alone: its first status (presence, ATR) from one status thread, then the card
   * context. The status thread stays until `close()`: stopping it before it blocks in
   * `SCardGetStatusChange` loses the cancel (the addon then retries every 10 ms, up to 50 ms).
   */
  private async connectSingle(readerName: string, timeoutMs = SCAN_TIMEOUT_MS): Promise<PcscTransport> {
    const reader = new this.native.CardReader(readerName);
    const entry: SingleReader = { reader, lastWake: Date.now() };
    this.single.push(entry);
    const first = await new Promise<{ state: ReaderState } | { error: PcscError }>((resolve) => {
      const timer = setTimeout(
        () => resolve({ error: new PcscError('PCSC_TIMEOUT', `pcscd reported no status of reader "${readerName}" within ${timeoutMs} ms`, { hint: 'Check pcscd (`ca card list`) and run the command again.' }) }),
        timeoutMs,
      );
      const done = (v: { state: ReaderState } | { error: PcscError }): void => {
        clearTimeout(timer);
        resolve(v);
      };
      // Both are called while the addon holds the reader's mutex (`HandleReaderStatusChange`),
      // and `_end` through MakeCallback, which runs pending promise jobs on the spot: code that
      // reacted at once could reach `reader.close()`, which takes the same mutex — a deadlock
      // (seen with an unknown reader). So the answer is handed on from the next turn of the loop.
      // The thread ends without any status for a reader pcscd does not know (SCARD_E_UNKNOWN_READER).
      reader.emit = (event: string) => {
        if (event === '_end') setImmediate(() => done({ error: readerNotFound(readerName) }));
      };
      entry.tid = threadStartedBy(() => reader.get_status((err, state, atr) => {
        let v: { state: ReaderState } | { error: PcscError };
        if (err) {
          const code = pcscResultCode(err);
          // A context the thread could not establish (no pcscd) shows as an invalid handle.
          v = { error: code === E_INVALID_HANDLE || code === SCARD.E_NO_SERVICE || code === SCARD.E_SERVICE_STOPPED ? pcscUnavailable(err) : mapPcscError(err, 'reader status', readerName, false) };
        } else v = { state: readerState(reader, state, atr) };
        setImmediate(() => done(v));
      })).tid;
    });
    entry.lastWake = Date.now();
    const stop = (): Promise<void> => (entry.stopped ??= stopStatusThread(reader, entry.lastWake, { tid: entry.tid }));
    let transport: PcscTransport;
    try {
      if ('error' in first) throw first.error;
      if (!first.state.cardPresent || !first.state.atr) throw cardNotPresent(readerName);
      transport = await this.connectCard(readerName, first.state.atr, { beforeDisconnect: stop });
    } catch (e) {
      entry.lastWake = Date.now();
      await stop();
      throw e;
    }
    // Its one job (presence and ATR) is done: stopped as soon as it waits where a cancel reaches
    // it (status-thread-stop.ts), while the command talks to the card.
    entry.lastWake = Date.now();
    void stop();
    return transport;
  }

  private assertOpen(): void {
    if (this.closed) throw new PcscError('PCSC_CLOSED', 'the PC/SC context is closed');
  }

  /**
   * Release every native handle so the process can exit by itself. Idempotent. Each status thread
   * is stopped once it has settled (status-thread-stop.ts), so this can take a few tens of ms.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const single = this.single.splice(0);
    const scanned = [...this.readers.values()];
    this.readers.clear();
    for (const e of single) await (e.stopped ??= stopStatusThread(e.reader, e.lastWake, { tid: e.tid }));
    for (const e of scanned) await stopStatusThread(e.reader, e.lastWake, { tid: e.tid });
    // close() after pcscd died throws; stopStatusThread ignores that.
    if (this.pcsc) await stopStatusThread(this.pcsc, this.scanWake, { tid: this.scanTid });
  }
}

function readerState(reader: NativeCardReader, state: number, atr: Buffer | undefined): ReaderState {
  const present = (state & reader.SCARD_STATE_PRESENT) !== 0 && (state & reader.SCARD_STATE_MUTE) === 0;
  return { name: reader.name, cardPresent: present, atr: present && atr && atr.length > 0 ? new Uint8Array(atr) : undefined };
}

function readerNotFound(readerName: string): PcscError {
  return new PcscError('READER_NOT_FOUND', `no reader named "${readerName}"`, {
    hint: 'List the readers with `ca card list`.',
  });
}

function cardNotPresent(readerName: string): PcscError {
  return new PcscError('CARD_NOT_PRESENT', `no card in reader "${readerName}"`, { hint: 'Insert the card and run the command again.' });
}
