import type { CommandModule } from 'yargs';
import { withHome, withSigningCard, withCustodyTranscriptOptions } from '../../command-options.js';
import type { CliContext } from '../../context.js';
import type { DrillArgs } from './drill-run.js';

/**
 * `ca key drill --ca NAME --card BACKUP`: the yearly restore exercise. The backup card signs a
 * random challenge, verified under the CA public key and audited; nothing is issued.
 */
export function keyDrillCommand(ctx: CliContext): CommandModule<object, DrillArgs> {
  return {
    command: 'drill',
    describe: 'Prove a backup card can sign for a CA (random challenge, verified, audited; issues nothing)',
    builder: (y) =>
      withCustodyTranscriptOptions(withSigningCard(withHome(y)))
        .option('ca', { type: 'string', demandOption: true, describe: 'CA name' })
        .option('json', { type: 'boolean', default: false, describe: 'machine-readable result' })
        .example('$0 key drill --ca root --card DECM0102331', 'the yearly exercise auditors ask for')
        .epilogue('Also writes a "key-drill" ceremony transcript (Markdown + HTML) into HOME/ceremonies/ and its SHA-256 into the audit log.') as never,
    handler: async (args) => (await import('./drill-run.js')).runKeyDrill(ctx, args),
  };
}
