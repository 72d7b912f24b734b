import type { CommandModule } from 'yargs';
import { withCardSelection } from './card-options.js';
import type { CliContext } from '../../context.js';
import type { PinArgs } from './pin-run.js';

/** `ca card pin change|unblock`: change the user PIN, or reset it with the SO-PIN. */
export function cardPinCommand(ctx: CliContext): CommandModule<object, PinArgs> {
  return {
    command: 'pin <action>',
    describe: 'Change the user PIN, or unblock it with the SO-PIN',
    builder: (y) =>
      withCardSelection(y)
        .positional('action', {
          choices: ['change', 'unblock', 'change-puk', 'change-mgmt-key'] as const,
          describe: 'change: old → new PIN; unblock: SO-PIN (PIV: PUK) → new PIN; change-puk: PIV old → new PUK; change-mgmt-key: PIV management key',
        })
        .option('mgmt-key-file', { type: 'string', describe: 'PIV: current management key (hex) from FILE (change-mgmt-key); default: prompt' })
        .option('new-mgmt-key-file', { type: 'string', describe: 'PIV: new management key (hex) from FILE (change-mgmt-key); default: prompt twice' })
        .option('pin-file', { type: 'string', describe: 'current user PIN from FILE (change)' })
        .option('new-pin-file', { type: 'string', describe: 'new user PIN from FILE; default: prompt twice' })
        .option('so-pin-file', { type: 'string', describe: 'SO-PIN (16 hex digits) from FILE (unblock); PIV: the PUK (unblock, change-puk)' })
        .option('new-puk-file', { type: 'string', describe: 'PIV: new PUK from FILE (change-puk); default: prompt twice' })
        .option('allow-last-pin-try', { type: 'boolean', default: false, describe: 'spend the last try without the typed confirmation' })
        .example('$0 card pin change --card DECM0102330', 'prompts for the current and the new PIN')
        .example('$0 card pin unblock --card DECM0102330', 'prompts for the SO-PIN and a new user PIN') as never,
    handler: async (args) => (await import('./pin-run.js')).runCardPin(ctx, args),
  };
}
