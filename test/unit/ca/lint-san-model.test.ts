/**
 * The TBS lint reads the subjectAltName on the strict DER reader (certificate-model.ts
 * `decodeSubjectAltName`) instead of the asn1-x509 `GeneralNames` parse: the SAN rules must see
 * the same names and texts as before, and every value the old parse refused stays refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsnConvert } from '@peculiar/asn1-schema';
import { GeneralName, GeneralNames, SubjectAlternativeName } from '@peculiar/asn1-x509';
import { decodeSubjectAltName } from '../../../src/ca/lint/certificate-model.js';
import { subjectAltNameExtension, type SanEntry } from '../../../src/ca/x509/extensions.js';

const ser = (v: unknown): Uint8Array => new Uint8Array(AsnConvert.serialize(v));

/** The fields the SAN rules read, from the asn1-x509 parse the model used before. */
function viaSchema(der: Uint8Array): Record<string, string>[] {
  return [...AsnConvert.parse(der, GeneralNames)].map((n) => {
    for (const k of ['dNSName', 'rfc822Name', 'iPAddress', 'uniformResourceIdentifier'] as const) if (n[k] !== undefined) return { [k]: n[k] };
    return { other: '?' };
  });
}

function viaStrict(der: Uint8Array): Record<string, string>[] {
  return decodeSubjectAltName(der).map((n) => {
    const { ipLength: _l, other, ...rest } = n;
    return other !== undefined ? { other: '?' } : (rest as Record<string, string>);
  });
}

const SHAPES: SanEntry[][] = [
  [{ type: 'dns', value: 'web.example.test' }],
  [{ type: 'dns', value: 'a.example.test' }, { type: 'dns', value: '*.b.example.test' }, { type: 'ip', value: '192.0.2.7' }],
  [{ type: 'ip', value: '2001:db8::1' }, { type: 'ip', value: 'fd00:0:0:1::' }, { type: 'ip', value: '::1' }, { type: 'ip', value: '2001:db8:0:0:1:0:0:1' }],
  [{ type: 'email', value: 'ops@example.test' }, { type: 'uri', value: 'http://x.example.test/' }],
];

test('the strict SAN decoder gives the asn1-x509 names and texts for every SAN shape the CA writes', () => {
  for (const sans of SHAPES) {
    const der = subjectAltNameExtension(sans, false).value;
    assert.deepEqual(viaStrict(der), viaSchema(der), JSON.stringify(sans));
  }
  // Other GeneralName kinds are named, never mistaken for a DNS/IP/email name.
  const dir = ser(new SubjectAlternativeName([new GeneralName({ registeredID: '1.2.3.4' }), new GeneralName({ dNSName: 'x.example.test' })]));
  assert.deepEqual(decodeSubjectAltName(dir), [{ other: 'registeredID' }, { dNSName: 'x.example.test' }]);
});

test('an iPAddress of a length other than 4 or 16 octets is kept with its length (e_san_ip_bad_length)', () => {
  const der = Uint8Array.of(0x30, 0x07, 0x87, 0x05, 10, 0, 0, 0, 8);
  assert.deepEqual(decodeSubjectAltName(der), [{ iPAddress: '0a00000008', ipLength: 5 }]);
  const cidr = ser(new SubjectAlternativeName([new GeneralName({ iPAddress: '10.0.0.0/8' })]));
  assert.equal(decodeSubjectAltName(cidr)[0]!.ipLength, 8);
});

test('values the old parse refused are refused, and BER the old parse let through too', () => {
  const bad: [string, Uint8Array][] = [
    ['not a SEQUENCE', Uint8Array.of(0x31, 0x04, 0x82, 0x02, 0x61, 0x62)],
    ['unknown GeneralName tag', Uint8Array.of(0x30, 0x04, 0x89, 0x02, 0x61, 0x62)],
    ['truncated', Uint8Array.of(0x30, 0x05, 0x82, 0x02, 0x61, 0x62)],
    ['trailing byte', Uint8Array.of(0x30, 0x04, 0x82, 0x02, 0x61, 0x62, 0x00)],
    ['non-minimal length', Uint8Array.of(0x30, 0x81, 0x04, 0x82, 0x02, 0x61, 0x62)],
    ['indefinite length', Uint8Array.of(0x30, 0x80, 0x82, 0x02, 0x61, 0x62, 0x00, 0x00)],
  ];
  for (const [what, der] of bad) assert.throws(() => decodeSubjectAltName(der), Error, what);
});
