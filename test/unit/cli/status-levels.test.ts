/**
 * `ca status` thresholds (src/cli/commands/status.ts): whole days left, rounded down, and the
 * warn (≤ 30 days) / alarm (≤ 7 days or past) boundaries, including custom thresholds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALARM_DAYS, WARN_DAYS } from '../../../src/cli/commands/status.js';
import { daysLeft, levelFor } from '../../../src/cli/commands/status-run.js';

const DAY = 86_400_000;
const now = new Date('2027-03-01T12:00:00Z');
const at = (ms: number): Date => new Date(now.getTime() + ms);

test('defaults are warn 30 days, alarm 7 days', () => {
  assert.equal(WARN_DAYS, 30);
  assert.equal(ALARM_DAYS, 7);
});

test('daysLeft rounds down and goes negative once past', () => {
  assert.equal(daysLeft(now, at(30 * DAY)), 30);
  assert.equal(daysLeft(now, at(30 * DAY - 1)), 29);
  assert.equal(daysLeft(now, at(0)), 0);
  assert.equal(daysLeft(now, at(-1)), -1);
  assert.equal(daysLeft(now, at(-3 * DAY)), -3);
});

test('levels at the boundaries', () => {
  assert.equal(levelFor(now, at(30 * DAY + 1)), 'ok');
  assert.equal(levelFor(now, at(30 * DAY)), 'warn');
  assert.equal(levelFor(now, at(7 * DAY + 1)), 'warn');
  assert.equal(levelFor(now, at(7 * DAY)), 'alarm');
  assert.equal(levelFor(now, at(1)), 'alarm');
  assert.equal(levelFor(now, at(0)), 'alarm');
  assert.equal(levelFor(now, at(-DAY)), 'alarm');
});

test('custom thresholds', () => {
  const t = { warnDays: 14, alarmDays: 3 };
  assert.equal(levelFor(now, at(20 * DAY), t), 'ok');
  assert.equal(levelFor(now, at(14 * DAY), t), 'warn');
  assert.equal(levelFor(now, at(3 * DAY), t), 'alarm');
  // alarmDays 0: only an expired item alarms.
  assert.equal(levelFor(now, at(1), { warnDays: 0, alarmDays: 0 }), 'ok');
  assert.equal(levelFor(now, at(0), { warnDays: 0, alarmDays: 0 }), 'alarm');
});
