/**
 * Issue 18 "Must show" (items 1, 2, 9, 10): on one emulated SmartCard-HSM, `pkcs11-tool
 * --keypairgen` (OpenSC's own pkcs15init for sc-hsm) makes RSA-1024, brainpoolP256r1 and P-521
 * keys, then `ca card keygen --alg p384`; `ca card list --json` lists all four with their real
 * algorithm, each with the iD `pkcs15-tool -D` shows; a root ceremony with the P-384 key
 * (`--key-id`) succeeds on that card, and OpenSC reads the certificate the write-back stored.
 * Port 35964 ("Virtual PCD 00 01"), the emulator-opensc group's second port.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, expectOk, runCommand, type Run } from '../helpers/run-command.js';
import { startEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';

const MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
const PIN = '648219';
let dir: string;
let emu: EmulatorProcess;
let pinFile: string;
const run = (cmd: string, args: readonly string[]): Promise<Run> => runCommand(cmd, args, { timeoutMs: 180_000 });
const ca = (...args: string[]): Promise<Run> => run(process.execPath, [BIN, ...args]);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cardca-foreign-'));
  pinFile = join(dir, 'user.pin');
  const so = join(dir, 'so.pin');
  writeFileSync(pinFile, `${PIN}\n`, { mode: 0o600 });
  writeFileSync(so, '3537363231383830\n', { mode: 0o600 });
  emu = await startEmulator({ port: 35964 });
  expectOk(await ca('card', 'init', '--reader', emu.readerName, '--label', 'Foreign keys', '--so-pin-file', so, '--pin-file', pinFile), 'card init');
});

after(async () => {
  await emu?.stop();
});

test('keys made by pkcs11-tool are listed with their real type and OpenSC\'s iD; a root ceremony uses the P-384 key on the same card', async () => {
  const p11 = (...a: string[]) => ['--module', MODULE, '--slot-description', emu.readerName, '--login', '--pin', PIN, ...a];
  expectOk(await run('pkcs11-tool', p11('--keypairgen', '--key-type', 'rsa:1024', '--label', 'legacy-rsa1024')), 'pkcs11-tool rsa:1024');
  expectOk(await run('pkcs11-tool', p11('--keypairgen', '--key-type', 'EC:brainpoolP256r1', '--label', 'bp256')), 'pkcs11-tool brainpoolP256r1');
  expectOk(await run('pkcs11-tool', p11('--keypairgen', '--key-type', 'EC:secp521r1', '--label', 'p521-by-opensc')), 'pkcs11-tool secp521r1');
  const gen = JSON.parse(expectOk(await ca('card', 'keygen', '--reader', emu.readerName, '--label', 'root-2026', '--alg', 'p384', '--pin-file', pinFile, '--json'), 'ca card keygen').stdout) as { id: string };

  const listed = JSON.parse(expectOk(await ca('card', 'list', '--reader', emu.readerName, '--json'), 'ca card list').stdout) as Array<{ keys: Array<{ label: string; id: string; algorithm: string; usable: boolean; size: number }> }>;
  const keys = listed[0]!.keys;
  assert.deepEqual(
    keys.map((k) => [k.label, k.algorithm, k.size, k.usable]),
    [
      ['legacy-rsa1024', 'rsa1024', 1024, false],
      ['bp256', 'brainpoolP256r1', 256, false],
      ['p521-by-opensc', 'p521', 521, true],
      ['root-2026', 'p384', 384, true],
    ],
  );
  // One key, one iD: what pkcs15-tool -D shows for each private key is what cardca lists.
  const dump = expectOk(await run('pkcs15-tool', ['-r', emu.readerName, '-D']), 'pkcs15-tool -D').stdout;
  for (const k of keys) {
    // The key's own "ID" line (not "Auth ID", which comes first).
    const block = new RegExp(`Private (?:RSA|EC) Key \\[${k.label}\\][\\s\\S]*?\\n\\s*ID\\s*:\\s*([0-9a-f]+)`, 'i').exec(dump);
    assert.ok(block, `pkcs15-tool lists ${k.label}:\n${dump}`);
    assert.equal(block[1]!.toUpperCase(), k.id, `iD of ${k.label}`);
  }
  assert.equal(keys[3]!.id, gen.id);

  // The root profile wants p384 (+ ecdsa-sha384): the ceremony uses the existing key.
  const home = join(dir, 'home');
  expectOk(await ca('init', '--rehearsal', '--home', home), 'ca init');
  expectOk(await ca('ceremony', 'root', '--home', home, '--card', emu.serial, '--key-id', gen.id, '--pin-file', pinFile, '--yes'), 'ceremony root with --key-id');
  const after = JSON.parse(expectOk(await ca('card', 'list', '--reader', emu.readerName, '--json'), 'ca card list').stdout) as Array<{ keys: Array<{ label: string; certificateSubject: string | null }> }>;
  assert.match(String(after[0]!.keys[3]!.certificateSubject), /CN=/);
  assert.equal(after[0]!.keys.length, 4, 'the other keys are untouched');
  // OpenSC reads the certificate the safe write-back stored in CE xx.
  const certs = expectOk(await run('pkcs15-tool', ['-r', emu.readerName, '--list-certificates']), 'pkcs15-tool --list-certificates').stdout;
  assert.match(certs, /X\.509 Certificate \[root-2026\]/);
  const rootCrt = readFileSync(join(home, 'certs', 'root.crt'));
  assert.ok(rootCrt.length > 0);
});
