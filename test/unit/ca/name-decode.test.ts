/**
 * decodeName reads UTF8String / PrintableString / IA5String names on the strict DER reader and
 * leaves every other shape to asn1-x509; both must give what asn1-x509's Name parse gives
 * (AttributeValue.toString), including invalid UTF-8 (kept octet by octet), a BOM, empty values,
 * multi-valued RDNs, unknown attribute types, and the string types it does not read itself.
 * encodeName writes DER directly: the bytes of the asn1-x509 Name it replaced.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import { concatBytes } from '../../../src/common/hex.js';
import { encodeOid, encodeTlv } from '../../../src/common/der.js';
import { decodeName, encodeName } from '../../../src/ca/x509/name.js';
import { nameString } from '../../../src/ca/x509/name-string.js';
import { rdnShortName } from '../../../src/ca/x509/oids.js';
import { requireRdnStringType } from '../../../src/ca/x509/string-types.js';
import { rdnOid, type NameAttribute } from '../../../src/ca/x509/name.js';

function reference(der: Uint8Array): { type: string; value: string }[] {
  const out: { type: string; value: string }[] = [];
  for (const rdn of AsnConvert.parse(der, Name)) for (const atv of rdn) out.push({ type: rdnShortName(atv.type) ?? atv.type, value: atv.value.toString() });
  return out;
}

const atv = (oid: string, tag: number, v: Uint8Array) => encodeTlv(0x30, concatBytes(encodeTlv(0x06, encodeOid(oid)), encodeTlv(tag, v)));
const rdn = (...atvs: Uint8Array[]) => encodeTlv(0x31, concatBytes(...atvs));
const name = (...rdns: Uint8Array[]) => encodeTlv(0x30, concatBytes(...rdns));
const b = (s: string, enc: BufferEncoding = 'utf8') => new Uint8Array(Buffer.from(s, enc));

test('decodeName equals the asn1-x509 decoding on every string type and edge', () => {
  const CN = '2.5.4.3';
  const cases: Uint8Array[] = [
    encodeName([{ type: 'C', value: 'DE' }, { type: 'O', value: 'Example GmbH' }, { type: 'CN', value: 'host.example.test' }]),
    encodeName([{ type: 'CN', value: 'Müller Straße ✓' }, { type: 'emailAddress', value: 'a@example.test' }, { type: 'DC', value: 'example' }]),
    name(rdn(atv(CN, 0x0c, Uint8Array.of(0xc3, 0x28, 0x41)))), // invalid UTF-8
    name(rdn(atv(CN, 0x0c, Uint8Array.of(0xef, 0xbb, 0xbf, 0x41)))), // BOM kept
    name(rdn(atv(CN, 0x0c, new Uint8Array()), atv('2.5.4.10', 0x13, new Uint8Array()), atv('2.5.4.11', 0x16, new Uint8Array()))),
    name(rdn(atv(CN, 0x13, b('a+b')), atv('2.5.4.10', 0x0c, b('o'))), rdn(atv('1.2.3.4.5', 0x16, b('x\u00e9', 'latin1')))),
    name(rdn(atv(CN, 0x14, b('teletex', 'latin1')))),
    name(rdn(atv(CN, 0x1e, Uint8Array.of(0x00, 0x41, 0x04, 0x1f)))), // BMPString
    name(rdn(atv(CN, 0x1c, Uint8Array.of(0, 0, 0, 0x41)))), // UniversalString
    name(rdn(atv(CN, 0x04, Uint8Array.of(1, 2, 3)))), // not a string: anyValue
    name(),
  ];
  for (const der of cases) assert.deepEqual(decodeName(der), reference(der), Buffer.from(der).toString('hex'));
  // nameString (RFC 4514, for `ca status` and the export READMEs) reads the same strict path and
  // falls back to asn1-x509 for the other types: the string of the asn1-x509 one it replaced.
  const escaped = name(rdn(atv(CN, 0x0c, b(' #a,b+c"d\\e<f>g;h=i '))), rdn(atv('2.5.4.6', 0x13, b('DE')), atv('2.5.4.10', 0x0c, b('O'))));
  for (const der of [...cases, escaped]) assert.equal(nameString(der), referenceNameString(der), Buffer.from(der).toString('hex'));
  assert.equal(nameString(escaped), 'C=DE+O=O,CN=\\ #a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h\\=i\\ ');
});

/** The asn1-x509 nameString that src/ca/x509/name-string.ts replaced (chain-describe.ts, main 834ad75). */
function referenceNameString(der: Uint8Array): string {
  const ATTR: Record<string, string> = { '2.5.4.3': 'CN', '2.5.4.5': 'serialNumber', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU', '0.9.2342.19200300.100.1.25': 'DC', '1.2.840.113549.1.9.1': 'emailAddress' };
  return [...AsnConvert.parse(der, Name)]
    .reverse()
    .map((r) => [...r].map((a) => `${ATTR[a.type] ?? a.type}=${a.value.toString().replace(/([,+"\\<>;=])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ')}`).join('+'))
    .join(',');
}

/** The asn1-x509 encodeName that src/ca/x509/name.ts replaced (main 8384aae). */
function referenceEncode(attrs: readonly NameAttribute[]): Uint8Array {
  const rdns = attrs.map((a) => {
    const oid = rdnOid(a.type);
    const type = requireRdnStringType(rdnShortName(oid) ?? oid, a.value);
    const value = type === 'printableString' ? new AttributeValue({ printableString: a.value }) : type === 'ia5String' ? new AttributeValue({ ia5String: a.value }) : new AttributeValue({ utf8String: a.value });
    return new RelativeDistinguishedName([new AttributeTypeAndValue({ type: oid, value })]);
  });
  return new Uint8Array(AsnConvert.serialize(new Name(rdns)));
}

test('encodeName gives the asn1-x509 bytes', () => {
  const names: NameAttribute[][] = [
    [{ type: 'CN', value: 'host.example.test' }],
    [{ type: 'C', value: 'DE' }, { type: 'ST', value: 'Bayern' }, { type: 'L', value: 'München' }, { type: 'O', value: "Example & Co. (Test) 'x'" }, { type: 'OU', value: 'a/b' }, { type: 'CN', value: 'Ünïcode ✓ 𝄞' }],
    [{ type: 'emailAddress', value: 'a@example.test' }, { type: 'DC', value: 'example' }, { type: 'DC', value: 'test' }, { type: 'UID', value: 'jdoe' }, { type: 'serialNumber', value: '12345' }],
    [{ type: '1.2.3.4.5', value: 'x'.repeat(200) }],
    [],
  ];
  for (const n of names) assert.equal(Buffer.from(encodeName(n)).toString('hex'), Buffer.from(referenceEncode(n)).toString('hex'), JSON.stringify(n));
  assert.throws(() => encodeName([{ type: 'CN', value: 'a\ud800b' }]));
  assert.throws(() => referenceEncode([{ type: 'CN', value: 'a\ud800b' }]));
});
