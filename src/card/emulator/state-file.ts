import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CardcaError } from '../../common/cardca-error.js';
import { assertCardState, factoryFreshState, type CardStateData } from './card-state.js';

/**
 * Load and save the emulator's state file. A missing file is a factory-fresh card. Saves are
 * atomic (write temp, fsync, rename, fsync directory) so a crash mid-write leaves either the old
 * or the new state, never a torn file — like a card's transactional EEPROM writes.
 */
export function loadStateFile(path: string, now: Date = new Date()): { state: CardStateData; created: boolean } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: factoryFreshState(now), created: true };
    throw new CardcaError('EMULATOR_STATE_UNREADABLE', `cannot read emulator state file ${path}`, {
      cause: err,
      hint: 'Check the path and permissions, or pass a new path for a factory-fresh card.',
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
    assertCardState(parsed);
  } catch (err) {
    throw new CardcaError('EMULATOR_STATE_INVALID', `${path} is not an emulator state file`, {
      cause: err,
      hint: 'Pass a state file written by `ca emulator start`, or a new path for a factory-fresh card.',
    });
  }
  return { state: parsed, created: false };
}

/**
 * How an emulated card's state change is saved. `durable: false` (only a signature counter
 * moved) skips the two fsyncs: the save is still atomic (temp file, rename), so an emulator that
 * is killed leaves the old or the new state, as the rig's fault model needs; only a power loss of
 * the host can lose such a save. A real card's counter write is its own EEPROM's business; here
 * the two fsyncs were half the emulator's time per signature (docs/benchmarks.md). Keys, PINs,
 * files and use-limited counters stay durable.
 */
export interface SaveOptions {
  readonly durable: boolean;
}

/** What a card emulator calls after each change to its non-volatile memory. */
export type PersistState<S> = (state: S, o?: SaveOptions) => void;

/** Any card family's JSON state (the PIV emulator saves through this too). */
export function saveStateFile(path: string, state: CardStateData | object, o: SaveOptions = { durable: true }): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  const text = JSON.stringify(state, null, 2) + '\n';
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    if (o.durable) fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* best effort */
    }
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  if (!o.durable) return;
  // fsync the directory so the rename itself is durable (POSIX rename(2) + fsync(2) idiom).
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/**
 * Load any card family's JSON state: a missing file is a factory-fresh card from `factory`; a
 * file that `assertShape` rejects is EMULATOR_STATE_INVALID naming the family.
 */
export function loadFamilyStateFile<T>(
  path: string,
  o: { factory: () => T; assertShape: (x: unknown) => asserts x is T; family: string; typeFlag: string },
): { state: T; created: boolean } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: o.factory(), created: true };
    throw new CardcaError('EMULATOR_STATE_UNREADABLE', `cannot read emulator state file ${path}`, {
      cause: err,
      hint: 'Check the path and permissions, or pass a new path for a factory-fresh card.',
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
    o.assertShape(parsed);
  } catch (err) {
    throw new CardcaError('EMULATOR_STATE_INVALID', `${path} is not a ${o.family} emulator state file`, {
      cause: err,
      hint: `Pass a state file written by \`ca emulator start ${o.typeFlag}\`, or a new path for a factory-fresh card.`,
    });
  }
  return { state: parsed as T, created: false };
}
