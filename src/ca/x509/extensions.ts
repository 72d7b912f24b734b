import { AsnConvert } from '@peculiar/asn1-schema';
import { GeneralName, GeneralSubtree, GeneralSubtrees, NameConstraints } from '@peculiar/asn1-x509';
import type { ExtensionInput } from '../cert/tbs-certificate-input.js';
import { concatBytes } from '../../common/hex.js';
import { ipToString, parseCidr, parseIp } from './ip-address.js';
import { encodeOid, encodeTlv } from './der.js';
import { encodeInteger } from './integer.js';
import { KEY_USAGE_BITS, type KeyUsageName, id_ad_caIssuers, id_ce, id_pe_authorityInfoAccess } from './oids.js';

/**
 * Encoders for the extensions a profile can produce (RFC 5280 §4.2). Each returns an
 * `ExtensionInput` ({oid, critical, value DER}); criticality is decided by the caller (profile)
 * and checked by lint.
 */
function ser(v: unknown): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(v));
}


/*
 * The encoders on the certificate path write DER directly (X.690 §10; encodeTlv, encodeOid) —
 * the content decision runs them for every certificate of a batch, and asn1-schema's
 * serialisation was most of its time. Byte-identical to the asn1-x509 classes they replaced
 * (differential test in test/unit/ca/extensions-der.test.ts). Name constraints (ceremonies
 * only) still go through asn1-x509.
 */
const seq = (...parts: Uint8Array[]): Uint8Array => encodeTlv(0x30, concatBytes(...parts));
/** IA5String content (RFC 5280 §4.2.1.6 names are ASCII; the SAN policy checked them). */
const ia5 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

export function basicConstraintsExtension(ca: boolean, pathLen: number | undefined, critical: boolean): ExtensionInput {
  // cA DEFAULT FALSE is omitted (X.690 §11.5); TRUE is FF (§11.1).
  const parts: Uint8Array[] = ca ? [Uint8Array.of(0x01, 0x01, 0xff)] : [];
  if (ca && pathLen !== undefined) parts.push(encodeInteger(BigInt(pathLen)));
  return { oid: id_ce.basicConstraints, critical, value: seq(...parts) };
}

/**
 * KeyUsage as a DER named-bit BIT STRING: X.690 §11.2.2 requires trailing zero bits to be
 * removed, and the unused-bits octet to count the padding in the last octet.
 */
export function encodeKeyUsageBits(usages: readonly KeyUsageName[]): Uint8Array {
  let highest = -1;
  const bits = new Set(usages.map((u) => KEY_USAGE_BITS[u]));
  for (const b of bits) highest = Math.max(highest, b);
  if (highest < 0) return encodeTlv(0x03, Uint8Array.of(0));
  const nBytes = Math.floor(highest / 8) + 1;
  const content = new Uint8Array(nBytes + 1);
  for (const b of bits) content[1 + Math.floor(b / 8)]! |= 0x80 >> b % 8;
  content[0] = nBytes * 8 - 1 - highest;
  return encodeTlv(0x03, content);
}

export function keyUsageExtension(usages: readonly KeyUsageName[], critical: boolean): ExtensionInput {
  return { oid: id_ce.keyUsage, critical, value: encodeKeyUsageBits(usages) };
}

export function extendedKeyUsageExtension(oids: readonly string[], critical: boolean): ExtensionInput {
  return { oid: id_ce.extKeyUsage, critical, value: seq(...oids.map((o) => encodeTlv(0x06, encodeOid(o)))) };
}

export function subjectKeyIdentifierExtension(ski: Uint8Array): ExtensionInput {
  // RFC 5280 §4.2.1.2: MUST NOT be critical.
  return { oid: id_ce.subjectKeyIdentifier, critical: false, value: encodeTlv(0x04, ski) };
}

export function authorityKeyIdentifierExtension(keyId: Uint8Array): ExtensionInput {
  // RFC 5280 §4.2.1.1: keyIdentifier form only, MUST NOT be critical.
  return {
    oid: id_ce.authorityKeyIdentifier,
    critical: false,
    // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING, … }
    value: seq(encodeTlv(0x80, keyId)),
  };
}

export type SanEntry =
  | { readonly type: 'dns'; readonly value: string }
  | { readonly type: 'ip'; readonly value: string }
  | { readonly type: 'email'; readonly value: string }
  | { readonly type: 'uri'; readonly value: string };

export function generalNameOf(e: SanEntry): GeneralName {
  switch (e.type) {
    case 'dns':
      return new GeneralName({ dNSName: e.value });
    case 'ip':
      return new GeneralName({ iPAddress: e.value });
    case 'email':
      return new GeneralName({ rfc822Name: e.value });
    case 'uri':
      return new GeneralName({ uniformResourceIdentifier: e.value });
  }
}

/** One GeneralName (RFC 5280 §4.2.1.6), IMPLICIT tags: rfc822Name [1], dNSName [2], URI [6], iPAddress [7]. */
export function encodeGeneralName(e: SanEntry): Uint8Array {
  switch (e.type) {
    case 'dns':
      return encodeTlv(0x82, ia5(e.value));
    case 'email':
      return encodeTlv(0x81, ia5(e.value));
    case 'uri':
      return encodeTlv(0x86, ia5(e.value));
    case 'ip': {
      const b = parseIp(e.value);
      if (!b) throw new TypeError(`not an IP address: ${JSON.stringify(e.value)}`);
      return encodeTlv(0x87, b);
    }
  }
}

export function subjectAltNameExtension(entries: readonly SanEntry[], critical: boolean): ExtensionInput {
  return { oid: id_ce.subjectAltName, critical, value: seq(...entries.map(encodeGeneralName)) };
}

/** RFC 5280 §4.2.1.13 / BR 7.1.2.11.2: one DistributionPoint with fullName URIs, no reasons/cRLIssuer. */
export function crlDistributionPointsExtension(uris: readonly string[]): ExtensionInput {
  // DistributionPoint { distributionPoint [0] (a CHOICE: explicit) { fullName [0] IMPLICIT GeneralNames } }
  const fullName = encodeTlv(0xa0, concatBytes(...uris.map((u) => encodeTlv(0x86, ia5(u)))));
  return { oid: id_ce.cRLDistributionPoints, critical: false, value: seq(seq(encodeTlv(0xa0, fullName))) };
}

/** RFC 5280 §4.2.2.1: caIssuers URIs; MUST be non-critical. */
export function authorityInfoAccessExtension(caIssuers: readonly string[]): ExtensionInput {
  const method = encodeTlv(0x06, encodeOid(id_ad_caIssuers));
  const ads = caIssuers.map((u) => seq(method, encodeTlv(0x86, ia5(u))));
  return { oid: id_pe_authorityInfoAccess, critical: false, value: seq(...ads) };
}

export interface NameConstraintSet {
  /** DNS subtrees (RFC 5280 §4.2.1.10: `example.com` or `.example.com`). */
  readonly dns: readonly string[];
  /** IP subtrees as CIDR (`10.0.0.0/8`, `fd00::/8`). */
  readonly ip: readonly string[];
  /** rfc822 subtrees: mailbox, host, or `.domain`. */
  readonly email: readonly string[];
}

/** Encode an IP subtree: address followed by mask (RFC 5280 §4.2.1.10), 8 or 32 octets. */
export function cidrToNameConstraintOctets(cidr: string): Uint8Array {
  const { bytes, prefix } = parseCidr(cidr);
  const mask = new Uint8Array(bytes.length);
  for (let i = 0; i < prefix; i++) mask[i >> 3]! |= 0x80 >> (i & 7);
  const out = new Uint8Array(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i]! & mask[i]!;
  out.set(mask, bytes.length);
  return out;
}

function subtrees(set: NameConstraintSet): GeneralSubtrees | undefined {
  const items: GeneralSubtree[] = [];
  for (const d of set.dns) items.push(new GeneralSubtree({ base: new GeneralName({ dNSName: d }) }));
  for (const c of set.ip) items.push(new GeneralSubtree({ base: new GeneralName({ iPAddress: normaliseCidr(c) }) }));
  for (const e of set.email) items.push(new GeneralSubtree({ base: new GeneralName({ rfc822Name: e }) }));
  return items.length ? new GeneralSubtrees(items) : undefined;
}

/**
 * `addr/prefix` with host bits cleared: the subtree is address‖mask (RFC 5280 §4.2.1.10), and
 * asn1-x509's IP converter encodes the string as given, so the address must already be masked.
 */
export function normaliseCidr(cidr: string): string {
  const { bytes, prefix } = parseCidr(cidr);
  const octets = cidrToNameConstraintOctets(cidr);
  return `${ipToString(octets.subarray(0, bytes.length))}/${prefix}`;
}

export function nameConstraintsExtension(
  permitted: NameConstraintSet | undefined,
  excluded: NameConstraintSet | undefined,
  critical: boolean,
): ExtensionInput {
  const nc = new NameConstraints();
  const p = permitted && subtrees(permitted);
  const x = excluded && subtrees(excluded);
  if (p) nc.permittedSubtrees = p;
  if (x) nc.excludedSubtrees = x;
  return { oid: id_ce.nameConstraints, critical, value: ser(nc) };
}

/**
 * GeneralName CHOICE tags (RFC 5280 §4.2.1.6) of the kinds this CA never issues, by their ASN.1
 * names (the CSR parser names what it ignores, the lint model what it refuses).
 */
export const OTHER_GENERAL_NAMES: Readonly<Record<number, string>> = { 0xa0: 'otherName', 0xa3: 'x400Address', 0xa4: 'directoryName', 0xa5: 'ediPartyName', 0x88: 'registeredID' };
