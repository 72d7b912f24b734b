import type { CommandModule } from 'yargs';
import { pemEncode } from '../../../ca/chain.js';
import { CardError } from '../../../card/errors.js';
import { writeFileAtomic } from '../../../common/atomic-write.js';
import { toHex } from '../../../common/hex.js';
import { sha256 } from '../../../ca/issuance.js';
import { cardSelector, withCardService, type CardGlobalArgs } from '../../card-context.js';
import { eprintln, type CliContext } from '../../context.js';
import { withCardSelection } from './card-options.js';

interface CertReadArgs extends CardGlobalArgs {
  'key-id': string;
  out?: string;
  der: boolean;
}

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
    handler: async (args) =>
      withCardService(ctx, args, async (service) => {
        const s = await service.open(cardSelector(args));
        try {
          const want = args['key-id'].replace(/[\s:]/g, '').toUpperCase();
          const keys = await s.listKeys();
          const k = keys.find((x) => x.id === want) ?? keys.find((x) => x.label === args['key-id']);
          if (!k) throw new CardError('KEY_NOT_FOUND', `no key with id or label "${args['key-id']}" on card ${s.info.serial}`, { hint: 'List the keys with `ca card list`.' });
          if (!k.certificate) {
            throw new CardError('CARD_NO_CERTIFICATE', `key ${k.id} ("${k.label}") on card ${s.info.serial} has no certificate`, {
              hint: 'Finish its enrolment with `ca enroll --resume`, or store one with `ca card cert write`.',
            });
          }
          if (args.out) {
            await writeFileAtomic(args.out, args.der ? k.certificate : pemEncode(k.certificate, 'CERTIFICATE'), { mkdirs: true });
            eprintln(ctx, `wrote ${args.out} (SHA-256 ${toHex(sha256(k.certificate))})`);
          } else {
            if (args.der) throw new CardError('USAGE_DER_NEEDS_OUT', '--der needs --out FILE');
            ctx.stdout.write(pemEncode(k.certificate, 'CERTIFICATE'));
          }
        } finally {
          await s.close();
        }
      }),
  };
}
