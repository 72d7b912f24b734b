import type { CommandModule } from 'yargs';
import { CA_REASONS, CRL_REASON_CODES, SUBSCRIBER_REASONS, type CrlReason } from '../../ca/crl/tbs-cert-list-input.js';
import { withConfirmClock, withHome, type ConfirmClockArgs, type HomeArgs } from '../command-options.js';
import type { CliContext } from '../context.js';

export interface RevokeArgs extends HomeArgs, ConfirmClockArgs {
  target?: string;
  card?: string;
  issuer?: string;
  reason: string;
  'compromised-at'?: string;
  date?: string;
}

/**
 * The reasons an operator can give: those of BR 4.9.1 / 7.2.2 (subscriber or CA certificates).
 * No holds, no removeFromCRL (no delta CRLs), no aACompromise.
 */
export const REVOCATION_REASONS = (Object.keys(CRL_REASON_CODES) as CrlReason[]).filter((r) => SUBSCRIBER_REASONS.includes(r) || CA_REASONS.includes(r));

/** `ca revoke SERIAL|CERT --reason R`: record a revocation; the next `ca crl` publishes it. */
export function revokeCommand(ctx: CliContext): CommandModule<object, RevokeArgs> {
  return {
    command: 'revoke [target]',
    describe: "Revoke a certificate by serial (hex, colons allowed) or certificate file, or every certificate on a user token (--card)",
    builder: (y) =>
      withConfirmClock(withHome(y))
        .positional('target', { type: 'string', describe: 'serial number in hex, or a certificate file (PEM/DER)' })
        .option('issuer', { type: 'string', describe: 'issuing CA (needed only if the serial is ambiguous)' })
        .option('reason', { type: 'string', demandOption: true, choices: REVOCATION_REASONS, describe: 'RFC 5280 §5.3.1 reason' })
        .option('compromised-at', {
          type: 'string',
          describe: 'when the key was (or may have been) compromised, ISO 8601: written as the CRL entry invalidityDate (RFC 5280 §5.3.2); the revocationDate is always now',
        })
        // Scripts written for the old flag keep working; it now means exactly --compromised-at.
        .option('date', { type: 'string', hidden: true, describe: 'deprecated alias of --compromised-at' })
        .conflicts('date', 'compromised-at')
        .option('card', { type: 'string', describe: "revoke every certificate enrolled on this user token's keys (a lost token)" })
        .example('$0 revoke --card DECM0102330007 --reason keyCompromise', 'a lost token: all its certificates') as never,
    handler: async (args) => (await import('./revoke-run.js')).runRevoke(ctx, args),
  };
}
