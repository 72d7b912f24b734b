import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { markRehearsalExport } from '../rehearsal-marks.js';
import { pemEncode } from '../../ca/chain.js';
import { CaError } from '../../ca/errors.js';
import {
  assertNoPrivateDataInFiles,
  CHAIN_EXPORT_FORMATS,
  exportCertificate,
  ExportError,
  needsAllCrls,
  renderChainExport,
  type CertFormat,
  type ChainExportFormat,
  type ExportFile,
} from '../../ca/export/index.js';
import type { CaStore, CertificateRecord, CrlRecord } from '../../ca/store.js';
import { writeFileAtomic, writeFilesAtomically } from '../../common/atomic-write.js';
import { withCa, withHome, type HomeArgs } from '../ca-context.js';
import { usageError } from '../cli-error.js';
import { eprintln, println, type CliContext } from '../context.js';
import { openvpnClientCommand } from './export-openvpn-client.js';
import { externalChainOf, type ChainStore } from '../external-chain.js';

/**
 * `ca export chain|cert|crl`: public artefacts for relying parties, rendered by the pure
 * renderers of src/ca/export and written atomically (each file: temp, fsync, rename).
 * Single-file results go to `--out FILE` (or into `--out DIR/`); multi-file formats (DER chains,
 * OpenVPN, strongSwan, DER CRLs of several CAs) always go to a directory.
 */
interface ExportArgs extends HomeArgs {
  issuer?: string;
  all?: boolean;
  format: string;
  out?: string;
  serial?: string;
  chain?: boolean;
}

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

function chainCommand(ctx: CliContext): CommandModule<object, ExportArgs> {
  return {
    command: 'chain',
    describe: 'Export the issuing chain of a CA (CA first, root last) for a consumer',
    builder: (y) =>
      withHome(y)
        .option('issuer', { type: 'string', demandOption: true, describe: 'the issuing CA (its chain up to the root is exported)' })
        .option('format', {
          type: 'string',
          choices: CHAIN_EXPORT_FORMATS as string[],
          default: 'pem',
          describe:
            'pem: one bundle; der: one file per certificate; p7b: certs-only PKCS#7; openvpn: ca.pem, crl.pem, configs; strongswan: swanctl layout; ' +
            'fortigate|cisco-asa|mikrotik|pfsense|paloalto: the files that appliance imports, with a README of the import steps',
        })
        .option('out', { type: 'string', describe: 'output file (pem, p7b) or directory (der, openvpn, strongswan); default: in the working directory' })
        .example('$0 export chain --issuer servers --format pem --out chain.pem', 'PEM bundle: servers, then root')
        .example('$0 export chain --issuer servers --format p7b --out servers.p7b', 'certs-only PKCS#7 (Windows, Java)')
        .example('$0 export chain --issuer clients --format openvpn --out /media/usb/openvpn/', 'ca.pem + crl.pem (every CA level) + server/client lines')
        .example('$0 export chain --issuer clients --format strongswan --out /media/usb/swanctl/', 'x509ca/, x509crl/, conf.d/ for swanctl --load-creds')
        .example('$0 export chain --issuer clients --format fortigate --out /media/usb/fortigate/', 'CA certificates + PEM CRLs + README (FortiOS import steps)')
        .epilogue(
          'openvpn, strongswan and the appliance formats need the latest CRL of every CA level of the chain (they check every level): a missing one fails ' +
            'EXPORT_CRL_MISSING, an expired one EXPORT_CRL_EXPIRED (exit 12); run `ca crl --issuer NAME` (or `ca crl --due`) and export again. ' +
            'An appliance format refuses a CA key or signature algorithm its vendor does not document (EXPORT_APPLIANCE_UNSUPPORTED, exit 12), naming the limit.',
        ) as never,
    handler: async (args) =>
      withCa(ctx, args, { command: `export chain --issuer ${args.issuer}`, write: false }, async (ca) => {
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
      }),
  };
}

function certCommand(ctx: CliContext): CommandModule<object, ExportArgs> {
  return {
    command: 'cert <serial>',
    describe: 'Export one issued certificate (optionally with its CA chain)',
    builder: (y) =>
      withHome(y)
        .positional('serial', { type: 'string', describe: 'serial number (hex, colons allowed)' })
        .option('issuer', { type: 'string', describe: 'issuing CA, if the serial is ambiguous' })
        .option('chain', { type: 'boolean', default: false, describe: 'append the issuing CA chain (leaf, CA, …, root)' })
        .option('format', { type: 'string', choices: ['pem', 'der', 'p7b'], default: 'pem', describe: 'output format (der with --chain: one file per certificate)' })
        .option('out', { type: 'string', describe: 'output file or directory (default: ISSUER-SERIAL.EXT in the working directory)' })
        .example('$0 export cert 5A1F...C3 --chain --format pem --out web-fullchain.pem', 'leaf followed by its CA chain')
        .example('$0 export cert 5A1F...C3 --format der --out web.der', 'the certificate alone, DER') as never,
    handler: async (args) =>
      withCa(ctx, args, { command: `export cert ${args.serial}`, write: false }, async (ca) => {
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
      }),
  };
}

function crlExportCommand(ctx: CliContext): CommandModule<object, ExportArgs> {
  return {
    command: 'crl',
    describe: 'Export the latest issued CRL(s)',
    builder: (y) =>
      (withHome(y) as Argv<ExportArgs>)
        .option('issuer', { type: 'string', describe: 'CA name' })
        .option('all', { type: 'boolean', default: false, describe: 'every CA that has a CRL' })
        .option('format', { type: 'string', choices: ['pem', 'der'], default: 'pem', describe: 'pem: one file (several CRLs concatenated); der: one NAME.crl per CA' })
        .option('out', { type: 'string', describe: 'output file (pem, or der of one CA) or directory' })
        .example('$0 export crl --issuer servers --format der --out /var/www/crl/servers.crl', 'the CRL for the distribution point')
        .example('$0 export crl --all --format pem --out crls.pem', 'every CA\'s latest CRL in one PEM file (openssl -CRLfile)')
        .epilogue('Warns on stderr when an exported CRL is past its nextUpdate (sign a fresh one with `ca crl --issuer NAME`).') as never,
    handler: async (args) =>
      withCa(ctx, args, { command: 'export crl', write: false }, async (ca) => {
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
      }),
  };
}

/** `ca export chain|cert|crl`. */
export function exportCommand(ctx: CliContext): CommandModule<object, object> {
  return {
    command: 'export <what>',
    describe: 'Export chains, certificates and CRLs (PEM, DER, PKCS#7, OpenVPN, strongSwan)',
    builder: (y) =>
      y
        .command(chainCommand(ctx))
        .command(certCommand(ctx))
        .command(crlExportCommand(ctx))
        .command(openvpnClientCommand(ctx))
        .demandCommand(1)
        .example('$0 export chain --issuer servers --format p7b --out servers.p7b', 'the servers chain as PKCS#7')
        .example('$0 export cert 5A1F...C3 --chain --out fullchain.pem', 'a leaf with its chain')
        .example('$0 export crl --all --out crls.pem', "every CA's latest CRL") as never,
    handler: () => undefined,
  };
}

