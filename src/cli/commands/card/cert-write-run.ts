import { readFileSync } from 'node:fs';
import { CliError } from '../../cli-error.js';
import type { CardGlobalArgs } from '../../card-context.js';
import { println, type CliContext } from '../../context.js';
import { withVerifiedCard } from './with-verified-card.js';

export interface CertWriteArgs extends CardGlobalArgs {
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

/** `cardCertWriteCommand`'s handler (the definition is cert-write.ts). */
export async function runCardCertWrite(ctx: CliContext, args: CertWriteArgs): Promise<void> {
  const der = certificateFileBytes(args.file);
  await withVerifiedCard(ctx, args, async (s) => {
    await s.writeCertificate(args['key-id'], der);
    println(ctx, `wrote the certificate of key ${args['key-id']} to card ${s.info.serial} (${der.length} bytes, read back and verified)`);
  });
}
