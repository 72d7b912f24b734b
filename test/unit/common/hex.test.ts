// src/common/hex.ts: the hex helpers every serial, fingerprint and key ID passes through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../../src/common/hex.js';

test('toHex: upper case, optional separator, views into a larger buffer, empty input', () => {
  assert.equal(toHex(Uint8Array.of(0x00, 0x0a, 0xff, 0x5c)), '000AFF5C');
  assert.equal(toHex(Uint8Array.of(0xab, 0xcd, 0x01), ':'), 'AB:CD:01');
  const big = Uint8Array.of(1, 2, 3, 4, 5, 6);
  assert.equal(toHex(big.subarray(2, 4)), '0304', 'only the view, not its whole buffer');
  assert.equal(toHex(new Uint8Array(0)), '');
  assert.equal(toHex(new Uint8Array(0), ':'), '');
  assert.equal(toHex(Uint8Array.of(7), ' '), '07');
});

test('fromHex: the inverse, separators and case accepted, bad input refused', () => {
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.deepEqual(fromHex(toHex(bytes)), bytes);
  assert.deepEqual(fromHex(toHex(bytes, ':').toLowerCase()), bytes);
  assert.deepEqual(fromHex('de ad be ef'), Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
  assert.throws(() => fromHex('abc'), TypeError);
  assert.throws(() => fromHex('zz'), TypeError);
});
