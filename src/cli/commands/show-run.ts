import type { ShowArgs } from './show.js';
import { pemEncode } from '../../ca/chain.js';
import { CaError } from '../../ca/errors.js';
import { toHex } from '../../common/hex.js';
import { withCa } from '../ca-context.js';
import { println, type CliContext } from '../context.js';
import { usageError } from '../cli-error.js';
import { certJson } from './list-run.js';
import { sha256 } from '../../common/sha256.js';

/** The handler of `ca show` (show.ts holds its definition): loaded only when the command runs, not for `ca show --help`. */
export async function runShow(ctx: CliContext, args: ShowArgs): Promise<void> {
  await withCa(ctx, args, { command: 'show', write: false }, async (ca) => {
    const found = ca.store.getCertificate(args.serial, args.issuer);
    if (found.length === 0) throw new CaError('CERT_NOT_FOUND', `no certificate with serial ${args.serial}`, { hint: 'See `ca list`.' });
    // Not yargs .conflicts(): with boolean defaults it treats the unset --json as given.
    if (args.text && args.json) throw usageError('--text and --json are mutually exclusive');
    if (args.text) {
      // Loaded here only: no other command (nor `ca show` without --text) pays for @peculiar/x509.
      const { certificateText } = await import('../../ca/text/certificate-text.js');
      for (const c of found) {
        if (!c.der) throw new CaError('CERT_NO_DER', `serial ${c.serialHex} of ${c.issuerName} has no certificate (status ${c.status})`, { hint: 'Only issued or revoked serials have a certificate to print.' });
        ctx.stdout.write(certificateText(c.der));
      }
      return;
    }
    for (const c of found) {
      const sha = c.der ? toHex(sha256(c.der)) : null;
      if (args.json) {
        println(ctx, JSON.stringify({ ...certJson(c), sha256: sha, pem: c.der ? pemEncode(c.der, 'CERTIFICATE') : null }, null, 2));
        continue;
      }
      for (const [k, v] of Object.entries(certJson(c))) println(ctx, `${k.padEnd(11)} ${v === null ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
      println(ctx, `${'sha256'.padEnd(11)} ${sha ?? '-'}`);
      if (args.pem && c.der) println(ctx, pemEncode(c.der, 'CERTIFICATE').trimEnd());
    }
  });
}
