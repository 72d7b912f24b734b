import { CliError, usageError } from '../../cli-error.js';
import type { CardGlobalArgs } from '../../card-context.js';
import { eprintln, println, type CliContext } from '../../context.js';
import { promptLine } from '../../pin-input.js';
import { withVerifiedCard } from './with-verified-card.js';

export interface DeleteKeyArgs extends CardGlobalArgs {
  slot: number;
  yes: boolean;
  'pin-file'?: string;
  'allow-last-pin-try': boolean;
}

/** `cardDeleteKeyCommand`'s handler (the definition is delete-key.ts). */
export async function runCardDeleteKey(ctx: CliContext, args: DeleteKeyArgs): Promise<void> {
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
}
