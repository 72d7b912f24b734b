import type { CommandModule } from 'yargs';
import { withCardSelection } from './card-options.js';
import type { CliContext } from '../../context.js';
import type { StatusArgs } from './status-run.js';

/** `ca card status`: PIN and SO-PIN tries left, initialised or not, firmware. Spends no PIN try. */
export function cardStatusCommand(ctx: CliContext): CommandModule<object, StatusArgs> {
  return {
    command: 'status',
    describe: 'Show PIN and SO-PIN tries left, initialisation state and firmware (spends no try)',
    builder: (y) =>
      withCardSelection(y)
        .option('json', { type: 'boolean', default: false, describe: 'machine-readable output (includes "serial")' })
        .example('$0 card status --card DECM0102330', 'tries left on that card') as never,
    handler: async (args) => (await import('./status-run.js')).runCardStatus(ctx, args),
  };
}
