import { AsnConvert } from '@peculiar/asn1-schema';
import { Name } from '@peculiar/asn1-x509';
import { concatBytes } from '../../common/hex.js';
import { encodeOid, encodeTlv } from './der.js';
import { simpleNameRdns } from './name-string.js';
import { RDN_OIDS, rdnShortName } from './oids.js';
import { requireRdnStringType } from './string-types.js';

/** One attribute of a distinguished name, in RDN order (one attribute per RDN). */
export interface NameAttribute {
  /** Short name (`C`, `O`, `OU`, `CN`, …) or a dotted OID. */
  readonly type: string;
  readonly value: string;
}

export function rdnOid(type: string): string {
  const oid = RDN_OIDS[type];
  if (oid) return oid;
  if (/^\d+(\.\d+)+$/.test(type)) return type;
  throw new TypeError(`unknown RDN attribute type ${JSON.stringify(type)}`);
}

/**
 * Encode a Name. The string type of each value is decided by string-types.ts from the attribute
 * and the content (PrintableString only for its character set, IA5String only for ASCII,
 * otherwise UTF8String); a value its attribute cannot hold throws `PolicyError` (`POLICY_SUBJECT_…`).
 */
export function encodeName(attrs: readonly NameAttribute[]): Uint8Array {
  // DER written directly (Name ::= SEQUENCE OF SET OF SEQUENCE { OID, value }, one attribute per
  // RDN): the content decision encodes a subject for every certificate of a batch. Byte-identical
  // to the asn1-x509 Name it replaced (test/unit/ca/name-decode.test.ts).
  const rdns = attrs.map((a) => {
    const oid = rdnOid(a.type);
    const short = rdnShortName(oid) ?? oid;
    const type = requireRdnStringType(short, a.value);
    let v: Uint8Array;
    if (type === 'utf8String') {
      // asn1js refuses to encode a lone surrogate; Buffer would write U+FFFD instead.
      if (LONE_SURROGATE.test(a.value)) throw new TypeError('The string contains lone surrogates and cannot be encoded as UTF-8');
      v = encodeTlv(0x0c, new Uint8Array(Buffer.from(a.value, 'utf8')));
    } else v = encodeTlv(type === 'printableString' ? 0x13 : 0x16, new Uint8Array(Buffer.from(a.value, 'latin1')));
    return encodeTlv(0x31, encodeTlv(0x30, concatBytes(encodeTlv(0x06, encodeOid(oid)), v)));
  });
  return encodeTlv(0x30, concatBytes(...rdns));
}

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * The strict-reader decoding (name-string.ts simpleNameRdns) flattened into attributes, the same
 * asn1-x509 gives — decodeName runs for every CSR and twice in every certificate lint. Undefined
 * for any other shape, which the asn1-schema path decodes.
 */
function decodeSimpleName(der: Uint8Array): NameAttribute[] | undefined {
  return simpleNameRdns(der)?.flatMap((rdn) => rdn.map((a) => ({ type: rdnShortName(a.oid) ?? a.oid, value: a.text })));
}

/** Decode a Name into attributes (multi-valued RDNs are flattened in order). */
export function decodeName(der: Uint8Array): NameAttribute[] {
  const simple = decodeSimpleName(der);
  if (simple) return simple;
  const name = AsnConvert.parse(der, Name);
  const out: NameAttribute[] = [];
  for (const rdn of name) {
    for (const atv of rdn) {
      out.push({ type: rdnShortName(atv.type) ?? atv.type, value: atv.value.toString() });
    }
  }
  return out;
}

/** `C=DE, O=Example, CN=x` style rendering for messages (not for comparisons). */
export function formatName(attrs: readonly NameAttribute[]): string {
  return attrs.map((a) => `${a.type}=${a.value}`).join(', ');
}
