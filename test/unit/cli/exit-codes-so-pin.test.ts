/**
 * The SO-PIN is guarded like the user PIN (issue #18 item 8), and scripts see it the same way:
 * every SO_PIN_… refusal exits 4, as PIN_… and PUK_… do (src/cli/exit-codes.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXIT, exitCodeFor } from '../../../src/cli/exit-codes.js';
import { PinError } from '../../../src/card/errors.js';

test('SO_PIN_LAST_TRY, SO_PIN_BLOCKED and SO_PIN_INCORRECT exit like their user-PIN counterparts', () => {
  for (const code of ['SO_PIN_LAST_TRY', 'SO_PIN_BLOCKED', 'SO_PIN_INCORRECT']) {
    assert.equal(exitCodeFor(new PinError(code, 'x', { triesLeft: 1 })), EXIT.pin, code);
    assert.equal(exitCodeFor(new PinError(code.replace(/^SO_/, ''), 'x', { triesLeft: 1 })), EXIT.pin);
  }
});
