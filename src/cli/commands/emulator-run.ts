import { resolve } from 'node:path';
import { ApduLog } from '../../card/emulator/apdu-log.js';
import { FaultPlan, FaultSpecError } from '../../card/emulator/fault-plan.js';
import { InstrumentedCard } from '../../card/emulator/instrumented-card.js';
import { ScHsmCard } from '../../card/emulator/sc-hsm-card.js';
import { loadStateFile, saveStateFile } from '../../card/emulator/state-file.js';
import { createPivEmulatorCard, stateFileIsPiv } from '../../card/emulator/piv-emulator.js';
import { createMyeidEmulatorCard, stateFileIsMyeid } from '../../card/emulator/myeid-emulator.js';
import type { VirtualCard } from '../../card/emulator/virtual-card.js';
import { VpcdClient } from '../../card/emulator/vpcd-client.js';
import { usageError } from '../cli-error.js';
import { eprintln, println, type CliContext } from '../context.js';

export interface StartArgs {
  state: string;
  port: number;
  host: string;
  'apdu-log'?: string;
  fault?: string[];
  'max-response'?: number;
  extended: boolean;
  'reinsert-after-ms'?: number;
  type?: 'sc-hsm' | 'piv' | 'myeid';
}

/** `ca emulator start` (definition in emulator.ts). */
export async function runEmulator(ctx: CliContext, args: StartArgs): Promise<void> {
  const statePath = resolve(ctx.cwd, args.state);
  if (!Number.isInteger(args.port) || args.port < 1 || args.port > 65535) throw usageError(`--port ${args.port} is not a TCP port`);
  let faults: FaultPlan;
  try {
    faults = new FaultPlan(args.fault ?? []);
  } catch (err) {
    if (err instanceof FaultSpecError) throw usageError(err.message, 'See `ca emulator start --help` for the fault syntax.');
    throw err;
  }
  const type = args.type ?? (stateFileIsPiv(statePath) ? 'piv' : stateFileIsMyeid(statePath) ? 'myeid' : 'sc-hsm');
  let card: VirtualCard & { readonly serial: string };
  let created: boolean;
  let family: string;
  if (type === 'piv') {
    ({ card, created } = createPivEmulatorCard(statePath, {
      now: ctx.now(),
      extendedLength: args.extended,
      ...(args['max-response'] !== undefined ? { maxResponseSize: args['max-response'] } : {}),
    }));
    family = 'PIV token (YubiKey-style)';
  } else if (type === 'myeid') {
    // Short APDUs only, as the real card: --max-response and --no-extended change nothing here.
    ({ card, created } = createMyeidEmulatorCard(statePath, { now: ctx.now() }));
    family = 'Aventra MyEID';
  } else {
    const loaded = loadStateFile(statePath, ctx.now());
    created = loaded.created;
    // Fix the serial at first start: the factory-fresh state is written before anything else.
    if (created) saveStateFile(statePath, loaded.state);
    card = new ScHsmCard({
      state: loaded.state,
      persist: (s, o) => saveStateFile(statePath, s, o),
      ...(args['max-response'] !== undefined ? { maxResponseSize: args['max-response'] } : {}),
      extendedLength: args.extended,
    });
    family = 'SmartCard-HSM';
  }
  const instrumented = new InstrumentedCard(card, {
    faults,
    ...(args['apdu-log'] ? { apduLog: new ApduLog(resolve(ctx.cwd, args['apdu-log'])) } : {}),
  });
  const client = new VpcdClient(instrumented, {
    host: args.host,
    port: args.port,
    ...(args['reinsert-after-ms'] !== undefined ? { reinsertAfterMs: args['reinsert-after-ms'] } : {}),
  });
  instrumented.onRemove = () => client.remove();

  const bar = '!'.repeat(78);
  eprintln(ctx, bar);
  eprintln(ctx, `!!  cardca EMULATOR: this is a TEST ${family}, NOT a real card.`);
  eprintln(ctx, '!!  Its keys and PINs sit UNPROTECTED in the state file. Never use it for');
  eprintln(ctx, '!!  production keys or real certificates.');
  eprintln(ctx, `!!  state file: ${statePath}${created ? ' (new, factory-fresh)' : ''}`);
  eprintln(ctx, `!!  serial:     ${card.serial}`);
  eprintln(ctx, `!!  vpcd:       ${args.host}:${args.port}`);
  if (type === 'piv') eprintln(ctx, '!!  factory PIN 123456, PUK 12345678, management key 0102…0708 (3DES); touch is simulated');
  if (faults.list().length > 0) eprintln(ctx, `!!  faults:     ${(args.fault ?? []).join(' ')}`);
  eprintln(ctx, bar);

  let stopSignal!: (sig: string) => void;
  const stopped = new Promise<string>((r) => (stopSignal = r));
  const onSignal = (sig: NodeJS.Signals) => stopSignal(sig);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const first = client.start();
    const outcome = await Promise.race([first.then(() => 'connected'), stopped]);
    if (outcome === 'connected') {
      println(ctx, `emulator ready port=${args.port} serial=${card.serial}`);
      client.on('disconnected', () => eprintln(ctx, 'emulator: vpcd connection lost; reconnecting'));
      const sig = await stopped;
      eprintln(ctx, `emulator: ${sig} received, removing the card`);
    }
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await client.stop();
  }
}
