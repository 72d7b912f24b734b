import { AsnConvert } from '@peculiar/asn1-schema';
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';
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
  const rdns = attrs.map((a) => {
    const oid = rdnOid(a.type);
    const short = rdnShortName(oid) ?? oid;
    const type = requireRdnStringType(short, a.value);
    const value =
      type === 'printableString'
        ? new AttributeValue({ printableString: a.value })
        : type === 'ia5String'
          ? new AttributeValue({ ia5String: a.value })
          : new AttributeValue({ utf8String: a.value });
    return new RelativeDistinguishedName([new AttributeTypeAndValue({ type: oid, value })]);
  });
  return new Uint8Array(AsnConvert.serialize(new Name(rdns)));
}

/** Decode a Name into attributes (multi-valued RDNs are flattened in order). */
export function decodeName(der: Uint8Array): NameAttribute[] {
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
