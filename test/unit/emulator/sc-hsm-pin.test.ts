import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScHsmCard } from '../../../src/card/emulator/sc-hsm-card.js';
import { AID, apdu, expectSw, initData, SO_PIN, tx, USER_PIN } from './card-helpers.js';

const WRONG = Buffer.from('000000', 'ascii');

test('factory-fresh card: user PIN 6A88 (not initialised); SO-PIN is the factory default, a wrong code costs a try', async () => {
  // A new SmartCard-HSM ships with SO-PIN 3537363231383830, 15 tries (OpenSC wiki "SmartCardHSM").
  const card = new ScHsmCard();
  card.powerOn();
  assert.equal((await tx(card, '00200081')).sw, '6A88');
  assert.equal((await tx(card, '00200088')).sw, '63CF');
  assert.equal((await tx(card, apdu(0x80, 0x50, 0, 0, initData({ soPin: Buffer.from('0102030405060708', 'hex') })))).sw, '63CE');
  await expectSw(card, apdu(0x80, 0x50, 0, 0, initData({ soPin: SO_PIN })), '9000');
  await expectSw(card, `00A4040C0B${AID}`, '9000');
  assert.equal((await tx(card, '00200081')).sw, '63C3');
  assert.equal((await tx(card, '00200088')).sw, '63CF');
});

test('PIN tries 3 → 2 → 1 → blocked (6983); the status query never spends a try', async () => {
  const card = new ScHsmCard();
  card.powerOn();
  await expectSw(card, apdu(0x80, 0x50, 0, 0, initData()), '9000');
  await expectSw(card, `00A4040C0B${AID}`, '9000');
  for (let i = 0; i < 5; i++) assert.equal((await tx(card, '00200081')).sw, '63C3');
  assert.equal((await tx(card, apdu(0, 0x20, 0, 0x81, WRONG))).sw, '63C2');
  assert.equal((await tx(card, '00200081')).sw, '63C2');
  assert.equal((await tx(card, apdu(0, 0x20, 0, 0x81, WRONG))).sw, '63C1');
  assert.equal((await tx(card, apdu(0, 0x20, 0, 0x81, WRONG))).sw, '63C0');
  assert.equal((await tx(card, '00200081')).sw, '6983');
  // Blocked: even the right PIN is refused.
  assert.equal((await tx(card, apdu(0, 0x20, 0, 0x81, USER_PIN))).sw, '6983');
  assert.equal(card.userPinTriesLeft(), 0);
  // Signing without login is refused.
  assert.equal((await tx(card, apdu(0x80, 0x68, 1, 0x70, new Uint8Array(32), 256))).sw, '6A88');
});

test('a correct PIN resets the counter; biometric refs 85/86 and unknown refs answer 6A88; P1≠00 is 6A86', async () => {
  const card = new ScHsmCard();
  card.powerOn();
  await expectSw(card, apdu(0x80, 0x50, 0, 0, initData()), '9000');
  await expectSw(card, `00A4040C0B${AID}`, '9000');
  assert.equal((await tx(card, apdu(0, 0x20, 0, 0x81, WRONG))).sw, '63C2');
  await expectSw(card, apdu(0, 0x20, 0, 0x81, USER_PIN), '9000');
  assert.equal((await tx(card, '00200081')).sw, '9000');
  assert.equal(card.userPinTriesLeft(), 3);
  assert.equal((await tx(card, '00200085')).sw, '6A88');
  assert.equal((await tx(card, '00200086')).sw, '6A88');
  assert.equal((await tx(card, '00200001')).sw, '6A88');
  assert.equal((await tx(card, '00200181')).sw, '6A86');
});

test('RESET RETRY COUNTER with the SO-PIN unblocks (00 2C 01 81) and sets a new PIN (00 2C 00 81)', async () => {
  const card = new ScHsmCard();
  card.powerOn();
  await expectSw(card, apdu(0x80, 0x50, 0, 0, initData()), '9000');
  await expectSw(card, `00A4040C0B${AID}`, '9000');
  for (let i = 0; i < 3; i++) await tx(card, apdu(0, 0x20, 0, 0x81, WRONG));
  assert.equal((await tx(card, '00200081')).sw, '6983');
  // Wrong SO-PIN spends an SO try.
  assert.equal((await tx(card, apdu(0, 0x2c, 1, 0x81, Buffer.from('0000000000000000', 'hex')))).sw, '63CE');
  assert.equal((await tx(card, '00200088')).sw, '63CE');
  await expectSw(card, apdu(0, 0x2c, 1, 0x81, SO_PIN), '9000');
  assert.equal((await tx(card, '00200088')).sw, '63CF');
  assert.equal((await tx(card, '00200081')).sw, '63C3');
  await expectSw(card, apdu(0, 0x20, 0, 0x81, USER_PIN), '9000');
  const newPin = Buffer.from('123456789', 'ascii');
  await expectSw(card, apdu(0, 0x2c, 0, 0x81, Buffer.concat([SO_PIN, newPin])), '9000');
  assert.equal((await tx(card, apdu(0, 0x20, 0, 0x81, USER_PIN))).sw, '63C2');
  await expectSw(card, apdu(0, 0x20, 0, 0x81, newPin), '9000');
  assert.equal((await tx(card, apdu(0, 0x2c, 1, 0x81, SO_PIN.subarray(0, 7)))).sw, '6700');
  assert.equal((await tx(card, apdu(0, 0x2c, 2, 0x81, SO_PIN))).sw, '6A86');
});

test('CHANGE REFERENCE DATA for user PIN and SO-PIN; re-INITIALIZE needs the current SO-PIN', async () => {
  const card = new ScHsmCard();
  card.powerOn();
  await expectSw(card, apdu(0x80, 0x50, 0, 0, initData()), '9000');
  const newPin = Buffer.from('99887766', 'ascii');
  assert.equal((await tx(card, apdu(0, 0x24, 0, 0x81, Buffer.concat([WRONG, newPin])))).sw, '63C2');
  await expectSw(card, apdu(0, 0x24, 0, 0x81, Buffer.concat([USER_PIN, newPin])), '9000');
  await expectSw(card, `00A4040C0B${AID}`, '9000');
  await expectSw(card, apdu(0, 0x20, 0, 0x81, newPin), '9000');
  const newSo = Buffer.from('1122334455667788', 'hex');
  await expectSw(card, apdu(0, 0x24, 0, 0x88, Buffer.concat([SO_PIN, newSo])), '9000');
  assert.equal((await tx(card, apdu(0, 0x24, 0, 0x88, SO_PIN))).sw, '6700');
  // Re-initialisation with the old SO-PIN is refused and costs an SO try; the new one works.
  assert.equal((await tx(card, apdu(0x80, 0x50, 0, 0, initData({ soPin: SO_PIN })))).sw, '63CE');
  await expectSw(card, apdu(0x80, 0x50, 0, 0, initData({ soPin: newSo })), '9000');
  assert.equal((await tx(card, apdu(0x80, 0x50, 0, 0, Buffer.from('8102AABB', 'hex')))).sw, '6A80');
});
