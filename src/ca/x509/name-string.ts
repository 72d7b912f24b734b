import { createRequire } from 'node:module';
import { children, decodeOid, readSingle, value } from './der.js';

/** Short names of RFC 4514 §3 plus the usual extras (RFC 4519, PKCS#9). */
const ATTR_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** asn1js reads UTF8String strictly and keeps the octets as one char each when that fails. */
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** One AttributeTypeAndValue: the type's OID and the value's text. */
export interface SimpleAtv {
  readonly oid: string;
  readonly text: string;
}

/**
 * A Name's RDNs on the strict reader when every value is a UTF8String, PrintableString or
 * IA5String (what cardca writes and what CSRs carry): the text is what asn1-x509's
 * AttributeValue.toString() gives for those types (test/unit/ca/name-decode.test.ts). Undefined
 * for any other shape, which the callers decode through asn1-x509.
 */
export function simpleNameRdns(der: Uint8Array): SimpleAtv[][] | undefined {
  try {
    const top = readSingle(der);
    if (top.tag !== 0x30) return undefined;
    const out: SimpleAtv[][] = [];
    for (const rdn of children(der, top)) {
      if (rdn.tag !== 0x31) return undefined;
      const atvs: SimpleAtv[] = [];
      for (const atv of children(der, rdn)) {
        const f = atv.tag === 0x30 ? children(der, atv) : [];
        if (f.length !== 2 || f[0]!.tag !== 0x06) return undefined;
        const v = value(der, f[1]!);
        let text: string;
        if (f[1]!.tag === 0x13 || f[1]!.tag === 0x16) text = Buffer.from(v).toString('latin1');
        else if (f[1]!.tag === 0x0c) {
          try {
            text = utf8Strict.decode(v);
          } catch {
            text = Buffer.from(v).toString('latin1');
          }
        } else return undefined;
        atvs.push({ oid: decodeOid(value(der, f[0]!)), text });
      }
      out.push(atvs);
    }
    return out;
  } catch {
    return undefined;
  }
}

/**
 * RFC 4514 string (last RDN first), with §2.4 escaping. For display only, never compared. Names
 * of other string types go through asn1-x509, loaded only then: imported statically it cost
 * `ca status`, which shows its CAs' subjects, about 30 ms of module loading and parsing
 * (docs/benchmarks.md).
 */
export function nameString(nameDer: Uint8Array): string {
  const rdns = simpleNameRdns(nameDer) ?? asn1NameRdns(nameDer);
  return [...rdns]
    .reverse()
    .map((rdn) =>
      rdn
        .map((atv) => {
          const v = atv.text.replace(/([,+"\\<>;=])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
          return `${ATTR_NAMES[atv.oid] ?? atv.oid}=${v}`;
        })
        .join('+'),
    )
    .join(',');
}

function asn1NameRdns(der: Uint8Array): SimpleAtv[][] {
  const require = createRequire(import.meta.url);
  const { AsnConvert } = require('@peculiar/asn1-schema') as typeof import('@peculiar/asn1-schema');
  const { Name } = require('@peculiar/asn1-x509') as typeof import('@peculiar/asn1-x509');
  return [...AsnConvert.parse(der, Name)].map((rdn) => [...rdn].map((atv) => ({ oid: atv.type, text: atv.value.toString() })));
}
