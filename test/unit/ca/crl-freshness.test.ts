/**
 * CRL freshness levels (src/ca/crl-freshness.ts) against the profile's crl.overlap: ok until
 * the overlap window opens, warn inside it, alarm in its last quarter and once expired; a CRL
 * just signed is ok; a window not shorter than the CRL's lifetime falls back to half of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crlFreshness } from '../../../src/ca/crl-freshness.js';

const DAY = 86_400_000;
const thisUpdate = new Date('2027-03-01T00:00:00Z');
const nextUpdate = new Date(thisUpdate.getTime() + 30 * DAY);
const at = (ms: number): Date => new Date(thisUpdate.getTime() + ms);
const level = (ms: number, overlap = 7 * DAY): string => crlFreshness(at(ms), thisUpdate, nextUpdate, overlap).level;

test('30-day CRL, 7-day overlap: ok when signed, warn from day 23, alarm from day 28.25, alarm when expired', () => {
  assert.equal(level(0), 'ok');
  assert.equal(level(60_000), 'ok');
  assert.equal(level(23 * DAY - 1), 'ok');
  assert.equal(level(23 * DAY), 'warn');
  assert.equal(level(28.25 * DAY - 1), 'warn');
  assert.equal(level(28.25 * DAY), 'alarm');
  assert.equal(level(30 * DAY - 1), 'alarm');
  assert.equal(level(30 * DAY), 'alarm');
  assert.equal(level(400 * DAY), 'alarm');
  const f = crlFreshness(at(30 * DAY), thisUpdate, nextUpdate, 7 * DAY);
  assert.equal(f.expired, true);
  assert.equal(f.dueFrom.toISOString(), '2027-03-24T00:00:00.000Z');
  assert.equal(f.alarmFrom.toISOString(), '2027-03-29T06:00:00.000Z');
  assert.equal(crlFreshness(at(29 * DAY), thisUpdate, nextUpdate, 7 * DAY).expired, false);
});

test('an overlap not shorter than the lifetime uses half the lifetime, so a fresh CRL is never due', () => {
  assert.equal(level(0, 30 * DAY), 'ok');
  assert.equal(level(15 * DAY - 1, 60 * DAY), 'ok');
  assert.equal(level(15 * DAY, 60 * DAY), 'warn');
  assert.equal(crlFreshness(at(0), thisUpdate, nextUpdate, 0).windowMs, 15 * DAY);
});
