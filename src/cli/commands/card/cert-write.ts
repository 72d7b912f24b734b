import { readFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { CliError } from '../../cli-error.js';
import type { CardGlobalArgs } from '../../card-context.js';
import { println, type CliContext } from '../../context.js';
import { withCardSelection, withPinFile } from './card-options.js';
import { withVerifiedCard } from './with-verified-card.js';

interface CertWriteArgs extends CardGlobalArgs {
  'key-id': string;
  file: string;
  'pin-file'?: string;
  'allow-last-pin-try': boolean;
}

/** DER bytes of a certificate file in DER or PEM (RFC 7468 §5) form. */
export function certificateFileBytes(file: string): Uint8Array {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (e) {
    throw new CliError('CERT_FILE_UNREADABLE', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { hint: 'Check the path.' });
  }
  const text = raw.toString('latin1');
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(text);
  return m ? new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')) : new Uint8Array(raw);
}

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
    handler: async (args) =>
    {
      const der = certificateFileBytes(args.file);
      await withVerifiedCard(ctx, args, async (s) => {
        await s.writeCertificate(args['key-id'], der);
        println(ctx, `wrote the certificate of key ${args['key-id']} to card ${s.info.serial} (${der.length} bytes, read back and verified)`);
      });
    },
  };
}
