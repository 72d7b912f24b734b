import { readFileSync } from 'node:fs';
import { MyeidCard } from './myeid-card.js';
import { isMyeidStateText, loadMyeidStateFile, saveMyeidStateFile } from './myeid-state.js';

/** True when `path` exists and holds a MyEID emulator state (so `--type` may be left out). */
export function stateFileIsMyeid(path: string): boolean {
  try {
    return isMyeidStateText(readFileSync(path, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * The emulated MyEID behind `ca emulator start --type myeid`: state loaded (or created
 * factory-fresh and written at once, so the serial is fixed) and saved after every change.
 */
export function createMyeidEmulatorCard(statePath: string, o: { now: Date }): { card: MyeidCard; created: boolean } {
  const { state, created } = loadMyeidStateFile(statePath, o.now);
  if (created) saveMyeidStateFile(statePath, state);
  const card = new MyeidCard({ state, persist: (s, o) => saveMyeidStateFile(statePath, s, o) });
  return { card, created };
}
