/**
 * Chain and certificate exports (pure: DER in, `{ path, bytes, mode }[]` out). Writing the files
 * is the caller's job, with `writeFilesAtomically` from src/common/atomic-write.ts.
 */
import { exportChain } from './cert-formats.js';
import type { ChainExportInput, ExportFile } from './export-types.js';
import { exportOpenvpn, type OpenvpnExportOptions } from './openvpn-export.js';
import { exportStrongswan, type StrongswanExportOptions } from './strongswan-export.js';
import { exportAppliance } from './appliance-presets.js';
import type { ChainExportFormat } from './chain-export-formats.js';
export { CHAIN_EXPORT_FORMATS, type ChainExportFormat } from './chain-export-formats.js';

/** Formats for VPN concentrators: they need the latest, unexpired CRL of every CA level. */
export function needsAllCrls(format: ChainExportFormat): boolean {
  return format !== 'pem' && format !== 'der' && format !== 'p7b';
}

export interface ChainExportOptions {
  /** Base file name for pem/der/p7b (default `<names[0]>-chain`). */
  base?: string;
  openvpn?: OpenvpnExportOptions;
  strongswan?: StrongswanExportOptions;
}

/** Dispatches `ca export chain --format F`. */
export function renderChainExport(
  input: ChainExportInput,
  format: ChainExportFormat,
  options: ChainExportOptions = {},
): ExportFile[] {
  switch (format) {
    case 'pem':
    case 'der':
    case 'p7b':
      return exportChain(input, format, options.base);
    case 'openvpn':
      return exportOpenvpn(input, options.openvpn);
    case 'strongswan':
      return exportStrongswan(input, options.strongswan);
    case 'fortigate':
    case 'cisco-asa':
    case 'mikrotik':
    case 'pfsense':
    case 'paloalto':
      return exportAppliance(input, format);
  }
}

export { exportCertificate, exportChain, pemBundle, type CertExportInput, type CertFormat } from './cert-formats.js';
export { buildCertsOnlyPkcs7 } from './pkcs7-certs.js';
export { exportOpenvpn, OPENVPN_FILES, type OpenvpnExportOptions } from './openvpn-export.js';
export { exportStrongswan, type StrongswanExportOptions } from './strongswan-export.js';
export { APPLIANCE_FORMATS, APPLIANCE_PRESETS, checkApplianceSupport, exportAppliance, type ApplianceFormat, type AppliancePreset } from './appliance-presets.js';
export { assertNoPrivateData, assertNoPrivateDataInFiles } from './private-data-guard.js';
export { pemDecodeAll, pemEncode, looksLikePem, type PemBlock, type PemLabel } from './pem.js';
export { ExportError } from './export-error.js';
export type { ChainExportInput, ExportFile } from './export-types.js';
export { PUBLIC_MODE } from './export-types.js';
