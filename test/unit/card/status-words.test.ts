import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeSw, statusWordError, triesLeftOf } from '../../../src/card/apdu/status-words.js';
import { PinError, StatusWordError } from '../../../src/card/errors.js';

test('63Cx becomes PIN_INCORRECT with tries left', () => {
  const e = statusWordError(0x63c2, 'VERIFY');
  assert.ok(e instanceof PinError);
  assert.equal(e.code, 'PIN_INCORRECT');
  assert.equal(e.triesLeft, 2);
  assert.match(e.message, /2 tries left/);
  assert.equal(triesLeftOf(0x63c0), 0);
  assert.equal(triesLeftOf(0x9000), undefined);
});

test('6983 is PIN_BLOCKED with an unblock hint', () => {
  const e = statusWordError(0x6983, 'VERIFY');
  assert.ok(e instanceof PinError);
  assert.equal(e.code, 'PIN_BLOCKED');
  assert.match(e.hint ?? '', /ca card pin unblock/);
});

test('table entries carry sw, meaning and a stable code', () => {
  const cases: Array<[number, string, RegExp]> = [
    [0x6982, 'PIN_REQUIRED', /security status not satisfied/],
    [0x6a82, 'CARD_FILE_NOT_FOUND', /file or application not found/],
    [0x6700, 'APDU_WRONG_LENGTH', /wrong length/],
    [0x6a81, 'CARD_FUNCTION_NOT_SUPPORTED', /function not supported/],
    [0x6984, 'CARD_REFERENCE_DATA_NOT_USABLE', /reference data not usable/],
    [0x6581, 'CARD_MEMORY_FAILURE', /memory failure/],
    [0x6f00, 'CARD_INTERNAL_ERROR', /no precise diagnosis/],
  ];
  for (const [sw, code, meaning] of cases) {
    const e = statusWordError(sw, 'op');
    assert.ok(e instanceof StatusWordError, sw.toString(16));
    assert.equal(e.sw, sw);
    assert.equal(e.code, code);
    assert.match(e.meaning, meaning);
    assert.match(e.message, new RegExp(sw.toString(16).toUpperCase()));
  }
});

test('parametrised and unknown status words', () => {
  assert.match(describeSw(0x6110).meaning, /16 more bytes/);
  assert.match(describeSw(0x6c20).meaning, /exact length 32/);
  assert.equal(describeSw(0x6999).code, 'CARD_COMMAND_NOT_ALLOWED');
  assert.equal(describeSw(0x1234).code, 'CARD_UNKNOWN_SW');
});
