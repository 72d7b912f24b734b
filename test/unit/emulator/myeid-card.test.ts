import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MyeidCard, MYEID_ATR } from '../../../src/card/emulator/myeid-card.js';
import { fromHex, toHex } from '../../../src/common/hex.js';

const send = async (card: MyeidCard, h: string) => toHex(await card.process(fromHex(h.replace(/ /g, ''))));
const swOf = (r: string) => r.slice(-4);
const PIN1 = '313233343536FFFF';

/** What pkcs15-myeid.c does before any PKCS#15 file exists: initialise the applet, PIN records 1 and 3. */
async function initialised(): Promise<MyeidCard> {
  const card = new MyeidCard();
  // MF ACL: CREATE = PIN 1, DELETE = PIN 3; DF 5015: CREATE = PIN 1, DELETE = PIN 1.
  assert.equal(await send(card, '00DA01E008 FFFF113FFF111FFF'), '9000');
  assert.equal(await send(card, `00DA010113 ${PIN1} 3132333435363738 03 0A 00`), '9000');
  assert.equal(await send(card, `00DA010313 3837363534333231 3132333435363738 03 0A 00`), '9000');
  return card;
}

test('ATR, applet info and capabilities as card-myeid.c reads them', async () => {
  const card = new MyeidCard();
  assert.equal(toHex(MYEID_ATR).slice(-30, -2), Buffer.from('cardcaEMUMyEID').toString('hex').toUpperCase());
  assert.equal(swOf(await send(card, '00A404000CA000000063504B43532D313500')), '9000');
  const info = await send(card, '00CA01A014');
  assert.equal(info.length, 44);
  assert.equal(info.slice(10, 16), '040505'); // v4.5.5
  assert.equal(info.slice(16, 36), card.serial);
  assert.equal(await send(card, '00CA01AA0B'), '0100090800000000000180' + '9000');
  assert.equal(await send(card, '00B00000000100'), '6700', 'no extended APDUs');
});

test('creation state ignores ACLs; after ACTIVATE they bind to the PIN and the life cycle shows in the FCP', async () => {
  const card = await initialised();
  assert.equal(await send(card, '00A4080C025015'), '9000');
  assert.equal(await send(card, '00E0000019 6217 80020010 820101 83024401 8603011FFF 85020000 8A0100'), '9000');
  assert.equal(await send(card, '00D6000002CAFE'), '9000', 'creation state: UPDATE without PIN');
  const fcp = await send(card, '00A40800045015440100');
  assert.match(fcp, /8A0101/);
  assert.equal(await send(card, '004404000C A000000063504B43532D3135'), '9000');
  assert.match(await send(card, '00A40800045015440100'), /8A0105/);
  assert.equal(await send(card, '00D6000002BEEF'), '6982', 'operational: UPDATE needs PIN 1');
  assert.equal(await send(card, '00B0000002'), 'CAFE9000', 'READ is always allowed');
  assert.equal(await send(card, '0020000108 3132333435FFFFFF'), '63C2');
  assert.equal(await send(card, '00200001'), '63C2', 'status query spends nothing');
  assert.equal(await send(card, `0020000108 ${PIN1}`), '9000');
  assert.equal(await send(card, '00200001'), '9000');
  assert.equal(await send(card, '00D6000002BEEF'), '9000');
  assert.equal(await send(card, '002E0000'), '9000');
  assert.equal(await send(card, '00D6000002BEEF'), '6982', 'logout forgets the PIN');
  // Erasing an operational card needs the MF's DELETE right (SO PIN 3).
  assert.equal(await send(card, '00DA01E008 FFFF000FFF000FFF'), '6982');
  assert.equal(await send(card, '0020000308 3837363534333231'), '9000');
  assert.equal(await send(card, '00DA01E008 FFFF000FFF000FFF'), '9000');
  assert.equal(card.snapshot().lifeCycle, 'creation');
  assert.deepEqual(Object.keys(card.snapshot().files).sort(), ['3F00', '3F005015']);
});

test('bad input answers status words: unknown files, wrong lengths, reads past the end, chaining before 4.5', async () => {
  const card = await initialised();
  assert.equal(await send(card, '00A4080C045015AAAA'), '6A82');
  assert.equal(await send(card, '00A4080C025015'), '9000');
  assert.equal(await send(card, '00E0000019 6217 80020004 820101 83024401 8603000FFF 85020000 8A0100'), '9000');
  assert.equal(await send(card, '00E0000019 6217 80020004 820101 83024401 8603000FFF 85020000 8A0100'), '6A89');
  assert.equal(await send(card, '00B0000500'), '6B00');
  assert.equal(await send(card, '00D6000305 0102030405'), '6B00');
  assert.equal(await send(card, '0020000109 313233343536373839'), '6700');
  assert.equal(await send(card, '0020000508 3132333435363738'), '6A88');
  assert.equal(await send(card, '00460000'), '6981', 'GENERATE on a transparent EF');
  assert.equal(await send(card, '002A9E9A0100'), '6985', 'PSO without MSE');
  assert.equal(await send(card, 'B0A40000'), '6E00');
});
