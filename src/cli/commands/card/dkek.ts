import type { CommandModule } from 'yargs';
import { withCardSelection } from './card-options.js';
import type { CliContext } from '../../context.js';
import type { DkekArgs } from './dkek-run.js';

/**
 * `ca card dkek create-share|import|status`: the SmartCard-HSM DKEK shares that let a key be
 * backed up to a second card (docs/key-custody.md). Share files are sc-hsm-tool's format.
 */
export function cardDkekCommand(ctx: CliContext): CommandModule<object, DkekArgs> {
  return {
    command: 'dkek <action> [file]',
    describe: 'DKEK key-backup shares: create-share FILE, import FILE, status',
    builder: (y) =>
      withCardSelection(y)
        .positional('action', { choices: ['create-share', 'import', 'status'] as const, demandOption: true })
        .positional('file', { type: 'string', describe: 'share file (64 bytes, sc-hsm-tool format)' })
        .option('password-file', { type: 'string', describe: 'share password from the first line of FILE (automation); default: no-echo prompt' })
        .option('threshold', { type: 'number', describe: 'create-share: password split T-of-N (with --shares), as sc-hsm-tool --pwd-shares-threshold' })
        .option('shares', { type: 'number', describe: 'create-share: number of password shares N (3 or more)' })
        .option('threshold-shares', { type: 'array', string: true, describe: 'import: password share files (T of them) instead of a password' })
        .option('kdf-iterations', { type: 'number', hidden: true })
        .option('json', { type: 'boolean', default: false, describe: 'status: print {"shares":N,"missing":M,"kcv":"HEX"}' })
        .example('$0 card dkek create-share share1.pbe --card DECM0102330', 'a new share, password typed twice')
        .example('$0 card dkek import share1.pbe --card DECM0102330', 'import a share into the card')
        .example('$0 card dkek status --json --card DECM0102330', 'shares total, missing, key check value') as never,
    handler: async (args) => (await import('./dkek-run.js')).runCardDkek(ctx, args),
  };
}
