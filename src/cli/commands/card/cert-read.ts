import type { CommandModule } from 'yargs';
import { withCardSelection } from './card-options.js';
import type { CliContext } from '../../context.js';
import type { CertReadArgs } from './cert-read-run.js';

/**
 * `ca card cert read`: the certificate stored next to a key, from any card family (the driver's
 * key listing). Needs no PIN: certificates are public objects (PKCS#15 §6.5; SmartCard-HSM
 * CExx files are readable without login, as `pkcs15-tool --read-certificate` shows).
 */
export function cardCertReadCommand(ctx: CliContext): CommandModule<object, CertReadArgs> {
  return {
    command: 'read',
    describe: 'Print (or write) the certificate stored for a key on the card',
    builder: (y) =>
      withCardSelection(y)
        .option('key-id', { type: 'string', demandOption: true, describe: 'key id (hex) or label' })
        .option('out', { type: 'string', describe: 'write to FILE instead of standard output' })
        .option('der', { type: 'boolean', default: false, describe: 'DER instead of PEM (with --out)' })
        .example('$0 card cert read --card DECM0102330007 --key-id 3F1A…', 'PEM on standard output') as never,
    handler: async (args) => (await import('./cert-read-run.js')).runCardCertRead(ctx, args),
  };
}
