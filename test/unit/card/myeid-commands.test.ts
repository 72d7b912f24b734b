import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCommand } from '../../../src/card/apdu/command-apdu.js';
import * as cmd from '../../../src/card/drivers/myeid/myeid-commands.js';
import { mseSet, psoComputeDigitalSignature, psoDecipher, psoDecipherHalves } from '../../../src/card/iso7816/security-operations.js';
import { toHex } from '../../../src/common/hex.js';

const hex = (c: Parameters<typeof encodeCommand>[0]) => toHex(encodeCommand(c));

// Byte values from card-protocols.md §3.2 and OpenSC card-myeid.c / pkcs15-myeid.c.
test('MyEID APDUs, byte for byte', () => {
  assert.equal(hex(cmd.selectApplet()), '00A404000CA000000063504B43532D313500');
  assert.equal(hex(cmd.getAppletInfo()), '00CA01A014');
  assert.equal(hex(cmd.getCapabilities()), '00CA01AA0B');
  assert.equal(hex(cmd.getPublicKey('rsa')), '00CA010100');
  assert.equal(hex(cmd.getPublicKey('ec')), '00CA018600');
  assert.equal(hex(cmd.logout()), '002E0000');
  assert.equal(hex(cmd.deleteSelectedFile()), 'A0E40000');
  assert.equal(hex(cmd.generateKey('rsa')), '00460000073005810301000 1'.replace(/ /g, ''));
  assert.equal(hex(cmd.generateKey('ec')), '00460000');
  // pkcs15-init's RSA-2048 key EF 4B01 with CRYPTO/UPDATE/DELETE/GENERATE = PIN 1 (encode_file_structure).
  assert.equal(
    hex(cmd.createFile({ fid: 0x4b01, descriptor: 0x11, size: 2048, acl: Uint8Array.of(0x11, 0x11, 0xff) })),
    '00E0000019621781020800820111830 24B018603 1111FF85020000 8A0100'.replace(/ /g, ''),
  );
  assert.equal(
    hex(cmd.createFile({ fid: 0x4301, descriptor: 0x01, size: 696, acl: Uint8Array.of(0x01, 0x1f, 0xff) })),
    '00E00000196217800202B882010183024301860301 1FFF850200008A0100'.replace(/ /g, ''),
  );
  assert.deepEqual([...cmd.padPin(Buffer.from('1234'))], [0x31, 0x32, 0x33, 0x34, 0xff, 0xff, 0xff, 0xff]);
  assert.throws(() => cmd.padPin(Buffer.from('123456789')), RangeError);
  assert.throws(() => cmd.createFile({ fid: 1, descriptor: 1, size: 1, acl: Uint8Array.of(0) }), RangeError);
});

test('ISO 7816-8 MSE SET and PSO, byte for byte', () => {
  assert.equal(hex(mseSet({ template: 'sign', algorithm: 0x02, fileReference: Uint8Array.of(0x4b, 0x01), keyReference: 0 })), '002241B60A800102810 24B01840100'.replace(/ /g, ''));
  assert.equal(hex(mseSet({ template: 'decipher', algorithm: 0x00, fileReference: Uint8Array.of(0x4b, 0x02) })), '002241B807800100810 24B02'.replace(/ /g, ''));
  assert.equal(hex(mseSet({ template: 'sign', keyReference: 0x84 })), '002241B603840184');
  const h = new Uint8Array(32).fill(0xab);
  assert.equal(hex(psoComputeDigitalSignature(h)), `002A9E9A20${'AB'.repeat(32)}00`);
  assert.equal(hex(psoDecipher(0x00, Uint8Array.of(1, 2), true)), '002A808603000102' + '00');
  const [a, b] = psoDecipherHalves(new Uint8Array(256).fill(7));
  assert.equal(hex(a), `002A80868181${'07'.repeat(128)}`);
  assert.equal(hex(b), `002A80868182${'07'.repeat(128)}00`);
});

test('GET DATA 01 AA capabilities: parsed as card-myeid.c myeid_get_card_caps reads them', () => {
  // The emulator's answer (RSA | ECC, RSA 2048, no DES/AES, ECC 384), and a short answer.
  assert.deepEqual(cmd.parseCapabilities(Uint8Array.from([0x01, 0x00, 0x09, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x80])), { version: 1, rsa: true, ecc: true, maxRsaBits: 2048, maxEccBits: 384 });
  assert.deepEqual(cmd.parseCapabilities(Uint8Array.from([0x01, 0x00, 0x01, 0x10, 0x00, 0x00, 0xc0, 0x01, 0x00, 0x02, 0x09])), { version: 1, rsa: true, ecc: false, maxRsaBits: 4096, maxEccBits: 521 });
  assert.equal(cmd.parseCapabilities(new Uint8Array(10)), undefined);
});
