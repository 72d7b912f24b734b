import type { CommandModule } from 'yargs';
import { withHome, withSigningCard, withCustodyTranscriptOptions } from '../../command-options.js';
import type { CliContext } from '../../context.js';
import type { RestoreArgs } from './restore-run.js';

/**
 * `ca key restore FILE --card SERIAL [--key-ref N]`: KCV checked before anything is written,
 * UNWRAP, PRKD and certificate written, a test signature verified against the CA's recorded
 * public key, then the card is bound to the CA as a further card.
 */
export function keyRestoreCommand(ctx: CliContext): CommandModule<object, RestoreArgs> {
  return {
    command: 'restore <file>',
    describe: 'Restore a CA key backup onto a card with the same DKEK; bind the card to the CA',
    builder: (y) =>
      withCustodyTranscriptOptions(withSigningCard(withHome(y)))
        .positional('file', { type: 'string', demandOption: true, describe: 'backup file (ca key backup / sc-hsm-tool --wrap-key)' })
        .option('key-ref', { type: 'number', describe: 'key slot on the target card (default: the first free one)' })
        .option('ca', { type: 'string', describe: 'CA the backup belongs to (default: found from the certificate in the file)' })
        .option('json', { type: 'boolean', default: false, describe: 'machine-readable result' })
        .example('$0 key restore root-key.wrap --card DECM0102331', 'after the root card was lost')
        .epilogue('Also writes a "key-restore" ceremony transcript (Markdown + HTML) into HOME/ceremonies/ and its SHA-256 into the audit log.') as never,
    handler: async (args) => (await import('./restore-run.js')).runKeyRestore(ctx, args),
  };
}
