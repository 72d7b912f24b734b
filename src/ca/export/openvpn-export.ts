/**
 * Export for OpenVPN concentrators (OpenVPN 2.6 `doc/man-sections/tls-options.rst`):
 *   ca.pem           the CA chain for `ca` (issuing CA first … root last)
 *   crl.pem          every CA level's CRL, for `crl-verify` — OpenVPN's OpenSSL back end sets
 *                    X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL, so a CRL for each level
 *                    is needed (ca-invariants.md §2.3, G11)
 *   server.conf      matching server lines (ca, crl-verify, remote-cert-tls client, tls-cert-profile)
 *   client.conf      matching client lines (ca, remote-cert-tls server, verify-x509-name)
 *   README.txt       what the files are, fingerprints, CRL next-update dates
 * rendered from templates/export/openvpn-*.hbs.
 */
import { describeChain } from './chain-describe.js';
import { parseChainInput } from './chain-input.js';
import { type ChainExportInput, type ExportFile, PUBLIC_MODE } from './export-types.js';
import { pemEncode } from './pem.js';
import { pemBundle } from './cert-formats.js';
import { assertNoPrivateDataInFiles } from './private-data-guard.js';
import { loadTemplate, renderTemplate } from './template-loader.js';

export interface OpenvpnExportOptions {
  /** `tls-cert-profile` value (default `preferred`: SHA-2, RSA ≥ 2048). */
  tlsCertProfile?: 'legacy' | 'preferred' | 'suiteb';
  /** Template text overrides (default: read from templates/export/). */
  templates?: { serverConf?: string; clientConf?: string; readme?: string };
  /** Package root to load templates from (default: located from this module). */
  templateRoot?: string;
}

export const OPENVPN_FILES = {
  ca: 'ca.pem',
  crl: 'crl.pem',
  serverConf: 'server.conf',
  clientConf: 'client.conf',
  readme: 'README.txt',
} as const;

export function exportOpenvpn(input: ChainExportInput, options: OpenvpnExportOptions = {}): ExportFile[] {
  const parsed = parseChainInput(input, { requireAllCrls: true });
  const facts = describeChain(parsed);
  const crlPem = parsed.crlsByLevel.map((c) => pemEncode('X509 CRL', c!.der)).join('');
  const data = {
    issuingCa: parsed.names[0]!,
    rootCa: parsed.names[parsed.names.length - 1]!,
    chainLength: parsed.certs.length,
    crlCount: facts.crls.length,
    caFile: OPENVPN_FILES.ca,
    crlFile: OPENVPN_FILES.crl,
    serverConfFile: OPENVPN_FILES.serverConf,
    clientConfFile: OPENVPN_FILES.clientConf,
    tlsCertProfile: options.tlsCertProfile ?? 'preferred',
    earliestNextUpdate: facts.earliestNextUpdate,
    cas: facts.cas,
    crls: facts.crls,
  };
  const tpl = (key: 'serverConf' | 'clientConf' | 'readme', file: string): string =>
    options.templates?.[key] ?? loadTemplate(`export/${file}`, options.templateRoot);
  const text = (key: 'serverConf' | 'clientConf' | 'readme', file: string): Uint8Array =>
    Buffer.from(renderTemplate(file, tpl(key, file), data, { noEscape: true }), 'utf8');
  const files: ExportFile[] = [
    { path: OPENVPN_FILES.ca, bytes: pemBundle(parsed.certs.map((c) => c.der)), mode: PUBLIC_MODE },
    { path: OPENVPN_FILES.crl, bytes: Buffer.from(crlPem, 'utf8'), mode: PUBLIC_MODE },
    { path: OPENVPN_FILES.serverConf, bytes: text('serverConf', 'openvpn-server.conf.hbs'), mode: PUBLIC_MODE },
    { path: OPENVPN_FILES.clientConf, bytes: text('clientConf', 'openvpn-client.conf.hbs'), mode: PUBLIC_MODE },
    { path: OPENVPN_FILES.readme, bytes: text('readme', 'openvpn-readme.hbs'), mode: PUBLIC_MODE },
  ];
  assertNoPrivateDataInFiles(files);
  return files;
}
