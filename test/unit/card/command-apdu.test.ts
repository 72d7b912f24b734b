import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chainCommand, encodeCommand, getResponseCommand } from '../../../src/card/apdu/command-apdu.js';
import { parseResponse } from '../../../src/card/apdu/response-apdu.js';
import { fromHex, toHex } from '../../../src/common/hex.js';

const hex = (b: Uint8Array): string => toHex(b);

test('case 1: header only', () => {
  assert.equal(hex(encodeCommand({ cla: 0x00, ins: 0x20, p1: 0x00, p2: 0x81 })), '00200081');
});

test('case 2 short: Le 256 is encoded 00', () => {
  assert.equal(hex(encodeCommand({ cla: 0x00, ins: 0xb0, p1: 0, p2: 0, le: 256 })), '00B0000000');
  assert.equal(hex(encodeCommand({ cla: 0x00, ins: 0xb0, p1: 0, p2: 0x10, le: 16 })), '00B0001010');
});

test('case 2 extended: 00 Le1 Le2, 65 536 → 0000', () => {
  assert.equal(hex(encodeCommand({ cla: 0x80, ins: 0x58, p1: 0, p2: 0, le: 65536 })), '80580000000000');
  assert.equal(hex(encodeCommand({ cla: 0x00, ins: 0xb0, p1: 0, p2: 0, le: 300 })), '00B0000000012C');
});

test('case 3 short and extended', () => {
  assert.equal(hex(encodeCommand({ cla: 0x00, ins: 0x20, p1: 0, p2: 0x81, data: fromHex('313233343536') })), '0020008106313233343536');
  const data = new Uint8Array(256).fill(0xaa);
  const enc = encodeCommand({ cla: 0x00, ins: 0xd7, p1: 0xce, p2: 0x01, data });
  assert.equal(hex(enc.subarray(0, 7)), '00D7CE01000100');
  assert.equal(enc.length, 7 + 256);
});

test('case 4 short: Lc data Le', () => {
  assert.equal(
    hex(encodeCommand({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x04, data: fromHex('E82B0601040181C31F0201'), le: 256 })),
    '00A404040BE82B0601040181C31F020100',
  );
});

test('case 4 extended: 00 Lc1 Lc2 data Le1 Le2 (no second 00), forced by `extended`', () => {
  assert.equal(
    hex(encodeCommand({ cla: 0x80, ins: 0x68, p1: 0x01, p2: 0x70, data: fromHex('0102'), le: 65536, extended: true })),
    '806801700000020102' + '0000',
  );
});

test('lengths are never mixed: long data forces an extended Le', () => {
  const enc = encodeCommand({ cla: 0, ins: 0x2a, p1: 0x9e, p2: 0x9a, data: new Uint8Array(300), le: 256 });
  assert.equal(hex(enc.subarray(0, 7)), '002A9E9A00012C');
  assert.equal(hex(enc.subarray(enc.length - 2)), '0100');
});

test('header bytes and Le are range-checked', () => {
  assert.throws(() => encodeCommand({ cla: 0x100, ins: 0, p1: 0, p2: 0 }), RangeError);
  assert.throws(() => encodeCommand({ cla: 0, ins: 0, p1: 0, p2: 0, le: 65537 }), RangeError);
});

test('command chaining: CLA|0x10 on all but the last block, Le only on the last', () => {
  const parts = chainCommand({ cla: 0x00, ins: 0x2a, p1: 0x9e, p2: 0x9a, data: Uint8Array.from({ length: 5 }, (_, i) => i), le: 256 }, 2);
  assert.deepEqual(parts.map((p) => hex(encodeCommand(p))), ['102A9E9A020001', '102A9E9A020203', '002A9E9A010400']);
  assert.equal(chainCommand({ cla: 0, ins: 0, p1: 0, p2: 0, data: new Uint8Array(2) }, 2).length, 1);
});

test('GET RESPONSE asks for xx (00 = 256)', () => {
  assert.equal(hex(encodeCommand(getResponseCommand(0x10))), '00C0000010');
  assert.equal(hex(encodeCommand(getResponseCommand(0x00))), '00C0000000');
});

test('response parsing splits data and SW', () => {
  assert.deepEqual(parseResponse(fromHex('AABB9000')), { data: fromHex('AABB'), sw: 0x9000 });
  assert.deepEqual(parseResponse(fromHex('63C2')), { data: new Uint8Array(0), sw: 0x63c2 });
  assert.throws(() => parseResponse(fromHex('90')), RangeError);
});
