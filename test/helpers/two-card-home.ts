import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type EmulatorProcess } from './emulator-process.js';
import { BIN, expectOk, runCommand } from './run-command.js';

/** Test-card PINs (the SmartCard-HSM documented defaults); never real ones. */
export const TEST_PIN = '648219';
export const TEST_SO_PIN = '3537363231383830';

export interface TwoCardHome {
  readonly dir: string;
  /** CA home (not yet created when `init: false`). */
  readonly home: string;
  /** File holding the user PIN of both cards (mode 0600). */
  readonly pin: string;
  /** File holding the SO-PIN of both cards (mode 0600). */
  readonly soPin: string;
  readonly rootEmu: EmulatorProcess;
  readonly subEmu: EmulatorProcess;
}

/**
 * The common start of CLI integration tests: a temp dir with PIN files, two virtual
 * SmartCard-HSMs (root card, sub-CA card) on `ports`, both initialised with `ca card init`,
 * and `ca init` of a CA home. Stop the emulators in the test's `after`.
 */
export async function initTwoCardHome(prefix: string, ports: readonly [number, number]): Promise<TwoCardHome> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const home = join(dir, 'ca-data');
  const pin = join(dir, 'user.pin');
  const soPin = join(dir, 'so.pin');
  writeFileSync(pin, `${TEST_PIN}\n`, { mode: 0o600 });
  writeFileSync(soPin, `${TEST_SO_PIN}\n`, { mode: 0o600 });
  // The caller's `after` hook only sees what this returns: if anything below fails, stop the
  // emulators started so far here, or the test process never exits (a live child holds it).
  const started: EmulatorProcess[] = [];
  try {
    const rootEmu = await startEmulator({ port: ports[0] });
    started.push(rootEmu);
    const subEmu = await startEmulator({ port: ports[1] });
    started.push(subEmu);
    for (const [emu, label] of [[rootEmu, 'Root CA card'], [subEmu, 'Sub-CA card']] as const) {
      expectOk(
        await runCommand(process.execPath, [BIN, 'card', 'init', '--reader', emu.readerName, '--label', label, '--so-pin-file', soPin, '--pin-file', pin]),
        'card init',
      );
    }
    await initHome(home);
    return { dir, home, pin, soPin, rootEmu, subEmu };
  } catch (e) {
    await Promise.allSettled(started.map((emu) => emu.stop()));
    throw e;
  }
}

/** `ca init` of a CA home for tests with emulated cards (the one place that says how). */
export async function initHome(home: string): Promise<void> {
  expectOk(await runCommand(process.execPath, [BIN, 'init', '--rehearsal', '--home', home]), 'init');
}
