import type { CommandModule } from 'yargs';
import { withMgmtKey } from '../../command-options.js';
import { withCardSelection } from './card-options.js';
import type { CliContext } from '../../context.js';
import type { InitArgs } from './init-run.js';

/**
 * `ca card init`: initialise (wipe!) a SmartCard-HSM with a label, user PIN and retry count.
 * The SO-PIN is the card's current initialisation code (16 hex digits). PIV: new PIN and PUK.
 * PKCS#15 file-system cards (MyEID): the layout OpenSC's pkcs15-init writes, new PIN and PUK.
 */
export function cardInitCommand(ctx: CliContext): CommandModule<object, InitArgs> {
  return {
    command: 'init',
    describe: 'Initialise a card: label, new user PIN, PIN retries (ERASES every key on the card)',
    builder: (y) =>
      withMgmtKey(withCardSelection(y))
        .option('label', { type: 'string', demandOption: true, describe: 'token label written to TokenInfo' })
        .option('so-pin-file', { type: 'string', describe: 'SO-PIN (16 hex digits) from the first line of FILE; PIV: the NEW PUK (6–8 characters); MyEID: the NEW PUK (4–8); default: prompt' })
        .option('pin-file', { type: 'string', describe: 'new user PIN (6–16 characters; PIV 6–8, MyEID 4–8) from the first line of FILE; default: prompt twice' })
        .option('retries', { type: 'number', default: 3, describe: 'user PIN tries before it blocks (1–15)' })
        .option('allow-last-pin-try', { type: 'boolean', default: false, describe: 'spend the last SO-PIN try without the typed confirmation' })
        .option('dkek-shares', { type: 'number', describe: 'number of DKEK shares for key backup (see docs/key-custody.md); default: none' })
        .option('current-so-pin-file', { type: 'string', describe: 'MyEID: the SO PIN now on the card (pkcs15+onepin: its user PIN), to erase a personalised card; default: prompt' })
        .option('yes', { type: 'boolean', default: false, describe: 'MyEID: erase a personalised card without the typed confirmation (scripts)' })
        .example('$0 card init --label "Root CA 2026" --reader "Virtual PCD 2 00 00"', 'prompts for the SO-PIN and the new user PIN') as never,
    handler: async (args) => (await import('./init-run.js')).runCardInit(ctx, args),
  };
}
