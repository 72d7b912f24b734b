import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandApdu } from '../../../src/card/emulator/command-apdu.js';
import { CardStatus } from '../../../src/card/emulator/status-words.js';
import { ScHsmCard } from '../../../src/card/emulator/sc-hsm-card.js';
import { AID, apdu, expectSw, hex, readyCard, tx, USER_PIN } from './card-helpers.js';

test('APDU parsing: cases 1–4 short and extended', () => {
  assert.deepEqual({ ...parseCommandApdu(hex('00A40000')), data: [] }, { cla: 0, ins: 0xa4, p1: 0, p2: 0, data: [], ne: 0, extended: false, case: 1 });
  assert.equal(parseCommandApdu(hex('0084000000')).ne, 256);
  assert.equal(parseCommandApdu(hex('0084000008')).ne, 8);
  const c3 = parseCommandApdu(hex('00A4000C022F02'));
  assert.equal(c3.case, 3);
  assert.deepEqual([...c3.data], [0x2f, 0x02]);
  const c4 = parseCommandApdu(hex('00A4040004E82B060100'));
  assert.equal(c4.case, 4);
  assert.equal(c4.ne, 256);
  const e2 = parseCommandApdu(hex('80580000000000'));
  assert.equal(e2.extended, true);
  assert.equal(e2.ne, 65536);
  const e4 = parseCommandApdu(hex('8068012000000301020301 00'.replace(' ', '')));
  assert.equal(e4.case, 4);
  assert.equal(e4.ne, 256);
  assert.deepEqual([...e4.data], [1, 2, 3]);
});

test('APDU parsing: inconsistent lengths are 6700', () => {
  for (const bad of ['00', '00A400', '00A4000C03AABB', '00A4000C01AABBCC', '000000000000', '00A40000000002AA', '00A4000000000000']) {
    assert.throws(() => parseCommandApdu(hex(bad)), (e: unknown) => e instanceof CardStatus && e.sw === 0x6700, bad);
  }
});

test('SELECT applet returns an FCP with tag 85 (options, type, version); unknown AID is 6A82', async () => {
  const card = new ScHsmCard();
  card.powerOn();
  const r = await tx(card, `00A404000B${AID}00`);
  assert.equal(r.sw, '9000');
  assert.equal(r.data[0], 0x62);
  const i = r.data.indexOf(0x85);
  assert.ok(i > 0);
  assert.deepEqual([...r.data.subarray(i, i + 7)], [0x85, 0x05, 0x00, 0x00, 0x00, 3, 5]);
  assert.equal((await tx(card, `00A4040C0B${AID}`)).data.length, 0);
  assert.equal((await tx(card, '00A404000CA000000063504B43532D313500')).sw, '6A82');
  assert.equal((await tx(card, '00A4000C022F02')).sw, '9000');
  assert.equal((await tx(card, '00A4000C02C401')).sw, '6A82');
  assert.equal((await tx(card, `00A40477 0B${AID}`.replace(' ', ''))).sw, '6A86');
});

test('ISO errors: bad CLA 6E00, chaining 6884, unknown INS 6D00, malformed 6700, bad P1P2 6A86', async () => {
  const card = new ScHsmCard();
  card.powerOn();
  assert.equal((await tx(card, 'A0A4000C022F02')).sw, '6E00');
  assert.equal((await tx(card, '10A4000C022F02')).sw, '6884');
  assert.equal((await tx(card, '00FF0000')).sw, '6D00');
  assert.equal((await tx(card, '00A4000C05AABB')).sw, '6700');
  assert.equal((await tx(card, '805801000000')).sw, '6700');
  assert.equal((await tx(card, '80580100')).sw, '6A86');
  assert.equal((await tx(card, '00840100 08'.replace(' ', ''))).sw, '6A86');
  assert.equal((await tx(card, '00')).sw, '6700');
  assert.equal((await tx(card, new Uint8Array(0))).sw, '6700');
});

test('GET CHALLENGE returns Le random bytes', async () => {
  const card = new ScHsmCard();
  card.powerOn();
  const a = await expectSw(card, '0084000008', '9000');
  const b = await expectSw(card, '0084000008', '9000');
  assert.equal(a.length, 8);
  assert.notDeepEqual([...a], [...b]);
  assert.equal((await tx(card, '00840000')).sw, '6700');
});

test('extended length can be switched off (6700), T=0 style 61xx + GET RESPONSE', async () => {
  const noExt = new ScHsmCard({ extendedLength: false });
  noExt.powerOn();
  assert.equal((await tx(noExt, '80580000000000')).sw, '6700');

  const card = await readyCard({ maxResponseSize: 100 });
  const content = new Uint8Array(250).map((_, i) => i);
  await expectSw(card, apdu(0, 0xd7, 0xcf, 0x01, hex('54020000' + '5381FA' + Buffer.from(content).toString('hex'))), '9000');
  const first = await tx(card, apdu(0, 0xb1, 0xcf, 0x01, hex('54020000'), 65536));
  assert.equal(first.sw, '6196'); // 150 bytes still pending
  assert.equal(first.data.length, 100);
  const second = await tx(card, '00C0000000');
  assert.equal(second.sw, '6132');
  const third = await tx(card, '00C0000000');
  assert.equal(third.sw, '6282');
  assert.deepEqual([...first.data, ...second.data, ...third.data], [...content]);
  assert.equal((await tx(card, '00C0000000')).sw, '6985');
});

test('READ/UPDATE BINARY with 54/53 DOs, 6282 at end, 6B00 beyond, ENUMERATE, DELETE', async () => {
  const card = await readyCard();
  await expectSw(card, apdu(0, 0xd7, 0xc4, 0x05, hex('5402000053 03 AABBCC'.replace(/ /g, ''))), '9000');
  await expectSw(card, apdu(0, 0xd7, 0xc4, 0x05, hex('540200025302DDEE')), '9000');
  const all = await expectSw(card, apdu(0, 0xb1, 0xc4, 0x05, hex('54020000'), 4), '9000');
  assert.deepEqual([...all], [0xaa, 0xbb, 0xdd, 0xee]);
  const r = await tx(card, apdu(0, 0xb1, 0xc4, 0x05, hex('54020001'), 65536));
  assert.equal(r.sw, '6282');
  assert.deepEqual([...r.data], [0xbb, 0xdd, 0xee]);
  assert.equal((await tx(card, apdu(0, 0xb1, 0xc4, 0x05, hex('54020009'), 4))).sw, '6B00');
  assert.equal((await tx(card, apdu(0, 0xb1, 0xc4, 0x06, hex('54020000'), 4))).sw, '6A82');
  assert.equal((await tx(card, apdu(0, 0xb1, 0xc4, 0x05, hex('55020000'), 4))).sw, '6A80');
  // Device certificate EF is readable without login.
  const cert = await expectSw(card, apdu(0, 0xb1, 0x2f, 0x02, hex('54020000'), 65536), '6282');
  assert.equal(cert[0], 0x7f);
  assert.equal(cert[1], 0x21);
  const list = await expectSw(card, '80580000000000', '9000');
  assert.deepEqual([...list], [0xc4, 0x05, 0xcc, 0x00]);
  await expectSw(card, '00E4020002C405', '9000');
  assert.equal((await tx(card, '00E4020002C405')).sw, '6A82');
  assert.equal((await tx(card, '00E4000002C405')).sw, '6A86');
  assert.deepEqual([...(await expectSw(card, '80580000000000', '9000'))], [0xcc, 0x00]);
});

test('writes and deletes need the user PIN (6982); re-SELECT of the applet logs out', async () => {
  const card = await readyCard();
  await expectSw(card, `00A4040C0B${AID}`, '9000');
  assert.equal((await tx(card, apdu(0, 0xd7, 0xc4, 0x05, hex('5402000053 01 AA'.replace(/ /g, ''))))).sw, '6982');
  assert.equal((await tx(card, '00200081')).sw, '63C3');
  await expectSw(card, apdu(0, 0x20, 0, 0x81, USER_PIN), '9000');
  assert.equal((await tx(card, '00200081')).sw, '9000');
  card.reset();
  assert.equal((await tx(card, '00200081')).sw, '63C3');
});
