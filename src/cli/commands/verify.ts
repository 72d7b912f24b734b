import { readFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { CaError } from '../../ca/errors.js';
import { pemDecodeAll } from '../../ca/chain.js';
import { withCa, withHome, type HomeArgs } from '../ca-context.js';
import { usageError } from '../cli-error.js';
import { println, type CliContext } from '../context.js';

interface VerifyArgs extends HomeArgs {
  cert: string[];
  at?: string;
}

/**
 * `ca verify CERT… [--at DATE]`: judge certificates with a second implementation (pkijs'
 * RFC 5280 path validation, CRLs of every level) against this CA's stored chain and newest CRLs.
 * Thin handler: the judging is src/ca/judge/pkijs-path-validation.ts, imported here lazily so
 * no other command pays for loading pkijs.
 */
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
    handler: async (args) =>
      withCa(ctx, args, { command: 'verify', write: false }, async (ca) => {
        const at = args.at !== undefined ? new Date(args.at) : ca.clock.now();
        if (Number.isNaN(at.getTime())) throw usageError(`--at ${args.at} is not a date`, 'Use ISO 8601, e.g. 2027-01-31T12:00:00Z.');
        const cas = ca.store.listCas().filter((c) => c.certificate);
        const trusted = cas.filter((c) => c.parentName === undefined).map((c) => c.certificate!);
        const intermediates = cas.filter((c) => c.parentName !== undefined).map((c) => c.certificate!);
        const crls = cas.flatMap((c) => ca.store.latestCrl(c.name, 'issued')?.der ?? []);
        if (trusted.length === 0) throw new CaError('CA_NOT_READY', 'this CA home has no root certificate yet', { hint: 'Run `ca ceremony root` first.' });
        const { validatePath } = await import('../../ca/judge/pkijs-path-validation.js');
        let failed = 0;
        let total = 0;
        for (const file of args.cert) {
          let bytes: Buffer;
          try {
            bytes = readFileSync(file);
          } catch (e) {
            throw usageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
          }
          const ders = bytes.includes('-----BEGIN') ? pemDecodeAll(bytes.toString('latin1'), 'CERTIFICATE') : [new Uint8Array(bytes)];
          if (ders.length === 0) throw usageError(`${file} holds no certificate`);
          for (const [i, der] of ders.entries()) {
            total++;
            const name = ders.length > 1 ? `${file}[${i}]` : file;
            const r = await validatePath({ target: der, trusted, intermediates, crls, at });
            if (r.ok) println(ctx, `${name}: OK (${r.path.join(' ← ')})`);
            else {
              failed++;
              println(ctx, `${name}: FAILED: ${r.message}`);
            }
          }
        }
        if (failed > 0) {
          throw new CaError('VERIFY_FAILED', `${failed} of ${total} certificate(s) failed validation at ${at.toISOString()}`, {
            hint: 'See the reason printed for each; a revoked or expired certificate must be replaced, a lapsed CRL re-signed with `ca crl`.',
          });
        }
      }),
  };
}
