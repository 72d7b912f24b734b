import type { CommandModule } from 'yargs';
import { CliError, usageError } from '../../cli-error.js';
import type { CardGlobalArgs } from '../../card-context.js';
import { eprintln, println, type CliContext } from '../../context.js';
import { promptLine } from '../../pin-input.js';
import { withCardSelection, withPinFile } from './card-options.js';
import { withVerifiedCard } from './with-verified-card.js';

interface DeleteKeyArgs extends CardGlobalArgs {
  slot: number;
  yes: boolean;
  'pin-file'?: string;
  'allow-last-pin-try': boolean;
}

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
    handler: async (args) => {
      if (!Number.isInteger(args.slot) || args.slot < 1 || args.slot > 255) throw usageError('--slot must be 1..255');
      await withVerifiedCard(ctx, args, async (s) => {
        const entry = (await s.inventory()).find((k) => k.keyRef === args.slot);
        if (!entry) {
          throw new CliError('KEY_NOT_FOUND', `card ${s.info.serial} has no key in slot ${args.slot}`, { hint: 'List the slots with `ca card list`.' });
        }
        const what = entry.state === 'incomplete' ? `incomplete key in slot ${args.slot}` : `key "${entry.label}" (${entry.type}, id ${entry.id}) in slot ${args.slot}`;
        eprintln(ctx, `card ${s.info.serial}: about to delete the ${what}. This cannot be undone.`);
        if (!args.yes) {
          const phrase = `delete slot ${args.slot}`;
          const typed = ctx.stdin.isTTY ? await promptLine(ctx, `Type "${phrase}" to continue: `) : '';
          if (typed.trim() !== phrase) {
            throw new CliError('USAGE_CONFIRMATION_REQUIRED', `deleting slot ${args.slot} needs the typed confirmation`, {
              hint: `Run it in a terminal and type "${phrase}", or pass --yes in a script.`,
            });
          }
        }
        await s.deleteKeySlot(args.slot);
        println(ctx, `deleted the ${what} on card ${s.info.serial}`);
      });
    },
  };
}
