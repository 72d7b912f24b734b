/**
 * The two emulated SmartCard-HSMs the issuance benches sign with, started, initialised and
 * PIN-verified through the driver API, and torn down again: a root card on `port` and an
 * issuing card on `port + 1` (vpcd ports 35963 and 35964 by default, the machine's rig).
 * bench/start-up-and-batch.ts and bench/issuance-vs-openssl.ts each carried a copy of this.
 */
import { startEmulator, type EmulatorProcess } from '../../test/helpers/emulator-process.js';
import { PcscCardService } from '../../src/card/pcsc-card-service.js';
import type { DriverCardSession } from '../../src/card/card-session-impl.js';

/** The emulated card's test PINs (never a real card's): the peer gets the PIN in the URI. */
export const PIN_TEXT = '648219';
export const PIN = Buffer.from(PIN_TEXT);
export const SO = Buffer.from('3537363231383830', 'hex');

export interface BenchCards {
  readonly emuRoot: EmulatorProcess;
  readonly emuSub: EmulatorProcess;
  /** The PC/SC service the sessions below came from (also for the engine rows' own sessions). */
  readonly service: PcscCardService;
  /** Open, initialised and PIN-verified sessions: close them (`closeSessions`) before the CLI or the peer needs the cards. */
  readonly root: DriverCardSession;
  readonly sub: DriverCardSession;
  closeSessions(): Promise<void>;
}

/**
 * Run `fn` with both cards; whatever `fn` does, the sessions, the PC/SC context and both
 * emulators are closed afterwards (each emulator's stop waits until its reader shows no card,
 * so the next bench finds the ports free).
 */
export async function withBenchCards<T>(port: number, fn: (cards: BenchCards) => Promise<T>): Promise<T> {
  let emuRoot: EmulatorProcess | undefined;
  let emuSub: EmulatorProcess | undefined;
  const service = new PcscCardService();
  const open: DriverCardSession[] = [];
  const closeSessions = async (): Promise<void> => {
    for (const s of open.splice(0)) await s.close();
  };
  try {
    emuRoot = await startEmulator({ port });
    emuSub = await startEmulator({ port: port + 1 });
    const root = await service.open({ reader: emuRoot.readerName });
    open.push(root);
    const sub = await service.open({ reader: emuSub.readerName });
    open.push(sub);
    await root.initialize({ soPin: SO, userPin: PIN, retries: 3, label: 'bench root' });
    await root.verifyPin(PIN);
    await sub.initialize({ soPin: SO, userPin: PIN, retries: 3, label: 'bench issuing' });
    await sub.verifyPin(PIN);
    return await fn({ emuRoot, emuSub, service, root, sub, closeSessions });
  } finally {
    await closeSessions().catch(() => undefined);
    await service.close().catch(() => undefined);
    await emuRoot?.stop();
    await emuSub?.stop();
  }
}
