import type { CommandModule } from 'yargs';
import { withHome, withSigningCard, withCustodyTranscriptOptions } from '../../command-options.js';
import type { CliContext } from '../../context.js';
import type { BackupArgs } from './backup-run.js';

/**
 * `ca key backup --ca NAME --out FILE`: the CA key wrapped by its card under the DKEK, with its
 * PRKD and certificate, in `sc-hsm-tool --wrap-key`'s file format. Hash and KCV are audited.
 */
export function keyBackupCommand(ctx: CliContext): CommandModule<object, BackupArgs> {
  return {
    command: 'backup',
    describe: 'Back up a CA key: wrapped by its card under the DKEK (sc-hsm-tool --wrap-key format)',
    builder: (y) =>
      withCustodyTranscriptOptions(withSigningCard(withHome(y)))
        .option('ca', { type: 'string', demandOption: true, describe: 'CA name' })
        .option('out', { type: 'string', demandOption: true, describe: 'backup file to write (never overwritten)' })
        .option('json', { type: 'boolean', default: false, describe: 'machine-readable result' })
        .example('$0 key backup --ca root --out root-key.wrap', 'prompts for the user PIN of the root card')
        .example('$0 key backup --ca root --out root-key.wrap --custodian "C. One" --custodian "D. Two" --witness "E. Three"', 'with the custodians named in the transcript')
        .epilogue('Also writes a "key-backup" ceremony transcript (Markdown + HTML) into HOME/ceremonies/ and its SHA-256 into the audit log.') as never,
    handler: async (args) => (await import('./backup-run.js')).runKeyBackup(ctx, args),
  };
}
