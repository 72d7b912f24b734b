/** Issue 18 item 13: every PC/SC removal/reset outcome is reported the same way. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cardRemovedError, mapPcscError } from '../../../src/card/transport/pcsc-errors.js';

const READER = 'Virtual PCD 00 00';

test('SCardTransmit "Transaction failed", W_REMOVED_CARD, E_NO_SMARTCARD and an empty answer are one CARD_REMOVED', () => {
  const errs = [
    mapPcscError(new Error('SCardTransmit error: Transaction failed.(0x80100016)'), 'transmit', READER, true),
    mapPcscError(new Error('SCardTransmit error: Card was removed.(0x80100069)'), 'transmit', READER, true),
    mapPcscError(new Error('SCardTransmit error: No smart card inserted.(0x8010000C)'), 'transmit', READER, true),
    cardRemovedError(READER, true),
  ];
  for (const e of errs) {
    assert.equal(e.code, 'CARD_REMOVED');
    assert.equal(e.message, `the card was removed from "${READER}" during a command; the command may have reached the card`);
    assert.equal(e.hint, errs[0]!.hint);
  }
});

test('W_RESET_CARD is CARD_RESET with the same text as the in-process power loss', () => {
  const e = mapPcscError(new Error('SCardTransmit error: Card was reset.(0x80100068)'), 'transmit', READER, true);
  assert.equal(e.code, 'CARD_RESET');
  assert.match(e.message, /was reset during a command; the command may have reached the card; its login state is gone/);
});
