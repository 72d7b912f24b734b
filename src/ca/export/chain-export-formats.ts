import type { CertFormat } from './cert-formats.js';

/**
 * The formats `ca export chain --format` offers, in a module of their own so that the command's
 * definition (what `ca export --help` loads) does not load the renderers behind them.
 */
export type ApplianceFormat = 'fortigate' | 'cisco-asa' | 'mikrotik' | 'pfsense' | 'paloalto';
export const APPLIANCE_FORMATS: readonly ApplianceFormat[] = ['fortigate', 'cisco-asa', 'mikrotik', 'pfsense', 'paloalto'];
export type ChainExportFormat = CertFormat | 'openvpn' | 'strongswan' | ApplianceFormat;
export const CHAIN_EXPORT_FORMATS: readonly ChainExportFormat[] = ['pem', 'der', 'p7b', 'openvpn', 'strongswan', ...APPLIANCE_FORMATS];
