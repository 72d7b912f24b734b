import type { CommandModule } from 'yargs';
import { DEFAULT_CLOCK_MAX_AHEAD_DAYS } from '../home-mode.js';
import { withHome, type HomeArgs } from '../command-options.js';
import type { CliContext } from '../context.js';

export interface InitArgs extends HomeArgs {
  profiles?: string;
  rehearsal: boolean;
  'clock-max-ahead-days': number;
}

/** `ca init`: create the CA home (database + a copy of the chosen profiles). */
export function initCommand(ctx: CliContext): CommandModule<object, InitArgs> {
  return {
    command: 'init',
    describe: 'Create a CA home: the issuance database and a copy of the profiles',
    builder: (y) =>
      withHome(y)
        .option('profiles', { type: 'string', describe: 'hierarchy and profiles to copy (default: the example profiles/)' })
        .option('rehearsal', {
          type: 'boolean',
          default: false,
          describe: 'make a REHEARSAL home: accepts emulated cards and CA_FAKE_NOW, and says REHEARSAL on every transcript, export README and status',
        })
        .option('clock-max-ahead-days', {
          type: 'number',
          default: DEFAULT_CLOCK_MAX_AHEAD_DAYS,
          describe: 'a signing command whose clock is more than this many days past the last signing event needs --confirm-clock',
        })
        .example('$0 init --rehearsal --home /tmp/rehearsal', 'a rehearsal home for emulated cards (`npm run rehearsal`)')
        .example('$0 init --home /media/ca', 'create the CA home on the ceremony stick') as never,
    handler: async (args) => (await import('./init-run.js')).runInit(ctx, args),
  };
}
