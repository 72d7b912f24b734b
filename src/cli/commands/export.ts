import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { pemEncode } from '../../ca/chain.js';
import { CaError } from '../../ca/errors.js';
import type { CaStore } from '../../ca/store.js';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { withCa, withHome, type HomeArgs } from '../ca-context.js';
import { usageError } from '../cli-error.js';
import { println, type CliContext } from '../context.js';

interface ExportArgs extends HomeArgs {
  issuer?: string;
  all?: boolean;
  format: string;
  out: string;
}

/** The CA's certificate and its parents up to the root, leaf-most first. */
export function chainOf(store: CaStore, name: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  let ca = store.getCa(name);
  if (!ca) throw new CaError('UNKNOWN_ISSUER', `no CA named ${name}`, { hint: 'See `ca list`.' });
  for (let depth = 0; ca && depth < 16; depth++) {
    if (!ca.certificate) throw new CaError('CA_NOT_READY', `CA ${ca.name} has no certificate yet`);
    out.push(ca.certificate);
    ca = ca.parentName ? store.getCa(ca.parentName) : undefined;
  }
  return out;
}

/** The latest issued CRL of each named CA. */
export function latestCrls(store: CaStore, names: readonly string[]): Uint8Array[] {
  return names.map((n) => {
    const l = store.latestCrl(n, 'issued');
    if (!l?.der) throw new CaError('CRL_NOT_FOUND', `CA ${n} has no CRL yet`, { hint: `Run \`ca crl --issuer ${n}\`.` });
    return l.der;
  });
}

function exportSub(ctx: CliContext, what: 'chain' | 'crl'): CommandModule<object, ExportArgs> {
  return {
    command: what,
    describe: what === 'chain' ? 'Export a CA certificate chain (CA first, root last)' : 'Export the latest CRL(s)',
    builder: (y) => {
      let b = withHome(y)
        .option('issuer', { type: 'string', describe: 'CA name' })
        .option('format', { type: 'string', choices: ['pem'], default: 'pem', describe: 'output format' })
        .option('out', { type: 'string', demandOption: true, describe: 'output file' });
      if (what === 'crl') b = b.option('all', { type: 'boolean', default: false, describe: 'every CA that has a CRL' });
      return b as never;
    },
    handler: async (args) =>
      withCa(ctx, args, { command: `export ${what}`, write: false }, async (ca) => {
        let pem: string;
        if (what === 'chain') {
          if (!args.issuer) throw usageError('--issuer is required');
          pem = chainOf(ca.store, args.issuer).map((d) => pemEncode(d, 'CERTIFICATE')).join('');
        } else {
          if (!args.issuer && !args.all) throw usageError('give --issuer NAME or --all');
          const names = args.all ? ca.store.listCas().filter((c) => ca.store.latestCrl(c.name, 'issued')).map((c) => c.name) : [args.issuer!];
          pem = latestCrls(ca.store, names).map((d) => pemEncode(d, 'X509 CRL')).join('');
        }
        const out = resolve(ctx.cwd, args.out);
        await writeFileAtomic(out, pem, { mkdirs: true });
        println(ctx, `wrote ${out}`);
      }),
  };
}

/** `ca export chain|crl` (PEM). */
export function exportCommand(ctx: CliContext): CommandModule<object, object> {
  return {
    command: 'export <what>',
    describe: 'Export chains and CRLs',
    builder: (y) => y.command(exportSub(ctx, 'chain')).command(exportSub(ctx, 'crl')).demandCommand(1) as never,
    handler: () => undefined,
  };
}
