import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DateTime } from 'luxon';
import { isoUtc, LUXON_UTC } from '../../../src/ca/clock.js';

// isoUtc takes Date#toISOString for years 0000–9999: the store's text must stay byte-identical
// to the luxon rendering it had (rows sort and compare as text).
const luxon = (d: Date): string => DateTime.fromJSDate(d, LUXON_UTC).toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'");

test('isoUtc is the luxon rendering on edge and random dates', () => {
  const edges = ['1970-01-01T00:00:00.000Z', '2026-12-02T23:59:59.999Z', '2000-02-29T12:00:00.001Z', '9999-12-31T23:59:59.999Z', '0000-01-01T00:00:00.000Z', '1949-12-31T23:59:59.000Z'];
  for (const e of edges) assert.equal(isoUtc(new Date(e)), luxon(new Date(e)), e);
  let x = 12345;
  for (let i = 0; i < 2000; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const ms = Math.floor((x / 2 ** 31) * 253402300799999); // 1970 … 9999
    const d = new Date(ms);
    assert.equal(isoUtc(d), luxon(d), String(ms));
  }
});

test('isoUtc outside 0000–9999 keeps the luxon rendering; an invalid date is refused', () => {
  const far = new Date(Date.UTC(10000, 0, 1));
  assert.equal(isoUtc(far), luxon(far));
  assert.throws(() => isoUtc(new Date(NaN)), /invalid date/);
});
