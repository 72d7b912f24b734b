import type { CommandModule } from 'yargs';
import { withConfirmClock, withHome, withSigningCard, type ConfirmClockArgs, type HomeArgs, type SigningCardArgs } from '../command-options.js';
import type { CliContext } from '../context.js';

export interface SignArgs extends HomeArgs, SigningCardArgs, ConfirmClockArgs {
  csr: string[];
  issuer: string;
  profile?: string;
  days?: number;
  'not-after'?: string;
  san?: string[];
  out?: string;
  json: boolean;
  reissue: boolean;
}

/**
 * `ca sign FILE.csr... --issuer NAME`: the issuance cycle for each CSR, one card session. This
 * module is only the command's definition (all `ca sign --help` loads); the handler, with the
 * engine, the database and the card stack behind it, is sign-run.ts, imported when it runs.
 */
export function signCommand(ctx: CliContext): CommandModule<object, SignArgs> {
  return {
    command: 'sign <csr..>',
    describe: 'Issue certificates from CSRs (content from the profile; the card signs)',
    builder: (y) =>
      withConfirmClock(withSigningCard(withHome(y)))
        .positional('csr', { type: 'string', array: true, describe: 'PKCS#10 request files (PEM or DER)' })
        .option('issuer', { type: 'string', demandOption: true, describe: 'issuing CA name' })
        .option('profile', { type: 'string', describe: "certificate profile (default: the issuer's first leaf profile)" })
        .option('days', { type: 'number', describe: 'validity in days (capped by the profile)' })
        .option('not-after', { type: 'string', describe: 'explicit notAfter (ISO 8601)' })
        .option('san', { type: 'string', array: true, describe: 'subjectAltName (dns:…, ip:…, email:…, uri:…); replaces the CSR SANs' })
        .option('out', { type: 'string', describe: 'output file (one CSR) or directory; default: next to each CSR as NAME.crt' })
        .option('json', { type: 'boolean', default: false, describe: 'print the issued certificates as JSON' })
        .option('reissue', {
          type: 'boolean',
          default: false,
          describe: 'sign again (new serial) a CSR whose earlier signing ended outcome_unknown (that serial stays on the CRL)',
        })
        .conflicts('days', 'not-after')
        .example('$0 sign web.csr --issuer servers --profile tls-server', 'issue web.crt') as never,
    handler: async (args) => (await import('./sign-run.js')).runSign(ctx, args),
  };
}
