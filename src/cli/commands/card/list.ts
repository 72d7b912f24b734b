import type { CommandModule } from 'yargs';
import { withCardSelection } from './card-options.js';
import type { CliContext } from '../../context.js';
import type { ListArgs } from './list-run.js';

/** `ca card list`: readers, cards, serials and the keys on each card (no PIN needed). */
export function cardListCommand(ctx: CliContext): CommandModule<object, ListArgs> {
  return {
    command: 'list',
    describe: 'List readers, cards, serials and keys (label, id, algorithm, size, certificate subject)',
    builder: (y) =>
      withCardSelection(y)
        .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
        .example('$0 card list', 'show every reader and what is on the card in it')
        .example('$0 card list --card DECM0102330 --json', 'one card, as JSON') as never,
    handler: async (args) => (await import('./list-run.js')).runCardList(ctx, args),
  };
}
