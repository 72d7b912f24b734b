import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { defaultSignatureAlgorithm } from '../../crypto/algorithms.js';
import { keyAlgorithmOfSpki } from '../../crypto/public-key-type.js';
import type { KeyAlgorithm, SignatureAlgorithm } from '../../crypto/signer.js';
import { decodeName } from '../x509/name.js';
import { EKU_OIDS, KEY_USAGE_BITS, RDN_OIDS } from '../x509/oids.js';
import type { AdoptedCertificate, AdoptedCrl } from './adopt-plan.js';

/**
 * The profiles of an adopted CA (issue #15 item 2), derived from what the old CA actually did:
 * its certificate (key, subject, key usage, pathLen, validity) and its most recent issuances
 * (key usages, EKUs, validity, subject shape, SAN domains, and the CRL DP / AIA caIssuers URLs
 * it wrote into them), plus its newest CRL's lifetime. They are written to HOME/profiles for
 * review: the profile pin (`ca profiles accept`) refuses every command until the operator has
 * read and accepted them, so nothing is issued under a derived profile nobody looked at.
 */
export interface DerivedProfiles {
  readonly caProfile: string;
  readonly files: readonly { readonly name: string; readonly text: string }[];
  readonly signatureAlgorithm: SignatureAlgorithm;
}

/** How many of the newest leaf certificates the leaf profile is derived from. */
export const RECENT_ISSUANCES = 20;

const KU_NAMES = Object.keys(KEY_USAGE_BITS) as (keyof typeof KEY_USAGE_BITS)[];
const LEAF_KEYS: readonly KeyAlgorithm[] = ['rsa2048', 'rsa3072', 'rsa4096', 'p256', 'p384', 'p521'];

function kuNames(c: x509.X509Certificate): { values: string[]; critical: boolean } | undefined {
  const ext = c.getExtension(x509.KeyUsagesExtension);
  if (!ext) return undefined;
  // @peculiar/x509 KeyUsageFlags: digitalSignature = 1, nonRepudiation = 2, … (bit i ↔ 1 << i).
  return { values: KU_NAMES.filter((n) => (ext.usages & (1 << KEY_USAGE_BITS[n])) !== 0), critical: ext.critical };
}

function ekuNames(c: x509.X509Certificate): { values: string[]; critical: boolean } | undefined {
  const ext = c.getExtension(x509.ExtendedKeyUsageExtension);
  if (!ext) return undefined;
  const byOid = Object.fromEntries(Object.entries(EKU_OIDS).map(([k, v]) => [v, k]));
  return { values: ext.usages.map((u) => byOid[String(u)] ?? String(u)), critical: ext.critical };
}

function urls(c: x509.X509Certificate): { crl: string[]; caIssuers: string[] } {
  const crl = (c.getExtension(x509.CRLDistributionPointsExtension)?.distributionPoints ?? []).flatMap((dp) =>
    (dp.distributionPoint?.fullName ?? []).flatMap((g) => (g.uniformResourceIdentifier ? [g.uniformResourceIdentifier] : [])),
  );
  const caIssuers = (c.getExtension(x509.AuthorityInfoAccessExtension)?.caIssuers ?? []).flatMap((g) => (g.type === 'url' ? [g.value] : []));
  return { crl, caIssuers };
}

const httpOnly = (u: readonly string[]): string[] => [...new Set(u.filter((x) => /^http:\/\/[^/]/.test(x)))];
const days = (from: Date, to: Date): number => Math.max(1, Math.round((to.getTime() - from.getTime()) / 86_400_000));
const q = (s: string): string => JSON.stringify(s);
const list = (xs: readonly string[]): string => `[${xs.map(q).join(', ')}]`;

function keyAlg(spki: Uint8Array): KeyAlgorithm | undefined {
  try {
    return keyAlgorithmOfSpki(spki);
  } catch {
    return undefined;
  }
}

function subjectRules(certs: readonly AdoptedCertificate[], fixedFrom?: x509.X509Certificate): string[] {
  if (fixedFrom) {
    return decodeName(new Uint8Array(fixedFrom.subjectName.toArrayBuffer()))
      .filter((a) => RDN_OIDS[a.type] !== undefined)
      .map((a) => `  - { type: ${a.type}, presence: fixed, value: ${q(a.value)} }`);
  }
  const names = certs.map((c) => decodeName(new Uint8Array(c.parsed.subjectName.toArrayBuffer())).filter((a) => RDN_OIDS[a.type] !== undefined));
  const order: string[] = [];
  for (const n of names) for (const a of n) if (!order.includes(a.type)) order.push(a.type);
  return order.map((t) => {
    const values = names.map((n) => n.find((a) => a.type === t)?.value);
    const all = values.every((v) => v !== undefined);
    if (t !== 'CN' && all && new Set(values).size === 1) return `  - { type: ${t}, presence: fixed, value: ${q(values[0]!)} }`;
    return `  - { type: ${t}, presence: ${t === 'CN' && all ? 'required' : 'optional'} }`;
  });
}

/** Profiles for the CA `caName` (file names `profileName`.yaml and `profileName`-leaf.yaml). */
export function deriveProfiles(o: {
  profileName: string;
  caName: string;
  caCert: x509.X509Certificate;
  caSpki: Uint8Array;
  certificates: readonly AdoptedCertificate[];
  crls: readonly AdoptedCrl[];
  defaultCrlDays?: number;
  source: string;
}): DerivedProfiles {
  const key = keyAlg(o.caSpki);
  if (!key) throw new TypeError('the CA key type is not one cardca signs with');
  const leaves = o.certificates.filter((c) => !c.isCa).sort((a, b) => b.notBefore.getTime() - a.notBefore.getTime()).slice(0, RECENT_ISSUANCES);
  const newest = leaves[0];
  // What the old CA signed with lately; ECDSA keys keep the curve's own hash (BR 7.1.3.2.2).
  const used = newest?.signatureAlgorithm;
  const signatureAlgorithm: SignatureAlgorithm = key.startsWith('p') ? defaultSignatureAlgorithm(key) : used && used.startsWith('rsa') ? used : defaultSignatureAlgorithm(key);
  const bc = o.caCert.getExtension(x509.BasicConstraintsExtension);
  const caKu = kuNames(o.caCert);
  const crlUrls = httpOnly(leaves.flatMap((c) => urls(c.parsed).crl));
  const aiaUrls = httpOnly(leaves.flatMap((c) => urls(c.parsed).caIssuers));
  const newestCrl = [...o.crls].sort((a, b) => b.thisUpdate.getTime() - a.thisUpdate.getTime())[0];
  const crlDays = newestCrl?.nextUpdate ? days(newestCrl.thisUpdate, newestCrl.nextUpdate) : (o.defaultCrlDays ?? 30);
  const overlapDays = Math.max(1, Math.min(7, Math.floor(crlDays / 4)));
  const leafName = `${o.profileName}-leaf`;
  const header = (what: string): string[] => [
    `# ${what} — DERIVED by \`ca adopt ${o.caName}\` from ${o.source}.`,
    '# Review every line before `ca profiles accept`: issuance under it is refused until then.',
  ];
  const ca = [
    ...header(`CA profile of the adopted CA ${o.caName}`),
    'kind: ca',
    `description: ${q(`Adopted CA ${o.caName}`)}`,
    `key: ${key}`,
    `signatureAlgorithm: ${signatureAlgorithm}`,
    `validity: P${days(o.caCert.notBefore, o.caCert.notAfter)}D`,
    'subject:',
    ...subjectRules([], o.caCert),
    // A CA profile needs keyCertSign + cRLSign and a critical keyUsage (load-profiles.ts).
    `keyUsage: { values: ${list([...new Set([...(caKu?.values ?? []), 'keyCertSign', 'cRLSign'])])}, critical: true }`,
    ...(bc?.pathLength !== undefined ? [`basicConstraints: { pathLen: ${bc.pathLength} }`] : []),
    `crlDistributionPoints: ${list(crlUrls)}`,
    `caIssuers: ${list(aiaUrls)}`,
    `issues: [${leafName}]`,
    `crl: { validity: P${crlDays}D, overlap: P${overlapDays}D }`,
    '',
  ];
  const leafKeys = [...new Set(leaves.map((c) => keyAlg(c.spki)).filter((k): k is KeyAlgorithm => k !== undefined && LEAF_KEYS.includes(k)))];
  const ku = newest ? kuNames(newest.parsed) : undefined;
  const eku = newest ? ekuNames(newest.parsed) : undefined;
  const sans = leaves.flatMap((c) => c.sans);
  const dns = [...new Set(sans.filter((s) => s.startsWith('dns:')).map((s) => s.slice(4)).flatMap((n) => (n.includes('.') ? [`.${n.slice(n.indexOf('.') + 1)}`, n.slice(n.indexOf('.') + 1)] : [n])))];
  const ips = [...new Set(sans.filter((s) => s.startsWith('ip:')).map((s) => s.slice(3)).map((ip) => (ip.includes(':') ? `${ip}/128` : `${ip}/32`)))];
  const emails = [...new Set(sans.filter((s) => s.startsWith('email:')).map((s) => s.slice(s.indexOf('@') + 1)))];
  const validityDays = leaves.length ? Math.max(...leaves.map((c) => days(c.notBefore, c.notAfter))) : 365;
  const leaf = [
    ...header(`Leaf profile of the adopted CA ${o.caName}, from its ${leaves.length} most recent issuance(s)`),
    'kind: leaf',
    `description: ${q(`Certificates as ${o.caName} issued them before adoption`)}`,
    `allowedKeys: ${list(leafKeys.length ? leafKeys : ['rsa2048', 'rsa3072', 'p256', 'p384']).replace(/"/g, '')}`,
    `validity: P${validityDays}D`,
    `keyUsage: { values: ${list(ku?.values.length ? ku.values : ['digitalSignature'])}, critical: ${ku?.critical ?? true} }`,
    ...(eku ? [`extendedKeyUsage: { values: ${list(eku.values)}, critical: ${eku.critical} }`] : []),
    'subject:',
    ...(leaves.length ? subjectRules(leaves) : ['  - { type: CN, presence: required }']),
    'san:',
    `  required: ${leaves.length > 0 && leaves.every((c) => c.sans.length > 0)}`,
    '  fromCsr: true',
    ...(dns.length ? [`  dns: ${list(dns)}`] : []),
    ...(ips.length ? [`  ip: ${list(ips)}`] : []),
    ...(emails.length ? [`  email: ${list(emails)}`] : []),
    '  max: 20',
    '',
  ];
  return { caProfile: o.profileName, signatureAlgorithm, files: [{ name: `${o.profileName}.yaml`, text: ca.join('\n') }, { name: `${leafName}.yaml`, text: leaf.join('\n') }] };
}
