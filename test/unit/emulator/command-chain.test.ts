/**
 * The emulators' command chaining (ISO/IEC 7816-4 §5.1.1.1), shared by the PIV and MyEID cards:
 * parts kept, the last part completes the command, a mismatched last part is 6883.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandChain } from '../../../src/card/emulator/command-chain.js';
import { parseCommandApdu } from '../../../src/card/emulator/command-apdu.js';
import { CardStatus } from '../../../src/card/emulator/status-words.js';

const apdu = (hex: string) => parseCommandApdu(new Uint8Array(Buffer.from(hex.replace(/ /g, ''), 'hex')));

test('parts with CLA 10 are kept; the last part gives the whole command with the data joined', () => {
  const c = new CommandChain();
  assert.equal(c.accept(apdu('10 2A 9E 9A 02 0102')), undefined);
  assert.equal(c.accept(apdu('10 2A 9E 9A 01 03')), undefined);
  const full = c.accept(apdu('00 2A 9E 9A 02 0405'))!;
  assert.deepEqual([full.cla, full.ins, full.p1, full.p2], [0x00, 0x2a, 0x9e, 0x9a]);
  assert.deepEqual([...full.data], [1, 2, 3, 4, 5]);
  // The chain is consumed: the next command stands alone.
  assert.deepEqual([...c.accept(apdu('00 2A 9E 9A 01 09'))!.data], [9]);
});

test('a last part with another INS/P1/P2 is refused with 6883; a new first part restarts the chain; reset forgets it', () => {
  const c = new CommandChain();
  c.accept(apdu('10 2A 9E 9A 01 01'));
  assert.throws(() => c.accept(apdu('00 2A 9E 9B 01 02')), (e: unknown) => e instanceof CardStatus && e.sw === 0x6883);
  c.accept(apdu('10 2A 9E 9A 01 01'));
  c.accept(apdu('10 DB 3F FF 01 07')); // another command's first part: the old chain is dropped
  assert.deepEqual([...c.accept(apdu('00 DB 3F FF 01 08'))!.data], [7, 8]);
  c.accept(apdu('10 2A 9E 9A 01 01'));
  c.reset();
  assert.deepEqual([...c.accept(apdu('00 2A 9E 9A 01 02'))!.data], [2]);
});
