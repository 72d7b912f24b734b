import type { CommandModule } from 'yargs';
import { withConfirmClock, withHome, withSigningCard, withTranscriptOptions, type ConfirmClockArgs, type HomeArgs, type SigningCardArgs, type TranscriptArgs } from '../command-options.js';
import type { CliContext } from '../context.js';

export interface CrlArgs extends HomeArgs, SigningCardArgs, TranscriptArgs, ConfirmClockArgs {
  issuer: string;
  out?: string;
  due?: boolean;
  'crl-number-above-checkpoint'?: boolean;
}

/** `ca crl --issuer NAME`: sign a fresh v2 CRL on the CA's card, with a "crl" ceremony transcript. */
export function crlCommand(ctx: CliContext): CommandModule<object, CrlArgs> {
  return {
    command: 'crl',
    describe: "Sign a fresh CRL for a CA on its card (revoked and outcome-unknown serials)",
    builder: (y) =>
      withConfirmClock(withTranscriptOptions(withSigningCard(withHome(y))))
        .option('issuer', { type: 'string', describe: 'CA whose CRL to sign' })
        .option('due', { type: 'boolean', describe: "sign every CRL inside its profile's overlap window (or expired), card by card, one transcript" })
        .conflicts('due', ['issuer', 'out'])
        .example('$0 crl --due', 'the routine sitting: every due CRL, asking for each card in turn')
        .option('out', { type: 'string', describe: 'PEM output file (default HOME/crl/ISSUER.crl)' })
        .option('crl-number-above-checkpoint', {
          type: 'boolean',
          describe:
            "after a database rollback (CHECKPOINT_CRL_NUMBER_BEHIND): sign the next CRL with a number above the highest any checkpoint records (audited); without it such a CRL is refused",
        })
        .example('$0 crl --issuer servers', "sign servers' next CRL with its card (PIN prompt)")
        .example('$0 crl --issuer root --operator "A. Admin" --witness "B. Witness"', 'root CRL in an offline ceremony, names in the transcript')
        .epilogue('Also writes a "crl" ceremony transcript (Markdown + HTML) into HOME/ceremonies/ and its SHA-256 into the audit log.') as never,
    handler: async (args) => (await import('./crl-run.js')).runCrl(ctx, args),
  };
}
