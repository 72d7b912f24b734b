import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { markRehearsalExport } from '../rehearsal-marks.js';
import { pemEncode } from '../../ca/chain.js';
import { CaError } from '../../ca/errors.js';
import { assertNoPrivateDataInFiles, exportCertificate, ExportError, needsAllCrls, renderChainExport, type CertFormat, type ChainExportFormat, type ExportFile } from '../../ca/export/index.js';
import type { CaStore, CertificateRecord, CrlRecord } from '../../ca/store.js';
import { writeFileAtomic, writeFilesAtomically } from '../../common/atomic-write.js';
import { withCa } from '../ca-context.js';
import { usageError } from '../cli-error.js';
import { eprintln, println, type CliContext } from '../context.js';
import { externalChainOf, type ChainStore } from '../external-chain.js';
import type { ExportArgs } from './export.js';

/** The CA's certificate and its parents up to the root, leaf-most first (with `home`: and an external root's chain). */
export function chainOf(store: ChainStore, name: string, home?: string): Uint8Array[] {
  return chainRecords(store, name, home).map((c) => c.der);
}

/** Names and DER of the CA's chain, issuing CA first, root last (RFC 5246 §7.4.2 order). */
export function chainRecords(store: ChainStore, name: string, home?: string): { name: string; der: Uint8Array }[] {
  const out: { name: string; der: Uint8Array }[] = [];
  let ca = store.getCa(name);
  if (!ca) throw new CaError('UNKNOWN_ISSUER', `no CA named ${name}`, { hint: 'See `ca status` for the CAs of this home.' });
  for (let depth = 0; ca && depth < 16; depth++) {
    if (!ca.certificate) {
      throw new CaError('CA_NOT_READY', `CA ${ca.name} has no certificate yet`, { hint: `Finish the ${ca.name} ceremony first (see \`ca audit log\`).` });
    }
    out.push({ name: ca.name, der: ca.certificate });
    // A sub-CA under someone else's root: its chain goes on through the external CAs
    // (issue #11), which have no CRL here: named `external-N` (file-safe: der export names a file per certificate).
    if (!ca.parentName && home !== undefined) {
      out.push(...externalChainOf(store, home, ca.name).map((der, i) => ({ name: `external-${i + 1}`, der })));
    }
    ca = ca.parentName ? store.getCa(ca.parentName) : undefined;
  }
  return out;
}

/** The one certificate with this serial (`CERT_NOT_FOUND`; several CAs: a usage error asking for --issuer). */
export function oneCertificate(store: CaStore, serial: string, issuer: string | undefined): CertificateRecord {
  const found = store.getCertificate(serial, issuer);
  if (found.length === 0) {
    throw new CaError('CERT_NOT_FOUND', `no certificate with serial ${serial}${issuer ? ` from ${issuer}` : ''}`, { hint: 'See `ca list` for serials.' });
  }
  if (found.length > 1) {
    throw usageError(`serial ${serial} exists for several CAs (${found.map((c) => c.issuerName).join(', ')})`, 'Add --issuer NAME.');
  }
  return found[0]!;
}

/** The latest issued CRL of each named CA (`CRL_NOT_FOUND` naming the command to run). */
export function latestCrls(store: CaStore, names: readonly string[]): Uint8Array[] {
  return latestCrlRecords(store, names).map((r) => r.der!);
}

export function latestCrlRecords(store: CaStore, names: readonly string[]): CrlRecord[] {
  return names.map((n) => {
    const l = store.latestCrl(n, 'issued');
    if (!l?.der) throw new CaError('CRL_NOT_FOUND', `CA ${n} has no CRL yet`, { hint: `Run \`ca crl --issuer ${n}\`, then export again.` });
    return l;
  });
}

/**
 * The latest CRL of every CA level for a concentrator format (OpenVPN `crl-verify` and
 * strongSwan `revocation = strict` check every level): `EXPORT_CRL_MISSING` when a level has
 * none, `EXPORT_CRL_EXPIRED` when one is past its nextUpdate (RFC 5280 §5.1.2.5), each naming
 * the `ca crl` command to run.
 */
export function concentratorCrls(store: CaStore, names: readonly string[], now: Date): Uint8Array[] {
  const missing = names.filter((n) => !store.latestCrl(n, 'issued')?.der);
  if (missing.length > 0) {
    throw new ExportError('EXPORT_CRL_MISSING', `no CRL for CA level(s): ${missing.join(', ')}`, {
      hint: `Sign one first: ${missing.map((n) => `\`ca crl --issuer ${n}\``).join(', ')}; then export again (the VPN checks every CA level).`,
      details: { missing },
    });
  }
  const recs = names.map((n) => store.latestCrl(n, 'issued')!);
  const expired = recs.filter((r) => new Date(r.nextUpdate).getTime() <= now.getTime());
  if (expired.length > 0) {
    throw new ExportError('EXPORT_CRL_EXPIRED', `expired CRL(s): ${expired.map((r) => `${r.issuerName} #${r.crlNumber} (next update ${r.nextUpdate})`).join(', ')}`, {
      hint: `Sign fresh ones: ${expired.map((r) => `\`ca crl --issuer ${r.issuerName}\``).join(', ')}; then export again (relying parties refuse an expired CRL).`,
      details: { expired: expired.map((r) => r.issuerName) },
    });
  }
  return recs.map((r) => r.der!);
}

/** A directory target: `--out` given with a trailing slash, or naming an existing directory. */
function isDirTarget(ctx: CliContext, out: string | undefined): boolean {
  if (out === undefined) return false;
  if (out.endsWith('/')) return true;
  const p = resolve(ctx.cwd, out);
  return existsSync(p) && statSync(p).isDirectory();
}

/**
 * Writes the rendered files. One file and `--out FILE`: exactly that path. Otherwise a
 * directory: `--out DIR` or `defaultDir` under the working directory.
 */
async function writeExport(ctx: CliContext, files: readonly ExportFile[], out: string | undefined, defaultDir: string): Promise<string[]> {
  if (files.length === 1 && out !== undefined && !isDirTarget(ctx, out)) {
    const target = resolve(ctx.cwd, out);
    await writeFileAtomic(target, files[0]!.bytes, { mode: files[0]!.mode, mkdirs: true });
    return [target];
  }
  const dir = resolve(ctx.cwd, out ?? (files.length === 1 ? '.' : defaultDir));
  return writeFilesAtomically(dir, files);
}

function report(ctx: CliContext, paths: readonly string[]): void {
  if (paths.length === 1) {
    println(ctx, `wrote ${paths[0]}`);
    return;
  }
  const dirs = new Set(paths.map((p) => dirname(p)));
  println(ctx, `wrote ${paths.length} files${dirs.size === 1 ? ` into ${[...dirs][0]}` : ''}:`);
  for (const p of paths) println(ctx, `  ${p}`);
}

// `ca export`'s handlers; the definitions are export.ts, what `--help` loads.

export async function runChain(ctx: CliContext, args: ExportArgs): Promise<void> {
  await withCa(ctx, args, { command: `export chain --issuer ${args.issuer}`, write: false }, async (ca) => {
    const format = args.format as ChainExportFormat;
    // Concentrator formats need every level's CRL; an external CA's CRL is not ours to give,
    // so they stop at the top CA of this home (the external root is still the trust anchor
    // the operator installs from the external CA). The plain formats carry the whole chain.
    const chain = chainRecords(ca.store, args.issuer!, needsAllCrls(format) ? undefined : ca.home);
    const names = chain.map((c) => c.name);
    const needsCrls = needsAllCrls(format);
    const crls = needsCrls ? concentratorCrls(ca.store, names, ca.clock.now()) : [];
    const rendered = renderChainExport({ chain: chain.map((c) => c.der), crls, names }, format);
    const files = ca.mode.rehearsal ? markRehearsalExport(rendered) : rendered;
    const paths = await writeExport(ctx, files, args.out, needsCrls ? `${args.issuer}-${format}` : `${args.issuer}-chain`);
    report(ctx, paths);
  });
}

export async function runCert(ctx: CliContext, args: ExportArgs): Promise<void> {
  await withCa(ctx, args, { command: `export cert ${args.serial}`, write: false }, async (ca) => {
    const c = oneCertificate(ca.store, String(args.serial), args.issuer);
    if (!c.der) {
      throw new CaError('CERT_NOT_ISSUED', `certificate ${c.serialHex} is ${c.status}: there is no signed certificate to export`, { hint: 'Only issued or revoked certificates have a DER to export; see `ca show`.' });
    }
    if (c.status === 'revoked') eprintln(ctx, `warning: certificate ${c.serialHex} is revoked (${c.revocation?.reason ?? 'unspecified'})`);
    const files = exportCertificate(
      { cert: c.der, name: `${c.issuerName}-${c.serialHex}`, ...(args.chain ? { chain: chainOf(ca.store, c.issuerName, ca.home) } : {}) },
      args.format as CertFormat,
    );
    report(ctx, await writeExport(ctx, files, args.out, `${c.issuerName}-${c.serialHex}`));
  });
}

export async function runCrlExport(ctx: CliContext, args: ExportArgs): Promise<void> {
  await withCa(ctx, args, { command: 'export crl', write: false }, async (ca) => {
    if (!args.issuer && !args.all) throw usageError('give --issuer NAME or --all', 'Example: `ca export crl --issuer servers --format pem --out servers.crl.pem`.');
    const names = args.all ? ca.store.listCas().filter((c) => ca.store.latestCrl(c.name, 'issued')).map((c) => c.name) : [args.issuer!];
    if (args.all && names.length === 0) throw new CaError('CRL_NOT_FOUND', 'no CA has a CRL yet', { hint: 'Run `ca crl --issuer NAME` for each CA.' });
    if (!args.all && !ca.store.getCa(args.issuer!)) throw new CaError('UNKNOWN_ISSUER', `no CA named ${args.issuer}`, { hint: 'See `ca status` for the CAs of this home.' });
    const recs = latestCrlRecords(ca.store, names);
    const now = ca.clock.now();
    for (const r of recs) {
      if (new Date(r.nextUpdate).getTime() <= now.getTime()) {
        eprintln(ctx, `warning: the CRL of ${r.issuerName} (#${r.crlNumber}) expired at ${r.nextUpdate}; run \`ca crl --issuer ${r.issuerName}\``);
      }
    }
    let files: ExportFile[];
    if (args.format === 'der') {
      files = recs.map((r) => ({ path: `${r.issuerName}.crl`, bytes: r.der!, mode: 0o644 }));
    } else {
      const pem = recs.map((r) => pemEncode(r.der!, 'X509 CRL')).join('');
      files = [{ path: args.all ? 'crls.pem' : `${args.issuer}.crl.pem`, bytes: Buffer.from(pem, 'utf8'), mode: 0o644 }];
    }
    assertNoPrivateDataInFiles(files);
    report(ctx, await writeExport(ctx, files, args.out, 'crls'));
  });
}
