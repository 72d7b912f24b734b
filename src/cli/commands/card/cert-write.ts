import type { CommandModule } from 'yargs';
import { withCardSelection, withPinFile } from './card-options.js';
import type { CliContext } from '../../context.js';
import type { CertWriteArgs } from './cert-write-run.js';

/**
 * `ca card cert write`: store a certificate next to a key on the card (`CE xx` on a
 * SmartCard-HSM). The driver checks that the certificate holds the key's public key before it
 * touches the card and never removes the only copy of the public key, so the command is also
 * the way to finish a write-back that an interrupted ceremony left behind.
 */
export function cardCertWriteCommand(ctx: CliContext): CommandModule<object, CertWriteArgs> {
  return {
    command: 'write <file>',
    describe: 'store the certificate of --key-id on the card (checked against the key first)',
    builder: (y) =>
      withPinFile(withCardSelection(y))
        .positional('file', { type: 'string', describe: 'the certificate, DER or PEM' })
        .option('key-id', { type: 'string', demandOption: true, describe: 'key iD (hex) or label, as `ca card list` shows it' })
        .example('$0 card cert write --card DECM0102330 --key-id 4F1A… root.crt', 'finish an interrupted certificate write-back') as never,
    handler: async (args) => (await import('./cert-write-run.js')).runCardCertWrite(ctx, args),
  };
}
