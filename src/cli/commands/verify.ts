import type { CommandModule } from 'yargs';
import { withHome, type HomeArgs } from '../command-options.js';
import type { CliContext } from '../context.js';

export interface VerifyArgs extends HomeArgs {
  cert: string[];
  at?: string;
}

/** `ca verify CERT…`: the definition (what `ca verify --help` loads); the handler is verify-run.ts. */
export function verifyCommand(ctx: CliContext): CommandModule<object, VerifyArgs> {
  return {
    command: 'verify <cert..>',
    describe: "Validate certificates against the CA's chain and newest CRLs (RFC 5280 path validation by pkijs)",
    builder: (y) =>
      withHome(y)
        .positional('cert', { type: 'string', array: true, describe: 'certificate files (PEM, one or more blocks, or DER)' })
        .option('at', { type: 'string', describe: 'validate as of this time (ISO 8601); default now' })
        .example('$0 verify web.crt', 'OK, or why not (expired, revoked, CRL missing or lapsed, broken chain)')
        .epilogue('Exits 0 only if every certificate is valid. Every CA level needs a current CRL, as with `openssl verify -crl_check_all`.') as never,
    handler: async (args) => (await import('./verify-run.js')).runVerify(ctx, args),
  };
}
