// @peculiar/x509 resolves its extension and algorithm classes through tsyringe, which needs the
// Reflect metadata polyfill loaded before it: this import must stay first.
import 'reflect-metadata';
import { createPublicKey } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { AsnConvert } from '@peculiar/asn1-schema';
import { NameConstraints, SubjectPublicKeyInfo, type GeneralName as AsnGeneralName } from '@peculiar/asn1-x509';
import { decodeOidContent } from '../lint/certificate-model.js';
import { children, readSingle, value } from '../x509/der.js';
import { parseIp } from '../x509/ip-address.js';

/**
 * The whole certificate as text in the shape operators know from `openssl x509 -noout -text`
 * (OpenSSL 3.0: crypto/x509/t_x509.c, v3_*.c printers), parsed by @peculiar/x509 (an
 * implementation independent of cardca's own DER code). Heavy: import only from `ca show --text`.
 */
const SIG_ALGS: Readonly<Record<string, string>> = {
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss',
};
const EKU_NAMES: Readonly<Record<string, string>> = {
  '1.3.6.1.5.5.7.3.1': 'TLS Web Server Authentication',
  '1.3.6.1.5.5.7.3.2': 'TLS Web Client Authentication',
  '1.3.6.1.5.5.7.3.3': 'Code Signing',
  '1.3.6.1.5.5.7.3.4': 'E-mail Protection',
  '1.3.6.1.5.5.7.3.8': 'Time Stamping',
  '1.3.6.1.5.5.7.3.9': 'OCSP Signing',
  '1.3.6.1.5.5.7.3.17': 'ipsec Internet Key Exchange',
};
const KU_NAMES: readonly [x509.KeyUsageFlags, string][] = [
  [x509.KeyUsageFlags.digitalSignature, 'Digital Signature'],
  [x509.KeyUsageFlags.nonRepudiation, 'Non Repudiation'],
  [x509.KeyUsageFlags.keyEncipherment, 'Key Encipherment'],
  [x509.KeyUsageFlags.dataEncipherment, 'Data Encipherment'],
  [x509.KeyUsageFlags.keyAgreement, 'Key Agreement'],
  [x509.KeyUsageFlags.keyCertSign, 'Certificate Sign'],
  [x509.KeyUsageFlags.cRLSign, 'CRL Sign'],
  [x509.KeyUsageFlags.encipherOnly, 'Encipher Only'],
  [x509.KeyUsageFlags.decipherOnly, 'Decipher Only'],
];
const CURVES: Readonly<Record<string, [string, string]>> = {
  '1.2.840.10045.3.1.7': ['prime256v1', 'P-256'],
  '1.3.132.0.34': ['secp384r1', 'P-384'],
  '1.3.132.0.35': ['secp521r1', 'P-521'],
};
/** OpenSSL's short names for RDN attribute types (crypto/objects). */
const RDN_SHORT: Readonly<Record<string, string>> = { E: 'emailAddress', DC: 'DC', SERIALNUMBER: 'serialNumber', serialNumber: 'serialNumber' };

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function opensslDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()} GMT`;
}

function hexLines(bytes: Uint8Array, perLine: number, indent: string, upper = false): string[] {
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).map((h) => (upper ? h.toUpperCase() : h));
  const out: string[] = [];
  for (let i = 0; i < hex.length; i += perLine) {
    const last = i + perLine >= hex.length;
    out.push(indent + hex.slice(i, i + perLine).join(':') + (last ? '' : ':'));
  }
  return out;
}

function colonHex(bytes: Uint8Array, upper: boolean): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).map((h) => (upper ? h.toUpperCase() : h)).join(':');
}

function nameText(name: x509.Name): string {
  return name
    .toJSON()
    .flatMap((rdn) => Object.entries(rdn).flatMap(([type, values]) => (values as unknown[]).map((v) => `${RDN_SHORT[type] ?? type} = ${String(typeof v === 'object' && v ? Object.values(v)[0] : v).replace(/([,+])/g, '\\$1')}`)))
    .join(', ');
}

function ipText(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const g: string[] = [];
  for (let i = 0; i < bytes.length; i += 2) g.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16).toUpperCase());
  return g.join(':');
}

/** @peculiar/x509 renders iPAddress as text; back to octets for OpenSSL's rendering. */
function ipFromText(s: string): Uint8Array {
  return parseIp(s) ?? new Uint8Array(0);
}

function generalNameText(g: x509.GeneralName): string {
  switch (g.type) {
    case 'dns':
      return `DNS:${g.value}`;
    case 'email':
      return `email:${g.value}`;
    case 'ip':
      return `IP Address:${ipText(ipFromText(g.value))}`;
    case 'url':
      return `URI:${g.value}`;
    default:
      return `${g.type}:${g.value}`;
  }
}

function asnGeneralNameText(g: AsnGeneralName): string {
  if (g.dNSName !== undefined) return `DNS:${g.dNSName}`;
  if (g.rfc822Name !== undefined) return `email:${g.rfc822Name}`;
  if (g.uniformResourceIdentifier !== undefined) return `URI:${g.uniformResourceIdentifier}`;
  return generalNameText(new x509.GeneralName(g));
}

function publicKeyLines(spkiDer: ArrayBuffer): string[] {
  const spki = AsnConvert.parse(spkiDer, SubjectPublicKeyInfo);
  const key = createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' });
  const jwk = key.export({ format: 'jwk' });
  const i = '                ';
  if (key.asymmetricKeyType === 'rsa') {
    const n = Buffer.from(jwk.n!, 'base64url');
    const e = BigInt('0x' + Buffer.from(jwk.e!, 'base64url').toString('hex'));
    const modulus = n[0]! & 0x80 ? Buffer.concat([Buffer.of(0), n]) : n;
    return ['            Public Key Algorithm: rsaEncryption', `${i}Public-Key: (${key.asymmetricKeyDetails?.modulusLength} bit)`, `${i}Modulus:`, ...hexLines(modulus, 15, `${i}    `), `${i}Exponent: ${e} (0x${e.toString(16)})`];
  }
  const point = new Uint8Array(spki.subjectPublicKey);
  const curveOid = spki.algorithm.parameters ? readOid(new Uint8Array(spki.algorithm.parameters)) : '';
  const [asn1Name, nist] = CURVES[curveOid] ?? [curveOid, ''];
  const bits = key.asymmetricKeyDetails?.namedCurve ? (point.length - 1) * 4 : 0;
  return [
    '            Public Key Algorithm: id-ecPublicKey',
    `${i}Public-Key: (${bits} bit)`,
    `${i}pub:`,
    ...hexLines(point, 15, `${i}    `),
    `${i}ASN1 OID: ${asn1Name}`,
    ...(nist ? [`${i}NIST CURVE: ${nist}`] : []),
  ];
}

function readOid(der: Uint8Array): string {
  return decodeOidContent(value(der, readSingle(der)));
}

function extensionLines(e: x509.Extension): string[] {
  const i = '                ';
  const head = (name: string) => `            ${name}: ${e.critical ? 'critical' : ''}`;
  if (e instanceof x509.SubjectKeyIdentifierExtension) return [head('X509v3 Subject Key Identifier'), i + colonHex(Buffer.from(e.keyId, 'hex'), true)];
  if (e instanceof x509.AuthorityKeyIdentifierExtension) return [head('X509v3 Authority Key Identifier'), i + colonHex(Buffer.from(e.keyId ?? '', 'hex'), true)];
  if (e instanceof x509.BasicConstraintsExtension) return [head('X509v3 Basic Constraints'), `${i}CA:${e.ca ? 'TRUE' : 'FALSE'}${e.pathLength !== undefined ? `, pathlen:${e.pathLength}` : ''}`];
  if (e instanceof x509.KeyUsagesExtension) return [head('X509v3 Key Usage'), i + KU_NAMES.filter(([f]) => e.usages & f).map(([, n]) => n).join(', ')];
  if (e instanceof x509.ExtendedKeyUsageExtension) return [head('X509v3 Extended Key Usage'), i + e.usages.map((u) => EKU_NAMES[String(u)] ?? String(u)).join(', ')];
  if (e instanceof x509.SubjectAlternativeNameExtension) return [head('X509v3 Subject Alternative Name'), i + e.names.items.map(generalNameText).join(', ')];
  if (e instanceof x509.CRLDistributionPointsExtension) {
    return [head('X509v3 CRL Distribution Points'), ...e.distributionPoints.flatMap((dp) => [`${i}Full Name:`, ...(dp.distributionPoint?.fullName ?? []).map((g) => `${i}  ${asnGeneralNameText(g)}`)])];
  }
  if (e instanceof x509.AuthorityInfoAccessExtension) {
    return [head('Authority Information Access'), ...e.ocsp.map((g) => `${i}OCSP - ${generalNameText(g)}`), ...e.caIssuers.map((g) => `${i}CA Issuers - ${generalNameText(g)}`)];
  }
  if (e.type === '2.5.29.30') {
    const nc = AsnConvert.parse(e.value, NameConstraints);
    const subtree = (g: AsnGeneralName) => {
      if (g.iPAddress === undefined) return asnGeneralNameText(g);
      const [addr, prefix] = g.iPAddress.split('/') as [string, string];
      const a = ipFromText(addr);
      const mask = new Uint8Array(a.length);
      for (let b = 0; b < Number(prefix); b++) mask[b >> 3]! |= 0x80 >> (b & 7);
      return `IP:${ipText(a)}/${ipText(mask)}`;
    };
    return [
      head('X509v3 Name Constraints'),
      ...(nc.permittedSubtrees?.length ? [`${i}Permitted:`, ...nc.permittedSubtrees.map((s) => `${i}  ${subtree(s.base)}`)] : []),
      ...(nc.excludedSubtrees?.length ? [`${i}Excluded:`, ...nc.excludedSubtrees.map((s) => `${i}  ${subtree(s.base)}`)] : []),
    ];
  }
  return [head(e.type), ...hexLines(new Uint8Array(e.value), 18, i)];
}

/** `openssl x509 -noout -text`-shaped rendering of a DER certificate. */
export function certificateText(der: Uint8Array): string {
  const cert = new x509.X509Certificate(der);
  const tbsSigOid = readSigOid(der);
  const sigName = SIG_ALGS[tbsSigOid] ?? tbsSigOid;
  const serial = Buffer.from(cert.serialNumber, 'hex');
  const serialLines =
    serial.length <= 8 && !(serial[0]! & 0x80)
      ? [`        Serial Number: ${BigInt('0x' + cert.serialNumber)} (0x${BigInt('0x' + cert.serialNumber).toString(16)})`]
      : ['        Serial Number:', `            ${colonHex(serial[0] === 0 && serial.length > 1 ? serial.subarray(1) : serial, false)}`];
  const lines = [
    'Certificate:',
    '    Data:',
    '        Version: 3 (0x2)',
    ...serialLines,
    `        Signature Algorithm: ${sigName}`,
    `        Issuer: ${nameText(cert.issuerName)}`,
    '        Validity',
    `            Not Before: ${opensslDate(cert.notBefore)}`,
    `            Not After : ${opensslDate(cert.notAfter)}`,
    `        Subject: ${nameText(cert.subjectName)}`,
    '        Subject Public Key Info:',
    ...publicKeyLines(cert.publicKey.rawData),
    ...(cert.extensions.length ? ['        X509v3 extensions:', ...cert.extensions.flatMap(extensionLines)] : []),
    `    Signature Algorithm: ${sigName}`,
    '    Signature Value:',
    ...hexLines(new Uint8Array(cert.signature), 18, '        '),
  ];
  return lines.join('\n') + '\n';
}

/** The outer signatureAlgorithm OID of a certificate (its second element). */
function readSigOid(der: Uint8Array): string {
  const alg = children(der, readSingle(der))[1]!;
  return decodeOidContent(value(der, children(der, alg)[0]!));
}
