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
