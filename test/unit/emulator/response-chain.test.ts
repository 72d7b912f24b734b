/**
 * The emulators' response chaining (ISO/IEC 7816-4 §5.3.4, GET RESPONSE), shared by the
 * SmartCard-HSM, PIV and MyEID cards: first part + 61xx, the rest by GET RESPONSE, the command's
 * own status on the last part, 6985 when nothing waits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseChain } from '../../../src/card/emulator/response-chain.js';
import { MyeidCard } from '../../../src/card/emulator/myeid-card.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();
const bytes = (n: number, from = 0) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);

test('a response within the limit goes out whole, with its status', () => {
  const r = new ResponseChain();
  assert.equal(hex(r.shape(bytes(3), 0x9000, 256)), '0001029000');
  assert.equal(hex(r.shape(new Uint8Array(0), 0x63c2, 256)), '63C2');
  // Nothing waits now.
  assert.equal(hex(r.getResponse(256)), '6985');
});

test('more than the limit: first part + 61xx, then GET RESPONSE parts; xx = 00 for 256 or more', () => {
  const r = new ResponseChain();
  const first = r.shape(bytes(600), 0x9000, 256);
  assert.equal(first.length, 258);
  assert.equal(hex(first.subarray(256)), '6100'); // 344 bytes wait: "256 or more"
  const second = r.getResponse(256);
  assert.equal(hex(second.subarray(256)), '6158'); // 88 bytes wait
  assert.deepEqual([...second.subarray(0, 256)], [...bytes(256, 256)]);
  const third = r.getResponse(256);
  assert.equal(third.length, 90);
  assert.equal(hex(third.subarray(88)), '9000');
  assert.equal(hex(r.getResponse(256)), '6985');
});

test('a warning status is kept for the last part; an error status is never split', () => {
  const r = new ResponseChain();
  assert.equal(hex(r.shape(bytes(5), 0x6282, 2)), '0001' + '6103');
  assert.equal(hex(r.getResponse(10)), '020304' + '6282');
  assert.equal(hex(r.shape(bytes(5), 0x6a80, 2)), '0001020304' + '6A80');
  assert.equal(hex(r.getResponse(10)), '6985');
});

test('reset() drops what waits (any other command, power-up)', () => {
  const r = new ResponseChain();
  r.shape(bytes(10), 0x9000, 4);
  r.reset();
  assert.equal(hex(r.getResponse(256)), '6985');
});

test('the MyEID emulator answers a short Le with 61xx and GET RESPONSE, and forgets it on the next command', async () => {
  const card = new MyeidCard();
  const tx = async (h: string) => hex(await card.process(Uint8Array.from(Buffer.from(h, 'hex'))));
  // Applet info is 20 bytes; ask for 8.
  const first = await tx('00CA01A008');
  assert.equal(first.slice(-4), '610C');
  const rest = await tx('00C000000C');
  assert.equal(rest.slice(-4), '9000');
  assert.equal((first.slice(0, -4) + rest.slice(0, -4)).length, 40);
  await tx('00CA01A008');
  await tx('00A4000C023F00');
  assert.equal(await tx('00C0000000'), '6985');
});
