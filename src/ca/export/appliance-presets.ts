/**
 * Appliance presets for `ca export chain --format fortigate|cisco-asa|mikrotik|pfsense|paloalto`
 * (issue 16 item 2): for each product the files in the encoding and layout its documentation
 * asks for, and a README (templates/export/appliance/<id>.README.md.hbs) with the import steps,
 * the vendor pages, and what the device cannot do with the workaround.
 *
 * Each preset's format decisions carry the vendor page they come from (`docs`, repeated in the
 * README). Key types and signature algorithms: a preset lists what its documentation says the
 * product supports; a chain or CRL outside that list is refused (`EXPORT_APPLIANCE_UNSUPPORTED`)
 * naming the limit, before anything is written — an appliance that silently rejects a CA
 * certificate in the field is the outage this avoids. RSASSA-PSS appears in none of these
 * products' documented algorithm lists, so it is refused for all of them.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import type { SignatureAlgorithm } from '../../crypto/signer.js';
import { signatureAlgorithmInfo } from '../../crypto/algorithms.js';
import { signatureAlgorithmFromIdentifier } from '../x509/signature-algorithm-identifier.js';
import { spkiKeyInfo } from '../x509/spki.js';
import { describeChain } from './chain-describe.js';
import { parseChainInput } from './chain-input.js';
import { ExportError } from './export-error.js';
import { type ChainExportInput, type ExportFile, PUBLIC_MODE } from './export-types.js';
import { pemEncode } from './pem.js';
import { assertNoPrivateDataInFiles } from './private-data-guard.js';
import { loadTemplate, renderTemplate } from './template-loader.js';

import type { ApplianceFormat } from './chain-export-formats.js';
export { APPLIANCE_FORMATS, type ApplianceFormat } from './chain-export-formats.js';

type Encoding = 'pem' | 'der';

export interface AppliancePreset {
  readonly id: ApplianceFormat;
  readonly product: string;
  /** Vendor pages every decision below comes from (also listed in the README). */
  readonly docs: readonly { readonly title: string; readonly url: string }[];
  /** One file per CA certificate (appliances import CA certificates one at a time). */
  readonly caFile: (name: string) => string;
  readonly caEncoding: Encoding;
  /** One file per CA level's CRL: uploaded to the device, or served at the CDP URL for it to fetch. */
  readonly crlFile: (name: string) => string;
  readonly crlEncoding: Encoding;
  /** Whether the device accepts a CRL file at all (false: it only fetches from a URL). */
  readonly crlUpload: boolean;
  /** Documented key limits. */
  readonly rsaBits: readonly [number, number];
  readonly curves: readonly string[];
  /** Documented signature hashes (RSA PKCS#1 v1.5 and ECDSA). */
  readonly hashes: readonly ('SHA-256' | 'SHA-384' | 'SHA-512')[];
  /** Where the key and algorithm limits are documented (shown when refusing). */
  readonly limitsSource: string;
}

const ALL_HASHES = ['SHA-256', 'SHA-384', 'SHA-512'] as const;
const NIST_CURVES = ['prime256v1', 'secp384r1', 'secp521r1'];

export const APPLIANCE_PRESETS: Readonly<Record<ApplianceFormat, AppliancePreset>> = {
  fortigate: {
    id: 'fortigate',
    product: 'Fortinet FortiGate (FortiOS)',
    docs: [
      // GUI import of a CA certificate from a file; CA certificates and CRLs are installed per CA.
      { title: 'FortiOS: Installing a CA root certificate and CRL to authenticate remote clients', url: 'https://help.fortinet.com/fos50hlp/50/FortiOS%205.0%20Help/Certificates.034.21.html' },
      // `config vpn certificate crl`: "Certificate Revocation List as a PEM file"; http-url for auto-update.
      { title: 'FortiOS CLI reference: config certificate crl', url: 'https://docs.fortinet.com/document/fortigate/6.2.5/cli-reference/361620' },
      { title: 'FortiOS administration guide: Uploading a certificate using the GUI', url: 'https://docs.fortinet.com/document/fortigate/6.4.7/administration-guide/322226/uploading-a-certificate-using-the-gui' },
    ],
    caFile: (n) => `${n}.cer`,
    caEncoding: 'pem',
    crlFile: (n) => `${n}.crl.pem`,
    crlEncoding: 'pem', // CLI reference: the crl field is a PEM file
    crlUpload: true,
    rsaBits: [2048, 4096],
    curves: NIST_CURVES,
    hashes: ALL_HASHES,
    limitsSource: 'FortiOS administration guide, certificate key types: RSA up to 4096 bits, elliptic curves secp256r1/secp384r1/secp521r1',
  },
  'cisco-asa': {
    id: 'cisco-asa',
    product: 'Cisco ASA / Secure Firewall (FTD via FMC)',
    docs: [
      // Trustpoints, `enrollment terminal`, `crypto ca authenticate` (paste base64 PEM), CRL fetched per trustpoint.
      { title: 'Cisco ASA General Operations CLI Configuration Guide 9.12: Digital Certificates', url: 'https://cisco.com/c/en/us/td/docs/security/asa/asa912/configuration/general/asa-912-general-config/basic-certs.html' },
      // "For signature operations, the supported maximum key size is 4096 bits."
      { title: 'Cisco ASA 5500 Series Configuration Guide 8.2: Configuring Digital Certificates', url: 'http://www.cisco.com/c/en/us/td/docs/security/asa/asa82/configuration/guide/config/cert_cfg.html' },
    ],
    caFile: (n) => `${n}.pem`, // pasted at `crypto ca authenticate` (base64, PEM armour accepted)
    caEncoding: 'pem',
    crlFile: (n) => `crl/${n}.crl`, // DER, for the HTTP distribution point the ASA fetches (RFC 5280 §4.2.1.13)
    crlEncoding: 'der',
    crlUpload: false,
    rsaBits: [2048, 4096],
    curves: NIST_CURVES,
    hashes: ALL_HASHES,
    limitsSource: 'Cisco ASA configuration guide: RSA signature keys up to 4096 bits; ECDSA P-256/P-384/P-521',
  },
  mikrotik: {
    id: 'mikrotik',
    product: 'MikroTik RouterOS',
    docs: [
      // /certificate import file-name=…; CRL handling and key-size list (RSA …, prime256v1, secp384r1, secp521r1).
      { title: 'RouterOS: Certificates', url: 'https://help.mikrotik.com/docs/display/ROS/Certificates' },
    ],
    caFile: (n) => `${n}.crt`,
    caEncoding: 'pem',
    crlFile: (n) => `crl/${n}.crl`, // DER at the CDP URL: RouterOS renews CRLs of trusted CAs over HTTP
    crlEncoding: 'der',
    crlUpload: false,
    rsaBits: [2048, 8192],
    curves: NIST_CURVES,
    hashes: ALL_HASHES,
    limitsSource: 'RouterOS Certificates page, key-size: 1024…8192 (RSA), prime256v1, secp384r1, secp521r1; digest sha256/sha384/sha512',
  },
  pfsense: {
    id: 'pfsense',
    product: 'Netgate pfSense / OPNsense',
    docs: [
      // CAs tab > Add > Method "Import an existing Certificate Authority": paste PEM certificate data.
      { title: 'pfSense: Certificate Authority Management', url: 'https://www.netgate.com/docs/pfsense/book/certificates/certificate-authority-management.html' },
      // Certificate Revocation tab > Add > Method "Import an existing Certificate Revocation List": paste PEM.
      { title: 'pfSense: Certificate Revocation List Management', url: 'https://docs.netgate.com/pfsense/en/latest/certificates/crl.html' },
    ],
    caFile: (n) => `${n}.crt`,
    caEncoding: 'pem',
    crlFile: (n) => `${n}.crl.pem`,
    crlEncoding: 'pem',
    crlUpload: true,
    rsaBits: [2048, 4096],
    curves: NIST_CURVES,
    hashes: ALL_HASHES,
    limitsSource: 'pfSense Certificate Authority Management: key type RSA (up to 4096 bits in the GUI) or ECDSA (prime256v1, secp384r1, secp521r1 for IPsec/OpenVPN)',
  },
  paloalto: {
    id: 'paloalto',
    product: 'Palo Alto Networks PAN-OS (GlobalProtect, IPSec)',
    docs: [
      // Certificate profile: CA certificates imported one by one, CRL/OCSP checked from the certificates' CDP/AIA.
      { title: 'PAN-OS Administrator’s Guide: Configure a Certificate Profile', url: 'https://docs.paloaltonetworks.com/pan-os/10-1/pan-os-admin/certificate-management/configure-a-certificate-profile.html' },
      { title: 'PAN-OS Web Interface Help: Device > Certificate Management > Certificate Profile', url: 'https://docs.paloaltonetworks.com/pan-os/11-2/pan-os-web-interface-help/device/device-certificate-management-certificate-profile' },
    ],
    caFile: (n) => `${n}.pem`, // Import, File Format "Base64 Encoded Certificate (PEM)"
    caEncoding: 'pem',
    crlFile: (n) => `crl/${n}.crl`, // DER at the CDP URL: PAN-OS downloads CRLs from the certificates' CDP
    crlEncoding: 'der',
    crlUpload: false,
    rsaBits: [2048, 4096],
    curves: ['prime256v1', 'secp384r1'],
    hashes: ALL_HASHES,
    limitsSource: 'PAN-OS certificate management: RSA up to 4096 bits, ECDSA 256 and 384 bits',
  },
};

function refuse(p: AppliancePreset, what: string, limit: string): never {
  throw new ExportError('EXPORT_APPLIANCE_UNSUPPORTED', `${p.product} cannot use ${what}: ${limit}`, {
    hint: `Per ${p.limitsSource} (${p.docs[0]!.url}). Export another format (e.g. --format pem), or use a CA hierarchy with a supported key type and signature algorithm for this appliance.`,
    details: { preset: p.id, what, limit },
  });
}

function checkSignature(p: AppliancePreset, what: string, algIdDer: Uint8Array): void {
  const alg: SignatureAlgorithm | undefined = signatureAlgorithmFromIdentifier(algIdDer);
  if (!alg) return refuse(p, `${what} (unrecognised signature algorithm)`, 'only RSA PKCS#1 v1.5 and ECDSA signatures are documented');
  const info = signatureAlgorithmInfo(alg);
  if (info.family === 'rsa-pss') refuse(p, `${what} signed with ${alg}`, 'RSASSA-PSS is not among the documented signature algorithms; sign with rsa-pkcs1-* or ecdsa-*');
  if (!p.hashes.includes(info.hash as (typeof p.hashes)[number])) refuse(p, `${what} signed with ${alg}`, `documented hashes: ${p.hashes.join(', ')}`);
}

/** Throws EXPORT_APPLIANCE_UNSUPPORTED when a CA key, certificate or CRL signature is outside the preset's documented limits. */
export function checkApplianceSupport(preset: AppliancePreset, input: ChainExportInput): void {
  const parsed = parseChainInput(input, { requireAllCrls: true });
  parsed.certs.forEach((c, i) => {
    const name = parsed.names[i]!;
    const spki = new Uint8Array(AsnConvert.serialize(c.cert.tbsCertificate.subjectPublicKeyInfo));
    const k = spkiKeyInfo(spki);
    if (k.type === 'rsa' && (k.bits < preset.rsaBits[0] || k.bits > preset.rsaBits[1])) {
      refuse(preset, `the ${name} CA's RSA-${k.bits} key`, `RSA keys of ${preset.rsaBits[0]}…${preset.rsaBits[1]} bits`);
    }
    if (k.type === 'ec' && !preset.curves.includes(k.curve ?? '')) {
      refuse(preset, `the ${name} CA's ${k.curve ?? 'unknown'} key`, `elliptic curves ${preset.curves.join(', ')}`);
    }
    checkSignature(preset, `the ${name} CA certificate`, new Uint8Array(AsnConvert.serialize(c.cert.signatureAlgorithm)));
  });
  parsed.crlsByLevel.forEach((c, i) => {
    if (c) checkSignature(preset, `the ${parsed.names[i]!} CRL`, new Uint8Array(AsnConvert.serialize(c.crl.signatureAlgorithm)));
  });
}

export interface ApplianceExportOptions {
  template?: string;
  templateRoot?: string;
}

/** Renders one preset: CA files (issuing CA first … root), CRL files, README.md. */
export function exportAppliance(input: ChainExportInput, format: ApplianceFormat, options: ApplianceExportOptions = {}): ExportFile[] {
  const preset = APPLIANCE_PRESETS[format];
  checkApplianceSupport(preset, input);
  const parsed = parseChainInput(input, { requireAllCrls: true });
  const facts = describeChain(parsed);
  const encode = (enc: Encoding, label: 'CERTIFICATE' | 'X509 CRL', der: Uint8Array): Uint8Array =>
    enc === 'pem' ? Buffer.from(pemEncode(label, der), 'utf8') : der;
  const cas = parsed.certs.map((c, i) => ({ ...facts.cas[i]!, file: preset.caFile(parsed.names[i]!), isRoot: i === parsed.certs.length - 1, der: c.der }));
  const crls = parsed.crlsByLevel.map((c, i) => ({ ...facts.crls.find((f) => f.name === parsed.names[i])!, file: preset.crlFile(parsed.names[i]!), der: c!.der }));
  const readme = renderTemplate(
    `appliance/${format}.README.md.hbs`,
    options.template ?? loadTemplate(`export/appliance/${format}.README.md.hbs`, options.templateRoot),
    {
      product: preset.product,
      issuingCa: parsed.names[0]!,
      rootCa: parsed.names[parsed.names.length - 1]!,
      // Import order: the root first, then each sub-CA down to the issuing CA (a device can only
      // link a sub-CA to a parent it already holds).
      importOrder: [...cas].reverse().map(({ der: _d, ...rest }) => rest),
      crls: crls.map(({ der: _d, ...rest }) => rest),
      earliestNextUpdate: facts.earliestNextUpdate,
      docs: preset.docs,
      limits: preset.limitsSource,
    },
    { noEscape: true },
  );
  const files: ExportFile[] = [
    ...cas.map((c) => ({ path: c.file, bytes: encode(preset.caEncoding, 'CERTIFICATE', c.der), mode: PUBLIC_MODE })),
    ...crls.map((c) => ({ path: c.file, bytes: encode(preset.crlEncoding, 'X509 CRL', c.der), mode: PUBLIC_MODE })),
    { path: 'README.md', bytes: Buffer.from(readme, 'utf8'), mode: PUBLIC_MODE },
  ];
  assertNoPrivateDataInFiles(files);
  return files;
}
