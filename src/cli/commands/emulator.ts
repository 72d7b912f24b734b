import type { CommandModule } from 'yargs';
import { VPCD_DEFAULT_HOST, VPCD_DEFAULT_PORT } from '../../card/emulator/vpcd-defaults.js';
import type { CliContext } from '../context.js';
import type { StartArgs } from './emulator-run.js';

/**
 * `ca emulator start`: run a virtual SmartCard-HSM (a TEST card) in the foreground and plug it
 * into vpcd's virtual reader until SIGTERM/SIGINT. See docs/emulator.md. This module is only the
 * definition (all `ca emulator --help` loads); the emulator is emulator-run.ts, imported when it
 * runs (issue #14 item 1).
 */
export function emulatorCommand(ctx: CliContext): CommandModule<object, any> {
  return {
    command: 'emulator <action>',
    describe: 'Virtual SmartCard-HSM, PIV token (--type piv) or MyEID (--type myeid) for tests and ceremony rehearsal (TEST card, not for real keys)',
    builder: (y) =>
      y
        .positional('action', { choices: ['start'] as const, describe: 'start: run the emulated card until SIGTERM/SIGINT' })
        .option('state', { type: 'string', demandOption: true, describe: 'state file (created factory-fresh if missing)' })
        .option('port', { type: 'number', default: VPCD_DEFAULT_PORT, describe: 'vpcd TCP port (35963 = "Virtual PCD 00 00")' })
        .option('host', { type: 'string', default: VPCD_DEFAULT_HOST, describe: 'vpcd host' })
        .option('apdu-log', { type: 'string', describe: 'append a JSONL APDU transcript (PINs redacted) to this file' })
        .option('fault', { type: 'string', array: true, describe: 'fault spec, repeatable: remove-after=K, power-off-after=K, sw=K:SW, sw-ins=INS:SW, delay=K:MS' })
        .option('max-response', { type: 'number', describe: 'T=0 style: return responses longer than N bytes via 61xx/GET RESPONSE' })
        .option('extended', { type: 'boolean', default: true, describe: 'accept extended-length APDUs (--no-extended: answer 6700)' })
        .option('reinsert-after-ms', { type: 'number', describe: 'after a remove-after fault, re-insert the card after N ms' })
        .option('type', { choices: ['sc-hsm', 'piv', 'myeid'] as const, describe: 'card family: sc-hsm (SmartCard-HSM), piv (YubiKey-style PIV token) or myeid (Aventra MyEID PKCS#15 card); default: that of an existing state file, else sc-hsm' }),
    handler: async (argv) => (await import('./emulator-run.js')).runEmulator(ctx, argv as unknown as StartArgs),
  };
}

