import { readFileSync } from 'node:fs';
import { PivCard } from './piv-card.js';
import { isPivStateText, loadPivStateFile, savePivStateFile } from './piv-state.js';

/** True when `path` exists and holds a PIV emulator state (so `--type` may be left out). */
export function stateFileIsPiv(path: string): boolean {
  try {
    return isPivStateText(readFileSync(path, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * The emulated PIV token behind `ca emulator start --type piv`: state loaded (or created
 * factory-fresh and written at once, so the serial is fixed) and saved after every change.
 */
export function createPivEmulatorCard(
  statePath: string,
  o: { now: Date; extendedLength: boolean; maxResponseSize?: number },
): { card: PivCard; created: boolean } {
  const { state, created } = loadPivStateFile(statePath, o.now);
  if (created) savePivStateFile(statePath, state);
  const card = new PivCard({
    state,
    persist: (s, o) => savePivStateFile(statePath, s, o),
    extendedLength: o.extendedLength,
    ...(o.maxResponseSize !== undefined ? { maxResponseSize: o.maxResponseSize } : {}),
  });
  return { card, created };
}
