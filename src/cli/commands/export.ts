import type { Argv, CommandModule } from 'yargs';
import { CHAIN_EXPORT_FORMATS } from '../../ca/export/chain-export-formats.js';
import { withHome, type HomeArgs } from '../command-options.js';
import type { CliContext } from '../context.js';
import { openvpnClientCommand } from './export-openvpn-client.js';

/**
 * `ca export chain|cert|crl`: public artefacts for relying parties, rendered by the pure
 * renderers of src/ca/export and written atomically (each file: temp, fsync, rename).
 * Single-file results go to `--out FILE` (or into `--out DIR/`); multi-file formats (DER chains,
 * OpenVPN, strongSwan, DER CRLs of several CAs) always go to a directory.
 */
export interface ExportArgs extends HomeArgs {
  issuer?: string;
  all?: boolean;
  format: string;
  out?: string;
  serial?: string;
  chain?: boolean;
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
    handler: async (args) => (await import('./export-run.js')).runChain(ctx, args),
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
    handler: async (args) => (await import('./export-run.js')).runCert(ctx, args),
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
    handler: async (args) => (await import('./export-run.js')).runCrlExport(ctx, args),
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

