/**
 * The certificate-path extension encoders (src/ca/x509/extensions.ts) write DER directly; they
 * must give exactly the bytes of the asn1-x509 classes they replaced, for every input shape a
 * profile and a CSR can produce. A difference changes every certificate's TBS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AccessDescription,
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  CRLDistributionPoints,
  DistributionPoint,
  DistributionPointName,
  ExtendedKeyUsage,
  GeneralName,
  KeyIdentifier,
  SubjectAlternativeName,
} from '@peculiar/asn1-x509';
import {
  authorityInfoAccessExtension,
  authorityKeyIdentifierExtension,
  basicConstraintsExtension,
  crlDistributionPointsExtension,
  extendedKeyUsageExtension,
  generalNameOf,
  subjectAltNameExtension,
  subjectKeyIdentifierExtension,
  type SanEntry,
} from '../../../src/ca/x509/extensions.js';
import { EKU_OIDS, id_ad_caIssuers } from '../../../src/ca/x509/oids.js';

const ser = (v: unknown): Uint8Array => new Uint8Array(AsnConvert.serialize(v));
const ab = (b: Uint8Array): ArrayBuffer => b.slice().buffer as ArrayBuffer;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('basicConstraints, EKU, SKI, AKI: the asn1-x509 bytes', () => {
  for (const [ca, pathLen] of [[false, undefined], [true, undefined], [true, 0], [true, 1], [true, 127], [true, 128], [true, 255], [true, 65536], [false, 3]] as const) {
    const bc = new BasicConstraints({ cA: ca });
    if (ca && pathLen !== undefined) bc.pathLenConstraint = pathLen;
    assert.equal(hex(basicConstraintsExtension(ca, pathLen, true).value), hex(ser(bc)), `cA ${ca} pathLen ${pathLen}`);
  }
  const ekus = [[EKU_OIDS['serverAuth']!], Object.values(EKU_OIDS), ['2.5.29.37.0'], ['1.3.6.1.4.1.311.20.2.2', '2.999.1234567']];
  for (const e of ekus) assert.equal(hex(extendedKeyUsageExtension(e, false).value), hex(ser(new ExtendedKeyUsage([...e]))));
  for (const n of [1, 20, 32, 127, 128, 200]) {
    const id = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);
    assert.equal(hex(subjectKeyIdentifierExtension(id).value), hex(ser(new KeyIdentifier(ab(id)))));
    assert.equal(hex(authorityKeyIdentifierExtension(id).value), hex(ser(new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(ab(id)) }))));
  }
});

test('subjectAltName, CRL distribution points, authority info access: the asn1-x509 bytes', () => {
  const sans: SanEntry[][] = [
    [{ type: 'dns', value: 'host.example.test' }],
    [
      { type: 'dns', value: '*.example.test' },
      { type: 'ip', value: '10.0.0.1' },
      { type: 'ip', value: '2001:db8::1' },
      { type: 'ip', value: '::1' },
      { type: 'email', value: 'a@example.test' },
      { type: 'uri', value: 'https://example.test/a?b=c' },
    ],
    Array.from({ length: 40 }, (_, i) => ({ type: 'dns' as const, value: `host-${i}.a-rather-long-subdomain.example.test` })),
  ];
  for (const s of sans) assert.equal(hex(subjectAltNameExtension(s, false).value), hex(ser(new SubjectAlternativeName(s.map(generalNameOf)))));
  const uriSets = [['http://crl.example.test/servers.crl'], ['http://a.example.test/x.crl', 'ldap://b.example.test/cn=x?certificateRevocationList'], [`http://${'x'.repeat(300)}.test/c.crl`]];
  for (const uris of uriSets) {
    const dp = new DistributionPoint({ distributionPoint: new DistributionPointName({ fullName: uris.map((u) => new GeneralName({ uniformResourceIdentifier: u })) }) });
    assert.equal(hex(crlDistributionPointsExtension(uris).value), hex(ser(new CRLDistributionPoints([dp]))));
    const ads = uris.map((u) => new AccessDescription({ accessMethod: id_ad_caIssuers, accessLocation: new GeneralName({ uniformResourceIdentifier: u }) }));
    assert.equal(hex(authorityInfoAccessExtension(uris).value), hex(ser(new AuthorityInfoAccessSyntax(ads))));
  }
});

test('an IP SAN that is not an address is refused, not encoded', () => {
  assert.throws(() => subjectAltNameExtension([{ type: 'ip', value: '10.0.0' }], false), TypeError);
});
