import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCommand } from '../../../src/card/apdu/command-apdu.js';
import * as piv from '../../../src/card/piv/piv-commands.js';
import { certificateTag, parseSlot } from '../../../src/card/piv/piv-constants.js';
import { decodeCertObject, encodeCertObject } from '../../../src/card/piv/cert-object.js';
import { mgmtDecrypt, mgmtEncrypt } from '../../../src/card/piv/mgmt-key-crypto.js';
import { PIV_ATR } from '../../../src/card/emulator/piv-card.js';
import { gzipSync } from 'node:zlib';

const hex = (c: Parameters<typeof encodeCommand>[0]) => Buffer.from(encodeCommand(c)).toString('hex').toUpperCase();

test('SELECT, GET DATA and the PIN status query are the SP 800-73-4 bytes', () => {
  assert.equal(hex(piv.selectPiv()), '00A4040009A00000030800001000' + '00');
  assert.equal(hex(piv.getData(0x5fc105)), '00CB3FFF055C035FC10500');
  assert.equal(hex(piv.getData(0x7e)), '00CB3FFF035C017E00');
  assert.equal(hex(piv.pinStatusQuery()), '00200080');
  assert.equal(hex(piv.verifyPin(piv.padPin(Buffer.from('123456')))), '0020008008' + '313233343536' + 'FFFF');
});

test('GENERAL AUTHENTICATE templates: management witness, response, signature', () => {
  assert.equal(hex(piv.mgmtWitnessRequest(0x03)), '0087039B04' + '7C028000' + '00');
  const r = piv.mgmtWitnessResponse(0x03, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), Uint8Array.from([9, 9, 9, 9, 9, 9, 9, 9]));
  assert.equal(hex(r), '0087039B16' + '7C14' + '80080102030405060708' + '81080909090909090909' + '00');
  assert.equal(hex(piv.signWithSlot(0x11, 0x9c, new Uint8Array(32).fill(0xaa))), '0087119C267C248200' + '8120' + 'AA'.repeat(32) + '00');
});

test('GENERATE with YubiKey PIN and touch policy; PUT DATA of a certificate object', () => {
  assert.equal(hex(piv.generateKeyPair(0x9a, 0x11)), '0047009A05AC0380011100');
  assert.equal(hex(piv.generateKeyPair(0x9c, 0x14, { pin: 0x02, touch: 0x02 })), '0047009C0BAC09800114AA0102AB010200');
  const put = piv.putData(0x5fc10a, encodeCertObject(Uint8Array.of(0x30, 0x00)));
  assert.equal(hex(put), '00DB3FFF10' + '5C035FC10A' + '5309' + '70023000' + '710100' + 'FE00');
});

test('Yubico extensions: version, serial, metadata, attest, set management key', () => {
  assert.equal(hex(piv.getVersion()), '00FD000000');
  assert.equal(hex(piv.getSerial()), '00F8000000');
  assert.equal(hex(piv.getMetadata(0x9b)), '00F7009B00');
  assert.equal(hex(piv.attest(0x9c)), '00F99C0000');
  assert.equal(hex(piv.setManagementKey(0x03, new Uint8Array(24).fill(1))), '00FFFFFF1B039B18' + '01'.repeat(24));
});

test('certificate objects: tags per slot, gzip-compressed certificates decoded (CertInfo bit 0)', () => {
  assert.equal(certificateTag(0x9a), 0x5fc105);
  assert.equal(certificateTag(0x9e), 0x5fc101);
  assert.equal(certificateTag(0x82), 0x5fc10d);
  assert.equal(certificateTag(0x95), 0x5fc120);
  assert.equal(parseSlot('9C'), 0x9c);
  assert.equal(parseSlot('9b'), undefined);
  const der = Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x05]);
  assert.deepEqual(decodeCertObject(encodeCertObject(der), 't'), der);
  const z = gzipSync(der);
  const compressed = Uint8Array.from([0x70, z.length, ...z, 0x71, 0x01, 0x01, 0xfe, 0x00]);
  assert.deepEqual(decodeCertObject(compressed, 't'), der);
});

test('management-key blocks: 3DES and AES-128 round trip; the ATR carries "YubiKey" and a valid TCK', () => {
  const tdes = Buffer.from('010203040506070801020304050607080102030405060708', 'hex');
  const block = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(mgmtDecrypt('tdes', tdes, mgmtEncrypt('tdes', tdes, block)), block);
  const aes = new Uint8Array(16).fill(7);
  const b16 = new Uint8Array(16).fill(3);
  assert.deepEqual(mgmtDecrypt('aes128', aes, mgmtEncrypt('aes128', aes, b16)), b16);
  assert.ok(Buffer.from(PIV_ATR).includes(Buffer.from('YubiKey')));
  assert.equal(PIV_ATR.subarray(1).reduce((x, b) => x ^ b, 0), 0);
});
