import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The native half of the `pcsclite` package (its C++ addon, `pcsclite/src/*.cpp`), used
 * directly. Why not the package's JavaScript (`lib/pcsclite.js`):
 *
 * - it finds the addon with the `bindings` package (a stack trace and a stat of about a dozen
 *   candidate paths: 15–40 ms of every `ca` command that touches a card, docs/benchmarks.md);
 * - its only entry point starts the full reader scan: one PC/SC context for the listing, then
 *   one status thread per reader, each with its own context (`CardReader::HandlerFunction` calls
 *   `SCardEstablishContext`), so a command that knows its reader still made 10 connections to
 *   pcscd on the 8-reader rig, and 9 more at close (each `SCardCancel` opens one).
 *
 * `CardReader` alone (no `PCSCLite`) is a reader by name: `get_status` starts one status
 * thread for that reader only, `_connect` one card context. The methods below are the addon's
 * own (pcsclite 1.0.1, `cardreader.cpp`); the package's JavaScript wraps the same ones.
 */
export interface NativeCardReader {
  readonly name: string;
  /** Set by the addon (`AfterConnect` / `AfterDisconnect`). */
  readonly connected: boolean;
  /**
   * Start the status thread: `cb(undefined, state, atr)` on every change, the first one at once
   * (`SCardGetStatusChange` from `SCARD_STATE_UNAWARE`); `cb(err)` when it fails. When the
   * thread ends (unknown reader, `close()`) the addon calls `this.emit('_end')`.
   */
  get_status(cb: (err: Error | undefined, state: number, atr: Buffer) => void): void;
  _connect(shareMode: number, protocol: number, cb: (err: Error | null, protocol: number) => void): void;
  _disconnect(disposition: number, cb: (err: Error | null) => void): void;
  _transmit(data: Buffer, resLen: number, protocol: number, cb: (err: Error | null, data: Buffer) => void): void;
  /** Stop the status thread (one `SCardCancel`, then join). */
  close(): number;
  /** Called by the addon by name (`Nan::MakeCallback(handle, "emit", …)`); an instance must have one. */
  emit?: (event: string, ...args: unknown[]) => unknown;
  readonly SCARD_SHARE_EXCLUSIVE: number;
  readonly SCARD_PROTOCOL_T0: number;
  readonly SCARD_PROTOCOL_T1: number;
  readonly SCARD_RESET_CARD: number;
  readonly SCARD_STATE_PRESENT: number;
  readonly SCARD_STATE_MUTE: number;
}

export interface PcscNative {
  readonly CardReader: new (name: string) => NativeCardReader;
}

let loaded: PcscNative | undefined;
/** Per reader name, the object whose card context this process reuses (cardReaderFor below). */
let cardReaders: Map<string, { reader: NativeCardReader; leased: boolean }> | undefined;

/**
 * Load the addon where node-gyp puts it; another build layout falls back to the package's own
 * `bindings` lookup (the slow path, still the same addon). Node caches a native module by its
 * real path, so this and `require('pcsclite')` share one addon instance (a second `dlopen` of a
 * non-context-aware addon would fail).
 */
export function pcscNative(): PcscNative {
  if (loaded) return loaded;
  const req = createRequire(import.meta.url);
  const root = dirname(req.resolve('pcsclite/package.json'));
  const addon = join(root, 'build', 'Release', 'pcsclite.node');
  loaded = existsSync(addon)
    ? (req(addon) as PcscNative)
    : ((createRequire(join(root, 'package.json'))('bindings') as (o: { bindings: string; module_root: string }) => PcscNative)({ bindings: 'pcsclite', module_root: root }));
  return loaded;
}

/**
 * The reader object to connect a card through: one per reader name for the whole process,
 * lent to one connection at a time; `release` gives it back after the disconnect.
 *
 * Why: the addon gives each reader object its own PC/SC context for card connections, made at
 * its first `_connect` and released only when the object is garbage-collected
 * (`cardreader.cpp`: `DoConnect` establishes `m_card_context`, only `~CardReader` releases it).
 * A new object per connection therefore left one context in pcscd per connection until a GC;
 * pcscd refuses contexts beyond its limit (200 by default: "Too many context running"), and then
 * also the `SCardCancel` that stops a status thread fails, so `close()` joined a thread that
 * never ends and the process hung (seen on the rig after ~200 connects in one process).
 * Status threads (`get_status`) run on objects of their own: a stopped one cannot be restarted.
 *
 * While the shared object is lent (another session of this process holds or is connecting to
 * the card), the caller gets a new object: its exclusive connect is refused by pcscd as before,
 * and a second connect on the shared object would overwrite the first one's card handle.
 */
export function cardReaderFor(native: PcscNative, name: string): { reader: NativeCardReader; release: () => void } {
  cardReaders ??= new Map();
  let slot = cardReaders.get(name);
  if (!slot) {
    slot = { reader: new native.CardReader(name), leased: false };
    cardReaders.set(name, slot);
  }
  if (slot.leased) return { reader: new native.CardReader(name), release: () => undefined };
  const lent = slot;
  lent.leased = true;
  let released = false;
  return {
    reader: lent.reader,
    release: () => {
      if (released) return;
      released = true;
      lent.leased = false;
      // Still connected (a disconnect that never answered): not lent again.
      if (lent.reader.connected) cardReaders?.delete(name);
    },
  };
}
