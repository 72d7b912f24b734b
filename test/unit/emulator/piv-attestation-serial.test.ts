// The emulated PIV attestation certificates' serials: always positive and minimal DER, whatever
// the random bytes (a leading 00 before a byte < 0x80 made ~1 in 256 certificates non-DER).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attestationSerial } from '../../../src/card/emulator/piv-attestation.js';

test('attestation serials are positive, minimal DER INTEGER contents, of the random length', () => {
  for (const first of [0x00, 0x01, 0x3f, 0x7f, 0x80, 0xc0, 0xff]) {
    for (const second of [0x00, 0x7f, 0x80, 0xff]) {
      const random = Uint8Array.of(first, second, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
      const s = attestationSerial(random);
      assert.equal(s.length, 16);
      assert.ok(s[0]! < 0x80, 'positive');
      assert.ok(s[0]! !== 0x00, `minimal: no leading 00 (first ${first}, second ${second})`);
      assert.deepEqual(s.subarray(1), random.subarray(1), 'only the first octet is touched');
    }
  }
});
