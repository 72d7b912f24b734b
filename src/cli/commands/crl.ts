import { join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { pemEncode } from '../../ca/chain.js';
import { assertClockSane } from '../../ca/issuance.js';
import { issueCrl } from '../../ca/crl-cycle.js';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { withCa, withHome, withSigningCard, type HomeArgs, type SigningCardArgs } from '../ca-context.js';
import { println, type CliContext } from '../context.js';
import { issuingCa, withIssuerSigner } from './ca-signing.js';

interface CrlArgs extends HomeArgs, SigningCardArgs {
  issuer: string;
  out?: string;
}

/** `ca crl --issuer NAME`: sign a fresh v2 CRL on the CA's card. */
export function crlCommand(ctx: CliContext): CommandModule<object, CrlArgs> {
  return {
    command: 'crl',
    describe: "Sign a fresh CRL for a CA on its card (revoked and outcome-unknown serials)",
    builder: (y) =>
      withSigningCard(withHome(y))
        .option('issuer', { type: 'string', demandOption: true, describe: 'CA whose CRL to sign' })
        .option('out', { type: 'string', describe: 'PEM output file (default HOME/crl/ISSUER.crl)' }) as never,
    handler: async (args) =>
      withCa(ctx, args, { command: `crl --issuer ${args.issuer}`, write: true }, async (ca) => {
        assertClockSane(ca.store, ca.clock.now()); // before any card or PIN
        const issuer = issuingCa(ca, args.issuer);
        const r = await withIssuerSigner(ctx, args, issuer, (signer) =>
          issueCrl({ store: ca.store, clock: ca.clock, signer, issuerName: issuer.ca.name, issuer: issuer.info }),
        );
        const out = args.out ? resolve(ctx.cwd, args.out) : join(ca.home, 'crl', `${issuer.ca.name}.crl`);
        await writeFileAtomic(out, pemEncode(r.der, 'X509 CRL'), { mkdirs: true });
        println(ctx, `CRL #${r.record.crlNumber} of ${issuer.ca.name}: ${r.record.entries} entr${r.record.entries === 1 ? 'y' : 'ies'}, next update ${r.record.nextUpdate}`);
        println(ctx, `  written to ${out}`);
      }),
  };
}
