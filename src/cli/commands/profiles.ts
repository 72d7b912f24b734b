import type { CommandModule } from 'yargs';
import { withHome, type HomeArgs } from '../command-options.js';
import type { CliContext } from '../context.js';

export interface AcceptArgs extends HomeArgs {
  confirm?: string;
}

/**
 * `ca profiles accept`: record the profile set now in HOME/profiles as the pinned one (issue #8
 * item 6). Shows the diff against the current pin; the operator confirms by typing the first 8
 * hex digits of the new SHA-256 (at the prompt, or `--confirm HEX8` in a script). Audited.
 */
function acceptCommand(ctx: CliContext): CommandModule<object, AcceptArgs> {
  return {
    command: 'accept',
    describe: 'Pin the changed profile set in HOME/profiles (shows the diff; typed confirmation; audited)',
    builder: (y) =>
      withHome(y)
        .option('confirm', { type: 'string', describe: 'the first 8 hex digits of the new profile-set SHA-256 (scripted confirmation)' })
        .example('$0 profiles accept', 'review the diff, then type the 8 hex digits shown') as never,
    handler: async (args) => (await import('./profiles-run.js')).runProfilesAccept(ctx, args),
  };
}

/** `ca profiles accept`. */
export function profilesCommand(ctx: CliContext): CommandModule<object, object> {
  return {
    command: 'profiles <action>',
    describe: 'The pinned profile set of the CA home',
    builder: (y) => y.command(acceptCommand(ctx)).demandCommand(1) as never,
    handler: () => undefined,
  };
}
