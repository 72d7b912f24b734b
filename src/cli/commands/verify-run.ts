import type { VerifyArgs } from './verify.js';
import { readFileSync } from 'node:fs';
import { CaError } from '../../ca/errors.js';
import { pemDecodeAll } from '../../ca/chain.js';
import { withCa } from '../ca-context.js';
import { usageError } from '../cli-error.js';
import { println, type CliContext } from '../context.js';

/**
 * `ca verify CERT… [--at DATE]`: judge certificates with a second implementation (pkijs'
 * RFC 5280 path validation, CRLs of every level) against this CA's stored chain and newest CRLs.
 * Thin handler: the judging is src/ca/judge/pkijs-path-validation.ts, imported here lazily so
 * no other command pays for loading pkijs.
 *
 * The handler of `ca verify` (verify.ts holds its definition): loaded only when the command runs, not for `ca verify --help`.
 */
export async function runVerify(ctx: CliContext, args: VerifyArgs): Promise<void> {
  await withCa(ctx, args, { command: 'verify', write: false }, async (ca) => {
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
  });
}
