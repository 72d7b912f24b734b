/**
 * docs/migrating.md's examples are run (issue #15 item 4; the markup of test/helpers/doc-examples.ts):
 * in document order, in one rehearsal CA home, with the non-interactive `ca` stand-in, against
 * an old `openssl ca` CA built by test/helpers/legacy-ca.ts whose key is on an emulated
 * SmartCard-HSM ($OLD_CA, $OLD_CARD). docs-examples.test.ts leaves this chapter to this file
 * (OWN_RUNNER) because of that fixture. Port 35970.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractDocExamples, missingOutputLine, runDocExample, writeNonInteractiveCa } from '../helpers/doc-examples.js';
import { startEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';
import { buildOpensslCa, cardWithOpenscKey, PKCS11_MODULE, writePinFiles } from '../helpers/legacy-ca.js';
import { BIN, REPO } from '../helpers/run-command.js';

let dir: string;
let emu: EmulatorProcess;
let passed = false;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cardca-adopt-docs-'));
});

after(async () => {
  await emu?.stop();
  if (passed) rmSync(dir, { recursive: true, force: true });
});

test('docs/migrating.md: the marked examples run in order and print what the chapter shows', async () => {
  const examples = extractDocExamples(readFileSync(join(REPO, 'docs', 'migrating.md'), 'utf8'), 'docs/migrating.md');
  assert.ok(examples.length >= 8, `only ${examples.length} examples`);
  const pins = writePinFiles(dir);
  emu = await startEmulator({ port: 35970 });
  await cardWithOpenscKey(emu, pins);
  const oldCa = await buildOpensslCa(join(dir, 'old-ca'));
  const binDir = join(dir, 'bin');
  writeNonInteractiveCa({ binDir, cliPath: BIN, pinFile: pins.pin, soPinFile: pins.soPin, logFile: join(dir, 'commands.log') });
  const work = join(dir, 'work');
  mkdirSync(work);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${binDir}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
    CA_HOME: join(dir, 'ca-data'),
    OLD_CA: oldCa.dir,
    OLD_CARD: emu.serial,
    PKCS11_MODULE_PATH: PKCS11_MODULE,
    OPENSC_CONF: process.env['OPENSC_CONF'] ?? join(REPO, 'test', 'rig', 'opensc.conf'),
    NO_COLOR: '1',
  };
  for (const ex of examples) {
    const r = await runDocExample(ex, work, env, 120_000);
    const at = `${ex.file}:${ex.line} (doc-test ${ex.name}; work dir ${work})`;
    assert.equal(r.code, ex.expectExit, `${at} exited ${r.code}, the doc says ${ex.expectExit}:\n$ ${ex.script}\n${r.output}`);
    const missing = missingOutputLine(ex.expectOutput, r.output);
    assert.equal(missing, undefined, `${at}: the doc shows "${missing}", the command printed:\n${r.output}`);
  }
  passed = true;
});
