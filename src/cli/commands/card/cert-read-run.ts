import { pemEncode } from '../../../ca/chain.js';
import { CardError } from '../../../card/errors.js';
import { writeFileAtomic } from '../../../common/atomic-write.js';
import { toHex } from '../../../common/hex.js';
import { sha256 } from '../../../ca/issuance.js';
import { cardSelector, withCardService, type CardGlobalArgs } from '../../card-context.js';
import { eprintln, type CliContext } from '../../context.js';

export interface CertReadArgs extends CardGlobalArgs {
  'key-id': string;
  out?: string;
  der: boolean;
}

/** `cardCertReadCommand`'s handler (the definition is cert-read.ts). */
export async function runCardCertRead(ctx: CliContext, args: CertReadArgs): Promise<void> {
  return withCardService(ctx, args, async (service) => {
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
  });
}
