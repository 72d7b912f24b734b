/**
 * Issue 18 item 10: the emulator is as strict as a real SmartCard-HSM where a driver could hide
 * behind it. Each behaviour cites its source in sc-hsm-card.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScHsmCard } from '../../../src/card/emulator/sc-hsm-card.js';
import { tlv } from '../../../src/card/emulator/tlv.js';
import { AID, apdu, expectSw, gakpEc, gakpRsa, initData, readyCard, SO_PIN, tx, USER_PIN } from './card-helpers.js';

test('GENERATE into an occupied key slot is refused (6A89); the old key is kept', async () => {
  const card = await readyCard();
  await expectSw(card, apdu(0x00, 0x46, 1, 0, gakpEc('P-256'), 65536), '9000');
  const before = card.snapshot().keys['1']!.pkcs8;
  assert.equal((await tx(card, apdu(0x00, 0x46, 1, 0, gakpEc('P-256'), 65536))).sw, '6A89');
  assert.equal(card.snapshot().keys['1']!.pkcs8, before);
});

test('after INITIALIZE nobody is logged in: writing EF 2F03 needs a VERIFY first (as OpenSC does)', async () => {
  const card = new ScHsmCard();
  card.powerOn();
  await expectSw(card, `00A4040C0B${AID}`, '9000');
  await expectSw(card, apdu(0x80, 0x50, 0, 0, initData()), '9000');
  const write = apdu(0x00, 0xd7, 0x2f, 0x03, Uint8Array.from([0x54, 0x02, 0x00, 0x00, 0x53, 0x01, 0x30]));
  assert.equal((await tx(card, write)).sw, '6982');
  await expectSw(card, apdu(0x00, 0x20, 0x00, 0x81, USER_PIN), '9000');
  await expectSw(card, write, '9000');
});

test('transport-PIN mode (option 0002): the PIN answers 6984 until it is changed', async () => {
  const card = new ScHsmCard();
  card.powerOn();
  await expectSw(card, `00A4040C0B${AID}`, '9000');
  const data = Uint8Array.from(Buffer.concat([tlv(0x80, Uint8Array.of(0x00, 0x03)), tlv(0x81, USER_PIN), tlv(0x82, SO_PIN), tlv(0x91, Uint8Array.of(3))]));
  await expectSw(card, apdu(0x80, 0x50, 0, 0, data), '9000');
  assert.equal((await tx(card, '00200081')).sw, '6984');
  assert.equal((await tx(card, apdu(0x00, 0x20, 0x00, 0x81, USER_PIN))).sw, '6984');
  await expectSw(card, apdu(0x00, 0x24, 0x00, 0x81, Buffer.concat([USER_PIN, Buffer.from('135790')])), '9000');
  await expectSw(card, `00A4040C0B${AID}`, '9000');
  assert.equal((await tx(card, '00200081')).sw, '63C3');
  await expectSw(card, apdu(0x00, 0x20, 0x00, 0x81, Buffer.from('135790')), '9000');
});

test('command APDUs longer than the 1232 bytes a JCOP3 SmartCard-HSM takes answer 6700', async () => {
  const card = await readyCard();
  const big = new Uint8Array(1300);
  big.set([0x54, 0x02, 0x00, 0x00, 0x53, 0x82, 0x05, 0x06]);
  assert.equal((await tx(card, apdu(0x00, 0xd7, 0xcf, 0x01, big))).sw, '6700');
  const fits = new Uint8Array(1008);
  fits.set([0x54, 0x02, 0x00, 0x00, 0x53, 0x82, 0x03, 0xe8]);
  await expectSw(card, apdu(0x00, 0xd7, 0xcf, 0x01, fits), '9000');
  // RSA 1024 … 4096 and every curve of the table are generated (pkcs11-tool makes foreign keys with them).
  for (const bits of [1024, 1536, 4096]) await expectSw(card, apdu(0x00, 0x46, bits / 512, 0, gakpRsa(bits), 65536), '9000');
});
