import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsnConvert, BitString, OctetString } from '@peculiar/asn1-schema';
import { PrivateKeyType } from '../../../src/card/pkcs15/schema/private-key.js';
import { TokenInfo } from '../../../src/card/pkcs15/schema/token-info.js';
import { PinAttributes, PinFlags, PinObject } from '../../../src/card/pkcs15/schema/auth-object.js';
import { OdfEntry } from '../../../src/card/pkcs15/schema/odf.js';
import { CertificateType, X509CertificateAttributes, X509CertificateObject } from '../../../src/card/pkcs15/schema/certificate.js';
import { CommonAuthenticationObjectAttributes, CommonCertificateAttributes, CommonObjectAttributes, KeyUsageFlags, ObjectValue, Pkcs15Path } from '../../../src/card/pkcs15/schema/common-attributes.js';
import { encodePrivateKeyEntry, parsePrivateKeyEntry } from '../../../src/card/pkcs15/prkdf.js';
import { encodeTokenInfo, parseTokenInfo } from '../../../src/card/pkcs15/token-info-file.js';
import { fromHex, toHex } from '../../../src/common/hex.js';

// C4xx files exactly as OpenSC 0.23 `pkcs11-tool --keypairgen` wrote them on the emulated
// SmartCard-HSM (captured from the emulator's state file).
const OPENSC_EC_PRKD = 'A03D300F0C066F73632D6563030206C0040101301E0414A99C4E92812326B2B82085D23945A9C2D5C0BA420303073080020101A10A30083002040002020100';
const OPENSC_RSA_PRKD = '303D30100C076F73632D727361030206C0040101301D04140F8C6AA6430E4CF81526718F6DE89EB8828066F703020470020102A10A30083002040002020800';

test('PrKDF entries written by OpenSC parse and re-serialise byte for byte', () => {
  for (const h of [OPENSC_EC_PRKD, OPENSC_RSA_PRKD]) {
    const der = fromHex(h);
    assert.equal(toHex(new Uint8Array(AsnConvert.serialize(AsnConvert.parse(der, PrivateKeyType)))), h);
  }
  const ec = parsePrivateKeyEntry(fromHex(OPENSC_EC_PRKD));
  assert.equal(ec.kind, 'ec');
  assert.equal(ec.label, 'osc-ec');
  assert.equal(toHex(ec.id), 'A99C4E92812326B2B82085D23945A9C2D5C0BA42');
  assert.equal(ec.keyReference, 1);
  assert.equal(ec.size, 256);
  assert.ok(ec.usage & KeyUsageFlags.sign);
  const rsa = parsePrivateKeyEntry(fromHex(OPENSC_RSA_PRKD));
  assert.equal(rsa.kind, 'rsa');
  assert.equal(rsa.label, 'osc-rsa');
  assert.equal(rsa.size, 2048);
  assert.equal(rsa.keyReference, 2);
  assert.deepEqual(rsa.authId, Uint8Array.of(1));
});

test('cardca PrKDF entries: exact bytes and round trip', () => {
  const id = new Uint8Array(20).fill(0xab);
  const ec = encodePrivateKeyEntry({ kind: 'ec', label: 'root', id, keyReference: 1, size: 256 });
  assert.equal(
    toHex(ec),
    'A03E300D0C04726F6F740302078004010130210414' + 'AB'.repeat(20) + '03020520030203B8020101A10A30083002040002020100',
  );
  const p = parsePrivateKeyEntry(ec);
  assert.deepEqual([p.kind, p.label, toHex(p.id), p.keyReference, p.size, p.usage, p.accessFlags], ['ec', 'root', 'AB'.repeat(20), 1, 256, 4, 0x1d]);
  const rsa = parsePrivateKeyEntry(encodePrivateKeyEntry({ kind: 'rsa', label: 'r', id, keyReference: 7, size: 4096 }));
  assert.deepEqual([rsa.kind, rsa.size, rsa.keyReference, rsa.usage], ['rsa', 4096, 7, KeyUsageFlags.sign | KeyUsageFlags.signRecover]);
});

test('TokenInfo round trip with label [0]', () => {
  const der = encodeTokenInfo('DECM0102330', 'Root CA');
  assert.equal(toHex(der), '3025020100040B4445434D303130323333300C066361726463618007526F6F7420434103020640');
  assert.deepEqual(parseTokenInfo(der), { serial: 'DECM0102330', label: 'Root CA', manufacturer: 'cardca' });
  const ti = AsnConvert.parse(der, TokenInfo);
  assert.equal(toHex(new Uint8Array(AsnConvert.serialize(ti))), toHex(der));
});

test('AODF PIN object round trip (SmartCard-HSM user PIN as OpenSC describes it)', () => {
  const pin = new PinObject({
    commonObjectAttributes: new CommonObjectAttributes({ label: 'UserPIN', flags: new BitString(3), authId: new OctetString(Uint8Array.of(2)) }),
    classAttributes: new CommonAuthenticationObjectAttributes({ authId: new OctetString(Uint8Array.of(1)) }),
    typeAttributes: new PinAttributes({
      pinFlags: new BitString(PinFlags.local | PinFlags.initialized),
      pinType: 1,
      minLength: 6,
      storedLength: 0,
      maxLength: 15,
      pinReference: 0x81,
    }),
  });
  const der = new Uint8Array(AsnConvert.serialize(pin));
  const back = AsnConvert.parse(der, PinObject);
  assert.equal(back.typeAttributes.pinReference, 0x81);
  assert.equal(back.typeAttributes.maxLength, 15);
  assert.equal(back.commonObjectAttributes.label, 'UserPIN');
  assert.equal(toHex(new Uint8Array(AsnConvert.serialize(back))), toHex(der));
});

test('ODF entry: A8 06 30 04 04 02 44 01 is the AODF at 4401', () => {
  const e = AsnConvert.parse(fromHex('A806300404024401'), OdfEntry);
  assert.equal(toHex(new Uint8Array(e.authObjects!.path.buffer)), '4401');
  const again = new OdfEntry({ privateKeys: new Pkcs15Path({ path: new OctetString(fromHex('4402')) }) });
  assert.equal(toHex(new Uint8Array(AsnConvert.serialize(again))), 'A00630040402' + '4402');
});

test('CDF entry with an indirect path round trips', () => {
  const cdf = new CertificateType({
    x509Certificate: new X509CertificateObject({
      commonObjectAttributes: new CommonObjectAttributes({ label: 'root cert' }),
      classAttributes: new CommonCertificateAttributes({ iD: new OctetString(fromHex('A1B2')), authority: true }),
      typeAttributes: new X509CertificateAttributes({ value: new ObjectValue({ indirect: new Pkcs15Path({ path: new OctetString(fromHex('CA01')) }) }) }),
    }),
  });
  const der = new Uint8Array(AsnConvert.serialize(cdf));
  const back = AsnConvert.parse(der, CertificateType);
  assert.equal(back.x509Certificate!.classAttributes.authority, true);
  assert.equal(toHex(new Uint8Array(back.x509Certificate!.typeAttributes.value.indirect!.path.buffer)), 'CA01');
  assert.equal(toHex(new Uint8Array(AsnConvert.serialize(back))), toHex(der));
});

test('EF.DIR records: AID, label and path; 00 padding ends the list', async () => {
  const { parseEfDir } = await import('../../../src/card/pkcs15/ef-dir.js');
  const recs = parseEfDir(fromHex('611C4F0CA000000063504B43532D31355006504B4353313551043F0050150000'));
  assert.equal(recs.length, 1);
  assert.equal(toHex(recs[0]!.aid), 'A000000063504B43532D3135');
  assert.equal(recs[0]!.label, 'PKCS15');
  assert.equal(toHex(recs[0]!.path!), '3F005015');
});

test('TokenInfo: seInfo, recordInfo, supportedAlgorithms and lastUpdate parse; earlier fields stay readable', () => {
  const der = (body: string) => {
    const b = Buffer.from(body.replace(/ /g, ''), 'hex');
    return new Uint8Array(Buffer.concat([Buffer.from([0x30, b.length]), b]));
  };
  const time = 'A511180F32303236313230323033353535355A'; // [5] GeneralizedTime 20261202035555Z
  const algo = 'A21D301B0201010202108105000302020C0609608648016503040101020100'; // one AES-128-ECB AlgorithmInfo
  for (const extra of ['', '3005 3003 020101', 'A106 800110 810120', `3005 3003 020101 A106 800110 810120 ${algo} ${time}`, `${algo} ${time}`]) {
    const t = AsnConvert.parse(der(`020100 0401AA 0C0141 03020430 ${extra}`), TokenInfo);
    assert.equal(t.manufacturerID, 'A', extra);
    if (extra.includes('A5')) assert.equal(t.lastUpdate?.generalizedTime?.toISOString(), '2026-12-02T03:55:55.000Z');
    if (extra.includes('A21D')) assert.deepEqual(t.supportedAlgorithms?.map((a) => [a.reference, a.algorithm, a.objId]), [[1, 0x1081, '2.16.840.1.101.3.4.1.1']]);
  }
});
