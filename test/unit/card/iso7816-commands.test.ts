import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCommand } from '../../../src/card/apdu/command-apdu.js';
import * as iso from '../../../src/card/iso7816/commands.js';
import * as hsm from '../../../src/card/drivers/sc-hsm/sc-hsm-commands.js';
import { fromHex, toHex } from '../../../src/common/hex.js';
import type { CommandApdu } from '../../../src/card/apdu/command-apdu.js';

const enc = (c: CommandApdu): string => toHex(encodeCommand(c));

test('SELECT by AID / FID / path, P2 00 / 0C', () => {
  assert.equal(enc(iso.selectAid(fromHex('A000000063504B43532D3135'))), '00A404000CA000000063504B43532D313500');
  assert.equal(enc(iso.selectFid(0x2f02)), '00A4000C022F02');
  assert.equal(enc(iso.selectFid(0x2f02, 'fci')), '00A40000022F0200');
  assert.equal(enc(iso.selectPath(fromHex('3F0050155031'))), '00A4080C0450155031');
  assert.equal(enc(iso.selectPath(fromHex('3F00'))), '00A4000C');
});

test('READ BINARY even and odd forms', () => {
  assert.equal(enc(iso.readBinary(0x0123, 0x80)), '00B0012380');
  assert.throws(() => iso.readBinary(0x8000, 1), RangeError);
  assert.equal(enc(iso.readBinaryOdd(0xc401, 0, 65536)), '00B1C4010000045402000000' + '00');
});

test('UPDATE BINARY odd form with 54/53 DOs', () => {
  assert.equal(enc(iso.updateBinaryOdd(0xce01, 0x0100, fromHex('3082'))), '00D7CE010854020100530230' + '82');
});

test('VERIFY, status query, CHANGE REFERENCE DATA, RESET RETRY COUNTER', () => {
  assert.equal(enc(iso.verify(0x81, fromHex('363438323139'))), '0020008106363438323139');
  assert.equal(enc(iso.verifyStatus(0x88)), '00200088');
  assert.throws(() => iso.verify(0x81, new Uint8Array(0)), RangeError);
  assert.equal(enc(iso.changeReferenceData(0x81, fromHex('313233343536363534333231'))), '00240081' + '0C' + '313233343536363534333231');
  assert.equal(enc(iso.resetRetryCounter(0x01, 0x81, fromHex('3537363231383830'))), '002C0181083537363231383830');
});

test('SmartCard-HSM builders', () => {
  assert.equal(enc(hsm.selectApplet()), '00A404040BE82B0601040181C31F020100');
  assert.equal(enc(hsm.enumerateObjects()), '80580000000000');
  assert.equal(enc(hsm.deleteFile(0xcc01)), '00E4020002CC01');
  assert.equal(enc(hsm.sign(0x01, 0x70, fromHex('AABB'))), '80680170000002AABB0000');
  assert.equal(enc(hsm.generateKeyPair(0x02, fromHex('5F290100'))), '00460200000004' + '5F290100' + '0000');
  assert.equal(
    toHex(hsm.initializeData(fromHex('363438323139'), fromHex('3537363231383830'), 3)),
    '80020001' + '8106363438323139' + '82083537363231383830' + '910103',
  );
  assert.equal(enc(hsm.initializeDevice(fromHex('80020001910103'))), '805000000780020001910103');
  assert.throws(() => hsm.initializeData(fromHex('3132'), fromHex('3537363231383830'), 3), RangeError);
});
