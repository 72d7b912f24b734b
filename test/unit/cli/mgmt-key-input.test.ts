import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mgmtKeyBytes } from '../../../src/cli/mgmt-key-input.js';
import { CliError } from '../../../src/cli/cli-error.js';

test('management key text: 32/48/64 hex digits become key bytes and the text buffer is wiped', () => {
  const text = Buffer.from(' 010203040506070801020304050607080102030405060708 ');
  const key = mgmtKeyBytes(text);
  assert.equal(key.toString('hex'), '010203040506070801020304050607080102030405060708');
  assert.ok(text.every((b) => b === 0), 'wiped');
  assert.equal(mgmtKeyBytes(Buffer.from('AABBCCDDEEFF00112233445566778899')).length, 16);
  assert.equal(mgmtKeyBytes(Buffer.from('ab'.repeat(32))).length, 32);
});

test('management key text: wrong length or non-hex is a typed error that names no key material', () => {
  for (const bad of ['0102', '01020304050607080102030405060708010203040506070', 'zz0203040506070801020304050607080102030405060708']) {
    const t = Buffer.from(bad);
    assert.throws(() => mgmtKeyBytes(t), (e: unknown) => e instanceof CliError && e.code === 'PIV_MGMT_KEY_FORMAT' && !e.message.includes(bad));
    assert.ok(t.every((b) => b === 0), 'wiped on error too');
  }
});
