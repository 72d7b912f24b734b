import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { CommandModule } from 'yargs';
import { wrapCardKey } from '../../../card/dkek/dkek-operations.js';
import { encodeWrapFile } from '../../../card/dkek/wrap-file.js';
import { writeFileAtomic } from '../../../common/atomic-write.js';
import { cardService } from '../../card-context.js';
import { CardSlot, withCa, withHome, withSigningCard, type HomeArgs, type SigningCardArgs } from '../../ca-context.js';
import { CliError } from '../../cli-error.js';
import { println, type CliContext } from '../../context.js';
import { cardsOf, keyRefOf, requireCa } from './key-options.js';

interface BackupArgs extends HomeArgs, SigningCardArgs {
  ca: string;
  out: string;
  json: boolean;
}

/**
 * `ca key backup --ca NAME --out FILE`: the CA key wrapped by its card under the DKEK, with its
 * PRKD and certificate, in `sc-hsm-tool --wrap-key`'s file format. Hash and KCV are audited.
 */
export function keyBackupCommand(ctx: CliContext): CommandModule<object, BackupArgs> {
  return {
    command: 'backup',
    describe: 'Back up a CA key: wrapped by its card under the DKEK (sc-hsm-tool --wrap-key format)',
    builder: (y) =>
      withSigningCard(withHome(y))
        .option('ca', { type: 'string', demandOption: true, describe: 'CA name' })
        .option('out', { type: 'string', demandOption: true, describe: 'backup file to write (never overwritten)' })
        .option('json', { type: 'boolean', default: false, describe: 'machine-readable result' })
        .example('$0 key backup --ca root --out root-key.wrap', 'prompts for the user PIN of the root card') as never,
    handler: async (args) => {
      if (existsSync(args.out)) throw new CliError('FS_EXISTS', `${args.out} exists; a key backup is never overwritten`, { hint: 'Choose a new file name.' });
      await withCa(ctx, args, { command: 'key backup', write: true }, async (cactx) => {
        const ca = requireCa(cactx.store, args.ca);
        const cards = cardsOf(cactx.store, ca);
        const serial = args.card ?? ca.cardSerial;
        if (!cards.includes(serial)) throw new CliError('CARD_WRONG', `card ${serial} does not hold the key of CA ${ca.name} (${cards.join(', ')})`);
        const service = cardService(ctx, {});
        const slot = new CardSlot(ctx, service, `card of ${ca.name}`, serial, { reader: args.reader, pinFile: args['pin-file'], allowLastPinTry: args['allow-last-pin-try'] === true });
        try {
          const session = await slot.get();
          const keyRef = await keyRefOf(session, ca);
          const wrapped = await wrapCardKey(session, keyRef);
          const bytes = encodeWrapFile(wrapped);
          const sha256 = createHash('sha256').update(bytes).digest('hex');
          await writeFileAtomic(args.out, bytes, { mode: 0o600 });
          cactx.store.audit(
            { event: 'key.backup', ca: ca.name, data: { card: serial, keyId: ca.keyId, keyRef, kcv: wrapped.kcv, file: basename(args.out), sha256, bytes: bytes.length } },
            cactx.clock.now(),
          );
          if (args.json) println(ctx, JSON.stringify({ ca: ca.name, card: serial, kcv: wrapped.kcv, sha256, file: args.out }));
          else println(ctx, `backed up the key of CA ${ca.name} from card ${serial} to ${args.out} (DKEK KCV ${wrapped.kcv}, SHA-256 ${sha256})`);
        } finally {
          await slot.release();
          await service.close();
        }
      });
    },
  };
}
