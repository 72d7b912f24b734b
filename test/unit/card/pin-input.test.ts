import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPinFile, soPinBytes } from '../../../src/cli/pin-input.js';

const dir = mkdtempSync(join(tmpdir(), 'cardca-pin-'));

test('a PIN file gives its first line only, without CR/LF', () => {
  const f = join(dir, 'pin');
  writeFileSync(f, '648219\r\nsecond line\n');
  assert.equal(readPinFile(f).toString(), '648219');
  writeFileSync(f, '123456');
  assert.equal(readPinFile(f).toString(), '123456');
});

test('empty or missing PIN files are refused with a typed error that names no PIN', () => {
  const f = join(dir, 'empty');
  writeFileSync(f, '\n');
  assert.throws(() => readPinFile(f), (e: unknown) => (e as { code?: string }).code === 'PIN_FILE_EMPTY');
  assert.throws(() => readPinFile(join(dir, 'nope')), (e: unknown) => (e as { code?: string }).code === 'PIN_FILE_UNREADABLE');
});

test('the SO-PIN is 16 hex digits turned into 8 bytes; the text buffer is wiped', () => {
  const text = Buffer.from('3537363231383830');
  assert.equal(soPinBytes(text).toString('hex'), '3537363231383830');
  assert.ok(text.every((b) => b === 0));
  assert.throws(() => soPinBytes(Buffer.from('12345')), (e: unknown) => (e as { code?: string }).code === 'PIN_SO_FORMAT');
});
