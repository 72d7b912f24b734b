/**
 * `ca card init` on an Aventra MyEID (issue 13), judged by OpenSC through pcscd. Two factory-fresh
 * emulated MyEIDs: ours ("Virtual PCD 4 00 00", port 35969) is personalised by `ca card init`, the
 * reference ("Virtual PCD 4 00 01", port 35970) by OpenSC 0.23's own pkcs15-init --erase-card,
 * --create-pkcs15 --profile pkcs15+onepin, --store-pin --auth-id 01, --finalize. Then:
 *   - the two cards hold the same files (size, ACL, content) and PIN records; the only differences
 *     are the serial and the lastUpdate time in TokenInfo; `pkcs15-tool -D` shows the same token
 *     and PINs on both;
 *   - on our card `pkcs15-init --generate-key rsa/2048 --auth-id 01` works, so does
 *     `ca card keygen`, and `pkcs11-tool --sign` signs with both keys, verified by openssl;
 *   - `ca card init` again refuses without --yes (not a terminal), refuses a wrong SO PIN with a
 *     typed error, refuses bad input, and in each case the card is unchanged.
 * PINs go to OpenSC as `env:NAME` and to cardca as files, never on argv.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, expectOk, runCommand, type Run } from '../helpers/run-command.js';
import { startEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';

const PIN = '246810';
const PUK = '13572468';
const ENV = { MYEID_PIN: PIN, MYEID_PUK: PUK };
const P11 = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
const LABEL = 'Servers CA card';
const run = (cmd: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> => runCommand(cmd, args, { timeoutMs: 180_000, env });
const ok = expectOk;
const ca = (...args: string[]) => run(process.execPath, [BIN, ...args]);

let dir: string;
let ours: EmulatorProcess;
let theirs: EmulatorProcess;
let oursIdx: string;
let theirsIdx: string;
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, `${text}\n`, { mode: 0o600 });
  return p;
};
let pinFile: string;
let pukFile: string;

interface State { serial: string; lifeCycle: string; files: Record<string, { size: number; acl: string; data?: string; type: string }>; pins: Record<string, unknown> }
const state = (e: EmulatorProcess): State => JSON.parse(readFileSync(e.stateFile, 'utf8')) as State;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cardca-myeid-init-'));
  pinFile = file('pin', PIN);
  pukFile = file('puk', PUK);
  ours = await startEmulator({ port: 35969, extraArgs: ['--type', 'myeid'] });
  theirs = await startEmulator({ port: 35970, extraArgs: ['--type', 'myeid'] });
  const list = ok(await run('opensc-tool', ['-l']), 'opensc-tool -l').stdout;
  const idx = (name: string) => list.split('\n').find((l) => l.includes(name))!.trim().split(/\s+/)[0]!;
  oursIdx = idx(ours.readerName);
  theirsIdx = idx(theirs.readerName);

  ok(await ca('card', 'init', '--reader', ours.readerName, '--label', LABEL, '--pin-file', pinFile, '--so-pin-file', pukFile), 'ca card init');

  const p15 = async (...args: string[]) => ok(await run('pkcs15-init', ['-r', theirsIdx, ...args], ENV), `pkcs15-init ${args[0]}`);
  await p15('--erase-card');
  await p15('--create-pkcs15', '--profile', 'pkcs15+onepin', '--pin', 'env:MYEID_PIN', '--puk', 'env:MYEID_PUK', '--so-pin', 'env:MYEID_PUK', '--label', LABEL);
  await p15('--store-pin', '--auth-id', '01', '--profile', 'pkcs15+onepin', '--pin', 'env:MYEID_PIN', '--puk', 'env:MYEID_PUK', '--label', 'User PIN');
  await p15('--finalize', '--profile', 'pkcs15+onepin');
});

after(async () => {
  await ours?.stop();
  await theirs?.stop();
});

/** TokenInfo with its two per-card values blanked: the serial (04 0A …) and lastUpdate (A5 11 18 0F …Z). */
function tokenInfoWithoutSerialAndTime(hex: string, serial: string): string {
  assert.ok(hex.includes(`040A${serial}`), 'TokenInfo carries the applet serial');
  const out = hex.replace(`040A${serial}`, '040A' + '00'.repeat(10)).replace(/A511180F([0-9A-F]{28})5A/, `A511180F${'30'.repeat(14)}5A`);
  assert.notEqual(out, hex.replace(`040A${serial}`, '040A' + '00'.repeat(10)), 'TokenInfo has a lastUpdate');
  return out;
}

test('the files and PIN records equal those pkcs15-init writes, but for the serial and lastUpdate', () => {
  const a = state(ours);
  const b = state(theirs);
  assert.equal(a.lifeCycle, 'operational');
  assert.equal(b.lifeCycle, 'operational');
  assert.deepEqual(Object.keys(a.files).sort(), Object.keys(b.files).sort());
  for (const p of Object.keys(b.files)) {
    const x = structuredClone(a.files[p]!);
    const y = structuredClone(b.files[p]!);
    if (p === '3F0050155032') {
      x.data = tokenInfoWithoutSerialAndTime(x.data!, a.serial);
      y.data = tokenInfoWithoutSerialAndTime(y.data!, b.serial);
    }
    assert.deepEqual(x, y, `file ${p}`);
  }
  // Same PINs and PUKs, same tries: the records are equal (the emulator keeps SHA-256 of the padded values).
  assert.deepEqual(a.pins, b.pins);
});

test('pkcs15-tool -D shows the same token and PINs on both cards', async () => {
  const dump = async (r: string, serial: string) =>
    ok(await run('pkcs15-tool', ['-r', r, '-D']), 'pkcs15-tool -D')
      .stdout.replace(new RegExp(serial, 'gi'), '<serial>')
      .replace(/Virtual PCD 4 00 0[01]/g, '<reader>')
      .replace(/^.*Last update.*$/gim, '');
  const a = await dump(oursIdx, ours.serial);
  const b = await dump(theirsIdx, theirs.serial);
  assert.match(a, new RegExp(`PKCS#15 Card \\[${LABEL}\\]`));
  assert.match(a, /PIN \[User PIN\][\s\S]*?\n\tID\s*: 01/);
  assert.match(a, /PIN \[Security Officer PIN\][\s\S]*?\n\tID\s*: ff/);
  assert.equal(a, b);
});

test('on the card ca card init made: pkcs15-init --generate-key and ca card keygen; pkcs11-tool --sign verifies with openssl', async () => {
  ok(await run('pkcs15-init', ['-r', oursIdx, '--generate-key', 'rsa/2048', '--auth-id', '01', '--pin', 'env:MYEID_PIN', '--label', 'pkcs15-init key', '--profile', 'pkcs15+onepin'], ENV), 'pkcs15-init --generate-key');
  const gen = JSON.parse(ok(await ca('card', 'keygen', '--reader', ours.readerName, '--label', 'cardca key', '--alg', 'p256', '--pin-file', pinFile, '--json'), 'ca card keygen').stdout) as { id: string };
  const dump = ok(await run('pkcs15-tool', ['-r', oursIdx, '-D']), 'pkcs15-tool -D').stdout;
  const rsa = /Private RSA Key \[pkcs15-init key\][\s\S]*?\n\tID\s+: ([0-9a-f]+)/.exec(dump);
  assert.ok(rsa, dump);
  assert.match(dump, new RegExp(`Private EC Key \\[cardca key\\][\\s\\S]*?\\n\\tID\\s+: ${gen.id.toLowerCase()}`));
  const listed = JSON.parse(ok(await ca('card', 'list', '--reader', ours.readerName, '--json'), 'ca card list').stdout) as Array<{ label: string; keys: Array<{ label: string; usable: boolean }> }>;
  assert.equal(listed[0]!.label, LABEL);
  assert.deepEqual(listed[0]!.keys.map((k) => [k.label, k.usable]), [['pkcs15-init key', true], ['cardca key', true]]);

  const data = join(dir, 'data.bin');
  writeFileSync(data, 'signed on a MyEID that ca card init personalised');
  for (const [id, mech] of [[rsa[1]!, 'SHA256-RSA-PKCS'], [gen.id.toLowerCase(), 'ECDSA-SHA256']] as const) {
    const pub = join(dir, `${id}.pem`);
    const sig = join(dir, `${id}.sig`);
    ok(await run('pkcs15-tool', ['-r', oursIdx, '--read-public-key', id, '-o', pub]), 'read public key');
    ok(
      await run('pkcs11-tool', ['--module', P11, '--token-label', `${LABEL} (User PIN)`, '--login', '--pin', 'env:MYEID_PIN', '--sign', '--mechanism', mech, ...(mech.startsWith('ECDSA') ? ['--signature-format', 'openssl'] : []), '--id', id, '-i', data, '-o', sig], ENV),
      `pkcs11-tool --sign ${mech}`,
    );
    const v = await run('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', sig, data]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /Verified OK/);
  }
});

test('init on the personalised card: refused without --yes, with a wrong SO PIN, with bad input; nothing changes', async () => {
  const before = readFileSync(ours.stateFile, 'utf8');
  const files = () => JSON.stringify(state(ours).files);
  const beforeFiles = files();

  const noYes = await ca('card', 'init', '--reader', ours.readerName, '--label', 'Again', '--pin-file', pinFile, '--so-pin-file', pukFile, '--current-so-pin-file', pinFile);
  assert.notEqual(noYes.code, 0);
  assert.match(noYes.stderr, /USAGE_CONFIRMATION_REQUIRED/);
  assert.equal(readFileSync(ours.stateFile, 'utf8'), before);

  const wrong = await ca('card', 'init', '--reader', ours.readerName, '--label', 'Again', '--pin-file', pinFile, '--so-pin-file', pukFile, '--current-so-pin-file', file('wrong', '000000'), '--yes');
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /SO_PIN_INCORRECT/);
  assert.match(wrong.stderr, /2 tries left/);
  assert.equal(files(), beforeFiles);

  const shortPin = await ca('card', 'init', '--reader', ours.readerName, '--label', 'Again', '--pin-file', file('short', '123'), '--so-pin-file', pukFile, '--current-so-pin-file', pinFile, '--yes');
  assert.notEqual(shortPin.code, 0);
  assert.match(shortPin.stderr, /4 to 8 characters/);
  const retries = await ca('card', 'init', '--reader', ours.readerName, '--label', 'Again', '--pin-file', pinFile, '--so-pin-file', pukFile, '--current-so-pin-file', pinFile, '--yes', '--retries', '15');
  assert.notEqual(retries.code, 0);
  assert.equal(files(), beforeFiles);

  // The PIN stayed off argv and out of every message.
  for (const r of [noYes, wrong, shortPin, retries]) assert.doesNotMatch(r.stdout + r.stderr, new RegExp(PIN));
  // The keys are still there and the SO PIN tries come back with the right PIN.
  const listed = JSON.parse(ok(await ca('card', 'list', '--reader', ours.readerName, '--json'), 'ca card list').stdout) as Array<{ keys: unknown[] }>;
  assert.equal(listed[0]!.keys.length, 2);
});

test('init --yes with the right SO PIN re-personalises the card: the keys are gone, the new PIN works', async () => {
  const newPin = file('new-pin', '97531');
  const r = ok(await ca('card', 'init', '--reader', ours.readerName, '--label', 'Second life', '--pin-file', newPin, '--so-pin-file', pukFile, '--current-so-pin-file', pinFile, '--yes'), 'ca card init again');
  assert.match(r.stdout, /initialised card .* label "Second life"/);
  const listed = JSON.parse(ok(await ca('card', 'list', '--reader', ours.readerName, '--json'), 'ca card list').stdout) as Array<{ label: string; keys: unknown[] }>;
  assert.equal(listed[0]!.label, 'Second life');
  assert.equal(listed[0]!.keys.length, 0);
  ok(await ca('card', 'keygen', '--reader', ours.readerName, '--label', 'k', '--alg', 'p256', '--pin-file', newPin), 'keygen with the new PIN');
});
