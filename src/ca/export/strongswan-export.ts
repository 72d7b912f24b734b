/**
 * Export in strongSwan's swanctl directory layout (swanctl(8), swanctl.conf(5); the same
 * sub-directories as /etc/swanctl):
 *   x509ca/<name>.pem              one PEM file per CA certificate of the chain
 *   x509crl/<name>.crl             one DER CRL per CA level (swanctl --load-creds reads PEM or DER;
 *                                  DER is what `pki --gen-crl` writes by default)
 *   conf.d/cardca-<issuing>.conf   an `authorities` section naming the CA files, and commented
 *                                  connection lines (`cacerts`, `revocation = strict`)
 * rendered from templates/export/strongswan-swanctl.conf.hbs.
 */
import { describeChain } from './chain-describe.js';
import { parseChainInput } from './chain-input.js';
import { type ChainExportInput, type ExportFile, PUBLIC_MODE } from './export-types.js';
import { pemEncode } from './pem.js';
import { assertNoPrivateDataInFiles } from './private-data-guard.js';
import { loadTemplate, renderTemplate } from './template-loader.js';

export interface StrongswanExportOptions {
  /** Connection name used in the commented example lines (default `<issuing>-peers`). */
  connectionName?: string;
  template?: string;
  templateRoot?: string;
}

export function exportStrongswan(input: ChainExportInput, options: StrongswanExportOptions = {}): ExportFile[] {
  const parsed = parseChainInput(input, { requireAllCrls: true });
  const facts = describeChain(parsed);
  const issuing = parsed.names[0]!;
  const caFiles = parsed.names.map((n) => `${n}.pem`);
  const conf = renderTemplate(
    'strongswan-swanctl.conf.hbs',
    options.template ?? loadTemplate('export/strongswan-swanctl.conf.hbs', options.templateRoot),
    {
      issuingCa: issuing,
      issuingFile: caFiles[0]!,
      connectionName: options.connectionName ?? `${issuing}-peers`,
      earliestNextUpdate: facts.earliestNextUpdate,
      cas: parsed.names.map((n, i) => ({ name: n, file: caFiles[i]! })),
    },
    { noEscape: true },
  );
  const files: ExportFile[] = [
    ...parsed.certs.map((c, i) => ({
      path: `x509ca/${caFiles[i]!}`,
      bytes: Buffer.from(pemEncode('CERTIFICATE', c.der), 'utf8'),
      mode: PUBLIC_MODE,
    })),
    ...parsed.crlsByLevel.map((c, i) => ({ path: `x509crl/${parsed.names[i]!}.crl`, bytes: c!.der, mode: PUBLIC_MODE })),
    { path: `conf.d/cardca-${issuing}.conf`, bytes: Buffer.from(conf, 'utf8'), mode: PUBLIC_MODE },
  ];
  assertNoPrivateDataInFiles(files);
  return files;
}
