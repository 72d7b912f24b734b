import type { CommandModule } from 'yargs';
import { withCardSelection, withPinFile } from './card-options.js';
import type { CliContext } from '../../context.js';
import type { DeleteKeyArgs } from './delete-key-run.js';

/**
 * `ca card delete-key --slot N`: remove a key slot (private key, PrKDF entry, certificate or CV
 * request, staging copy). Meant for the "incomplete key in slot N" that an interrupted key
 * generation leaves; works on any key, after a typed confirmation naming the slot. The
 * SmartCard-HSM lets the user PIN delete (DELETE FILE needs it; card-protocols.md §3.1).
 */
export function cardDeleteKeyCommand(ctx: CliContext): CommandModule<object, DeleteKeyArgs> {
  return {
    command: 'delete-key',
    describe: 'Delete the key in one slot (e.g. an incomplete key left by an interrupted keygen)',
    builder: (y) =>
      withPinFile(withCardSelection(y))
        .option('slot', { type: 'number', demandOption: true, describe: 'key slot (keyRef) as `ca card list` shows it' })
        .option('yes', { type: 'boolean', default: false, describe: 'scripted run: do not ask for the typed confirmation' })
        .example('$0 card delete-key --card DECM0102330 --slot 3', 'asks you to type "delete slot 3"') as never,
    handler: async (args) => (await import('./delete-key-run.js')).runCardDeleteKey(ctx, args),
  };
}
