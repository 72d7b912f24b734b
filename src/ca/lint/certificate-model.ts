import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  CRLDistributionPoints,
  ExtendedKeyUsage,
  NameConstraints,
  SubjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { bytesEqual, toHex } from '../../common/hex.js';
import { children, decodeOid, readSingle, slice, value, walkDer, type Tlv } from '../x509/der.js';
import { OTHER_GENERAL_NAMES } from '../x509/extensions.js';
import { ipText } from '../x509/ip-address.js';
import { KEY_USAGE_BITS, id_ce, id_pe_authorityInfoAccess } from '../x509/oids.js';
import { OID } from '../../crypto/algorithms.js';
import type { KeyPolicy } from '../csr/key-policy.js';

export interface CertificateLintContext {
  /** Signing time (the injected clock). */
  readonly now: Date;
  /** The issuing CA; absent when the certificate is meant to be self-signed. */
  readonly issuer?: { readonly subjectName: Uint8Array; readonly ski: Uint8Array; readonly notAfter: Date };
  /** The issuing CA's certificate and those above it (DER), for the chain's name constraints. */
  readonly issuerChain?: readonly Uint8Array[];
  /** Key policy applied to the subject key (default DEFAULT_KEY_POLICY). */
  readonly keyPolicy?: KeyPolicy;
}

export interface RawExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** The DEFAULT FALSE was encoded explicitly (a DER violation, X.690 §11.5). */
  readonly criticalFalseEncoded: boolean;
  readonly value: Uint8Array;
}

/** A TBSCertificate taken apart for the lint rules: raw slices for byte checks, decoded extensions. */
export interface CertificateModel {
  readonly tbs: Uint8Array;
  readonly ctx: CertificateLintContext;
  /** 0 = v1 … 2 = v3; undefined if the version field is absent (v1 default). */
  readonly version: number | undefined;
  readonly serial: Uint8Array;
  readonly signatureAlgorithm: Uint8Array;
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly notBeforeTlv: Tlv;
  readonly notAfterTlv: Tlv;
  readonly spki: Uint8Array;
  readonly spkiAlgorithm: string;
  readonly hasUniqueIds: boolean;
  readonly extensions: readonly RawExtension[];
  ext(oid: string): RawExtension | undefined;
  readonly selfIssued: boolean;
  readonly basicConstraints?: BasicConstraints;
  readonly isCa: boolean;
  /** Set KeyUsage bit names, undefined if no KU extension. */
  readonly keyUsage?: ReadonlySet<string>;
  readonly eku?: readonly string[];
  readonly ski?: Uint8Array;
  readonly aki?: AuthorityKeyIdentifier;
  readonly san?: readonly SanName[];
  readonly nameConstraints?: NameConstraints;
  readonly crlDp?: CRLDistributionPoints;
  readonly aia?: AuthorityInfoAccessSyntax;
  /** Extensions whose value did not decode, by OID. */
  readonly undecodable: readonly string[];
}

/**
 * One GeneralName of a subjectAltName as the SAN rules read it (RFC 5280 §4.2.1.6): exactly one
 * field set. The same field names and texts as the asn1-x509 GeneralName the model held before
 * (IA5String octets one character each; an address as dotted IPv4 / RFC 5952 IPv6).
 */
export interface SanName {
  readonly dNSName?: string;
  readonly rfc822Name?: string;
  /** The address as text; for a length other than 4 or 16 octets, its octets in hex. */
  readonly iPAddress?: string;
  /** Octets of the iPAddress (a SAN address is 4 or 16, RFC 5280 §4.2.1.6). */
  readonly ipLength?: number;
  readonly uniformResourceIdentifier?: string;
  /** The ASN.1 name of any other kind (otherName, directoryName, …). */
  readonly other?: string;
}

/**
 * subjectAltName value → its names, on the strict reader (every TLV walked: definite minimal
 * lengths, children filling their parent, no trailing byte). It runs for every certificate of a
 * batch (SANs differ), where the asn1-schema parse of `GeneralNames` it replaces was the largest
 * part of the TBS lint's model (docs/benchmarks.md "Batches, fourth pass"). A tag outside the
 * GeneralName CHOICE, or a SEQUENCE that is not one, makes the extension undecodable, as before.
 */
export function decodeSubjectAltName(v: Uint8Array): SanName[] {
  const top = readSingle(v);
  walkDer(v, top);
  if (top.tag !== 0x30) throw new Error('subjectAltName is not a SEQUENCE');
  return children(v, top).map((gn): SanName => {
    const c = value(v, gn);
    const ia5 = (): string => Buffer.from(c.buffer, c.byteOffset, c.length).toString('latin1');
    switch (gn.tag) {
      case 0x81:
        return { rfc822Name: ia5() };
      case 0x82:
        return { dNSName: ia5() };
      case 0x86:
        return { uniformResourceIdentifier: ia5() };
      case 0x87:
        return { iPAddress: c.length === 4 || c.length === 16 ? ipText(c) : Buffer.from(c).toString('hex'), ipLength: c.length };
      default: {
        const other = OTHER_GENERAL_NAMES[gn.tag];
        if (other === undefined) throw new Error(`subjectAltName has a GeneralName of tag 0x${gn.tag.toString(16)}`);
        return { other };
      }
    }
  });
}

/** OID content octets → dotted string: the one decoder (common/der.ts) under the name the lint modules use. */
export const decodeOidContent = decodeOid;

/** Parse `Extensions ::= SEQUENCE OF Extension` from raw DER (shared with the CRL model). */
export function parseExtensionList(buf: Uint8Array, seq: Tlv): RawExtension[] {
  return children(buf, seq).map((e) => {
    const f = children(buf, e);
    const oid = decodeOidContent(value(buf, f[0]!));
    let critical = false;
    let criticalFalseEncoded = false;
    let vi = 1;
    if (f[1]?.tag === 0x01) {
      critical = value(buf, f[1]).some((b) => b !== 0);
      criticalFalseEncoded = !critical;
      vi = 2;
    }
    const v = f[vi];
    if (!v || v.tag !== 0x04) throw new Error(`extension ${oid} has no OCTET STRING value`);
    return { oid, critical, criticalFalseEncoded, value: value(buf, v) };
  });
}

/** KeyUsage BIT STRING → set of names (RFC 5280 §4.2.1.3). */
export function decodeKeyUsage(der: Uint8Array): Set<string> {
  const t = readSingle(der);
  const c = value(der, t);
  const out = new Set<string>();
  for (const [name, bit] of Object.entries(KEY_USAGE_BITS)) {
    const byte = 1 + Math.floor(bit / 8);
    if (byte < c.length && c[byte]! & (0x80 >> bit % 8)) out.add(name);
  }
  return out;
}

/**
 * Decoded extension values by class and exact bytes. A batch lints every certificate of one
 * issuer and profile, whose AKI, CDP, AIA, EKU and basicConstraints are the same bytes each time;
 * decoding them once saves most of the model's asn1-schema time. The decoded objects are only
 * read by the rules (never changed), and the key is the full value, so a hit is the same decode.
 * Bounded: cleared when full (SANs differ per certificate).
 */
const decoded = new Map<string, unknown>();
const DECODED_MAX = 512;

function decodeCached<T>(v: Uint8Array, cls: new () => T): T {
  const key = `${cls.name}:${toHex(v)}`;
  if (decoded.has(key)) return decoded.get(key) as T;
  const r = AsnConvert.parse(v, cls);
  if (decoded.size >= DECODED_MAX) decoded.clear();
  decoded.set(key, r);
  return r;
}

/** SubjectPublicKeyInfo ::= SEQUENCE { algorithm SEQUENCE { OID, … }, BIT STRING }: the algorithm OID. */
function spkiAlgorithmOid(spki: Uint8Array): string {
  const [alg] = children(spki, readSingle(spki));
  const oid = alg && alg.tag === 0x30 ? children(spki, alg)[0] : undefined;
  if (!oid || oid.tag !== 0x06) throw new Error('SubjectPublicKeyInfo has no algorithm OID');
  return decodeOidContent(value(spki, oid));
}

export function certificateModel(tbs: Uint8Array, ctx: CertificateLintContext): CertificateModel {
  const top = readSingle(tbs);
  const f = children(tbs, top);
  let i = 0;
  let version: number | undefined;
  if (f[0]?.tag === 0xa0) {
    const inner = children(tbs, f[0])[0]!;
    version = Number(value(tbs, inner)[0] ?? 0);
    i = 1;
  }
  const [serialT, sigT, issuerT, validityT, subjectT, spkiT] = f.slice(i, i + 6);
  if (!spkiT) throw new Error('TBSCertificate has too few fields');
  const rest = f.slice(i + 6);
  const validity = children(tbs, validityT!);
  const extT = rest.find((t) => t.tag === 0xa3);
  const extensions = extT ? parseExtensionList(tbs, children(tbs, extT)[0]!) : [];
  const ext = (oid: string) => extensions.find((e) => e.oid === oid);
  const undecodable: string[] = [];
  /** The extension's value through `decode`, or undefined; one that does not decode is listed in `undecodable`. */
  const decodeWith = <T>(oid: string, decode: (v: Uint8Array) => T): T | undefined => {
    const e = ext(oid);
    if (!e) return undefined;
    try {
      return decode(e.value);
    } catch {
      undecodable.push(oid);
      return undefined;
    }
  };
  const dec = <T>(oid: string, cls: new () => T): T | undefined => decodeWith(oid, (v) => decodeCached(v, cls));
  const basicConstraints = dec(id_ce.basicConstraints, BasicConstraints);
  const keyUsage = decodeWith(id_ce.keyUsage, decodeKeyUsage);
  const ekuV = dec(id_ce.extKeyUsage, ExtendedKeyUsage);
  const skiV = dec(id_ce.subjectKeyIdentifier, SubjectKeyIdentifier);
  const spki = slice(tbs, spkiT);
  const issuer = slice(tbs, issuerT!);
  const subject = slice(tbs, subjectT!);
  const model: CertificateModel = {
    tbs,
    ctx,
    version,
    serial: value(tbs, serialT!),
    signatureAlgorithm: slice(tbs, sigT!),
    issuer,
    subject,
    notBeforeTlv: validity[0]!,
    notAfterTlv: validity[1]!,
    spki,
    spkiAlgorithm: spkiAlgorithmOid(spki),
    hasUniqueIds: rest.some((t) => t.tag === 0x81 || t.tag === 0xa1 || t.tag === 0x82 || t.tag === 0xa2),
    extensions,
    ext,
    selfIssued: bytesEqual(issuer, subject),
    isCa: basicConstraints?.cA === true,
    undecodable,
    ...(basicConstraints ? { basicConstraints } : {}),
    ...(keyUsage ? { keyUsage } : {}),
    ...(ekuV ? { eku: [...ekuV] } : {}),
    ...(skiV ? { ski: new Uint8Array(skiV.buffer) } : {}),
  };
  const aki = dec(id_ce.authorityKeyIdentifier, AuthorityKeyIdentifier);
  const san = decodeWith(id_ce.subjectAltName, decodeSubjectAltName);
  const nc = dec(id_ce.nameConstraints, NameConstraints);
  const crlDp = dec(id_ce.cRLDistributionPoints, CRLDistributionPoints);
  const aia = dec(id_pe_authorityInfoAccess, AuthorityInfoAccessSyntax);
  return {
    ...model,
    ...(aki ? { aki } : {}),
    ...(san ? { san } : {}),
    ...(nc ? { nameConstraints: nc } : {}),
    ...(crlDp ? { crlDp } : {}),
    ...(aia ? { aia } : {}),
  };
}

export const isEcKey = (m: CertificateModel) => m.spkiAlgorithm === OID.id_ecPublicKey;
export const isRsaKey = (m: CertificateModel) => m.spkiAlgorithm === OID.rsaEncryption;
