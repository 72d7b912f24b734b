/**
 * The SO-PIN is guarded like the user PIN (issue #18 item 8), through the real CLI, pcscd and
 * vpcd (reader "Virtual PCD 2 00 00", port 35965): `ca card init` and `ca card pin unblock`
 * show the SO-PIN tries left before using it, refuse to spend the last try without the typed
 * confirmation or --allow-last-pin-try (exit 4, and the card never sees INITIALIZE or RESET
 * RETRY COUNTER), and refuse a blocked SO-PIN naming the consequence.
 *
 * Getting a card down to its last SO-PIN try takes 14 wrong tries; two are spent for real through
 * the CLI (the count goes down as the card says), the rest are set in the emulator's state file
 * (its `soPin.retries`, the card's non-volatile retry counter), to keep the test short.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';
import { BIN, expectOk, runCommand, type Run } from '../helpers/run-command.js';
import { TEST_PIN, TEST_SO_PIN } from '../helpers/two-card-home.js';

const PORT = 35965;
const dir = mkdtempSync(join(tmpdir(), 'cardca-so-guard-'));
const pin = join(dir, 'user.pin');
const so = join(dir, 'so.pin');
const wrongSo = join(dir, 'wrong-so.pin');
let emu: EmulatorProcess;
const ca = (...args: string[]): Promise<Run> => runCommand(process.execPath, [BIN, ...args]);

/** INS bytes of the APDUs the emulator answered since it was plugged in. */
function insSent(): number[] {
  return readFileSync(emu.apduLogFile, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => parseInt((JSON.parse(l) as { command: string }).command.slice(2, 4), 16));
}
async function soTries(): Promise<number | null> {
  const st = JSON.parse(expectOk(await ca('card', 'status', '--reader', emu.readerName, '--json'), 'card status').stdout) as { soPin: { state: string; triesLeft: number | null } };
  return st.soPin.triesLeft;
}
/** Pull the card, set its SO-PIN retry counter, plug it back. */
async function setSoRetries(n: number): Promise<void> {
  await emu.stop();
  const state = JSON.parse(readFileSync(emu.stateFile, 'utf8')) as { soPin: { retries: number; maxRetries: number } | null };
  assert.ok(state.soPin, 'the card has an SO-PIN');
  state.soPin.retries = n;
  writeFileSync(emu.stateFile, JSON.stringify(state));
  emu = await startEmulator({ port: PORT, stateFile: emu.stateFile });
}

before(async () => {
  writeFileSync(pin, `${TEST_PIN}\n`, { mode: 0o600 });
  writeFileSync(so, `${TEST_SO_PIN}\n`, { mode: 0o600 });
  writeFileSync(wrongSo, '0102030405060708\n', { mode: 0o600 });
  emu = await startEmulator({ port: PORT });
  expectOk(await ca('card', 'init', '--reader', emu.readerName, '--label', 'SO guard', '--so-pin-file', so, '--pin-file', pin), 'first card init');
});

after(async () => {
  await emu?.stop();
});

test('card init shows the SO-PIN tries left before using it; a wrong SO-PIN costs one try, as the card counts', async () => {
  assert.equal(await soTries(), 15);
  const wrong = await ca('card', 'init', '--reader', emu.readerName, '--label', 'SO guard', '--so-pin-file', wrongSo, '--pin-file', pin);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, new RegExp(`card ${emu.serial} in "${emu.readerName}": SO-PIN, 15 tries left`));
  assert.equal(await soTries(), 14);
  const wrong2 = await ca('card', 'pin', 'unblock', '--reader', emu.readerName, '--so-pin-file', wrongSo, '--new-pin-file', pin);
  assert.notEqual(wrong2.code, 0);
  assert.match(wrong2.stderr, /SO-PIN, 14 tries left/);
  assert.equal(await soTries(), 13);
});

test('the last SO-PIN try is not spent without confirmation: init and unblock refuse (exit 4) and send nothing with the SO-PIN', async () => {
  await setSoRetries(1);
  assert.equal(await soTries(), 1);
  const init = await ca('card', 'init', '--reader', emu.readerName, '--label', 'SO guard', '--so-pin-file', so, '--pin-file', pin);
  assert.equal(init.code, 4, init.stderr);
  assert.match(init.stderr, /SO-PIN, 1 try left/);
  assert.match(init.stderr, /SO_PIN_LAST_TRY.*refusing to spend the last SO-PIN try of card/);
  assert.match(init.stderr, /--allow-last-pin-try/);
  const unblock = await ca('card', 'pin', 'unblock', '--reader', emu.readerName, '--so-pin-file', so, '--new-pin-file', pin);
  assert.equal(unblock.code, 4, unblock.stderr);
  assert.match(unblock.stderr, /SO_PIN_LAST_TRY/);
  const sent = insSent();
  assert.ok(!sent.includes(0x50), 'no INITIALIZE');
  assert.ok(!sent.includes(0x2c), 'no RESET RETRY COUNTER');
  assert.equal(await soTries(), 1, 'the try is still there');
  // The operator decides: the right SO-PIN with --allow-last-pin-try; the counter is restored.
  expectOk(await ca('card', 'pin', 'unblock', '--reader', emu.readerName, '--so-pin-file', so, '--new-pin-file', pin, '--allow-last-pin-try'), 'unblock spending the last try');
  assert.equal(await soTries(), 15);
});

test('a blocked SO-PIN is refused before anything is sent, saying what it means', async () => {
  await setSoRetries(0);
  const init = await ca('card', 'init', '--reader', emu.readerName, '--label', 'SO guard', '--so-pin-file', so, '--pin-file', pin);
  assert.equal(init.code, 4, init.stderr);
  assert.match(init.stderr, /SO_PIN_BLOCKED.*blocked/);
  assert.match(init.stderr, /can no longer be re-initialised/);
  assert.ok(!insSent().includes(0x50), 'no INITIALIZE');
});
