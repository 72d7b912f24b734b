/**
 * A certificate write-back never strands a key (issue #18 item 3), with the fault injected in the
 * emulator process behind vpcd and everything else real: pcscd, the pcsclite binding and the CLI
 * (reader "Virtual PCD 4 00 00", port 35969). The in-process loop (test/unit/card/cert-write-back)
 * covers power loss too; here the card answers 6F00 instead of processing the Kth APDU, for every
 * K of a `ca card cert write` from the PIN VERIFY on. Each case: the key is still listed by
 * `ca card list` with its public key, and the identical `ca card cert write` run again completes
 * (the certificate is then on the card, subject shown).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';
import { BIN, expectOk, runCommand, type Run } from '../helpers/run-command.js';
import { TEST_PIN, TEST_SO_PIN } from '../helpers/two-card-home.js';
import { PcscCardService } from '../../src/card/pcsc-card-service.js';
import { selfSignedForTest } from '../unit/card/helpers/self-signed.js';

const PORT = 35969;
const dir = mkdtempSync(join(tmpdir(), 'cardca-wb-vpcd-'));
const pin = join(dir, 'user.pin');
const so = join(dir, 'so.pin');
const certFile = join(dir, 'cert.der');
/** The card with the key and no certificate yet: every case starts from a copy of it. */
const pristine = join(dir, 'pristine.json');
let keyId: string;
const running: EmulatorProcess[] = [];
const ca = (...args: string[]): Promise<Run> => runCommand(process.execPath, [BIN, ...args]);

async function plug(stateFile: string, faults: string[] = []): Promise<EmulatorProcess> {
  const e = await startEmulator({ port: PORT, stateFile, faults });
  running.push(e);
  return e;
}
async function unplug(e: EmulatorProcess): Promise<void> {
  running.splice(running.indexOf(e), 1);
  await e.stop();
}
function commands(e: EmulatorProcess): string[] {
  return readFileSync(e.apduLogFile, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => (JSON.parse(l) as { command: string }).command);
}
interface ListedKey { id: string; state: string; usable: boolean; certificateSubject: string | null }
async function listed(e: EmulatorProcess): Promise<ListedKey | undefined> {
  const out = JSON.parse(expectOk(await ca('card', 'list', '--reader', e.readerName, '--json'), 'card list').stdout) as { keys: ListedKey[] }[];
  return out[0]?.keys.find((k) => k.id === keyId);
}
const write = (e: EmulatorProcess) => ca('card', 'cert', 'write', certFile, '--reader', e.readerName, '--key-id', keyId, '--pin-file', pin);

before(async () => {
  writeFileSync(pin, `${TEST_PIN}\n`, { mode: 0o600 });
  writeFileSync(so, `${TEST_SO_PIN}\n`, { mode: 0o600 });
  const setup = await plug(join(dir, 'setup.json'));
  expectOk(await ca('card', 'init', '--reader', setup.readerName, '--label', 'write-back', '--so-pin-file', so, '--pin-file', pin), 'card init');
  keyId = (JSON.parse(expectOk(await ca('card', 'keygen', '--reader', setup.readerName, '--label', 'ca', '--alg', 'p256', '--pin-file', pin, '--json'), 'keygen').stdout) as { id: string }).id;
  // A certificate for that key, signed by the card through pcsclite.
  const service = new PcscCardService();
  try {
    const s = await service.open({ reader: setup.readerName });
    try {
      await s.verifyPin(Buffer.from(TEST_PIN));
      writeFileSync(certFile, await selfSignedForTest(await s.signer(keyId), 'CN=write-back through vpcd'));
    } finally {
      await s.close();
    }
  } finally {
    await service.close();
  }
  await unplug(setup);
  copyFileSync(setup.stateFile, pristine);
});

after(async () => {
  for (const e of [...running]) await e.stop();
});

test('a card error at every APDU of ca card cert write, through pcscd: the key stays listed and the re-run completes', async () => {
  // The undisturbed command, to count its APDUs and find where the PIN was verified.
  const probeState = join(dir, 'probe.json');
  copyFileSync(pristine, probeState);
  const probe = await plug(probeState);
  expectOk(await write(probe), 'undisturbed cert write');
  const cmds = commands(probe);
  assert.equal((await listed(probe))?.certificateSubject, 'CN=write-back through vpcd');
  await unplug(probe);
  const verifyAt = cmds.findIndex((c) => c.startsWith('0020') && c.includes('<redacted>')) + 1;
  assert.ok(verifyAt > 0, `the command verifies the PIN: ${cmds.join(' ')}`);
  const total = cmds.length;
  assert.ok(total - verifyAt >= 5, `the write-back takes ${total - verifyAt} APDUs after VERIFY`);

  const outcomes: string[] = [];
  for (let k = verifyAt + 1; k <= total; k++) {
    const state = join(dir, `case-${k}.json`);
    copyFileSync(pristine, state);
    const e = await plug(state, [`sw=${k}:6F00`]);
    try {
      const r = await write(e);
      outcomes.push(`${k}:${r.code}`);
      if (r.code !== 0) assert.match(r.stderr, /error \[[A-Z_]+\]/, `APDU ${k}: a typed error (${r.stderr})`);
      const key = await listed(e);
      assert.ok(key, `APDU ${k} (${cmds[k - 1]!.slice(0, 8)}): the key is still listed`);
      assert.equal(key.state, 'complete', `APDU ${k}: its public key is still readable`);
      assert.equal(key.usable, true, `APDU ${k}`);
      expectOk(await write(e), `APDU ${k}: the re-run`);
      assert.equal((await listed(e))?.certificateSubject, 'CN=write-back through vpcd', `APDU ${k}: the certificate is on the card`);
    } finally {
      await unplug(e);
    }
  }
  assert.ok(outcomes.some((o) => !o.endsWith(':0')), `some faults made the first write fail: ${outcomes.join(' ')}`);
});
