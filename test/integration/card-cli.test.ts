/**
 * Issue 3 "Must show", through the real PC/SC stack: pcscd + vpcd reader "Virtual PCD 2 00 00"
 * (port 35965) + the emulated SmartCard-HSM, driven by the real CLI (`node dist/src/cli/bin.js`)
 * and cross-checked with OpenSC (pkcs15-tool, pkcs11-tool) and openssl.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';
import { PcscCardService } from '../../src/card/pcsc-card-service.js';
import type { SignatureAlgorithm } from '../../src/crypto/signer.js';

const PORT = 35965;
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = join(REPO, 'dist', 'src', 'cli', 'bin.js');
const PKCS11 = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: readonly string[], timeout = 60_000): Promise<Run> {
  return new Promise((res) => {
    execFile(cmd, args, { timeout, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      res({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const ca = (...args: string[]): Promise<Run> => run(process.execPath, [BIN, ...args]);

let emu: EmulatorProcess;
let dir: string;
let reader: string;
let pinFile: string;
let soPinFile: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cardca-card-cli-'));
  pinFile = join(dir, 'user.pin');
  soPinFile = join(dir, 'so.pin');
  writeFileSync(pinFile, '648219\n', { mode: 0o600 });
  writeFileSync(soPinFile, '3537363231383830\n', { mode: 0o600 });
  emu = await startEmulator({ port: PORT });
  reader = emu.readerName;
});

after(async () => {
  await emu?.stop();
});

async function status(): Promise<Record<string, any>> {
  const r = await ca('card', 'status', '--reader', reader, '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, any>;
}

test('card status on a blank card, init, then status shows tries and spends none', async () => {
  const before = await status();
  assert.equal(before['serial'], emu.serial);
  assert.equal(before['initialized'], false);

  const init = await ca('card', 'init', '--reader', reader, '--label', 'Card CLI CA', '--so-pin-file', soPinFile, '--pin-file', pinFile, '--retries', '3');
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /initialised card/);

  const s1 = await status();
  const s2 = await status();
  assert.equal(s1['initialized'], true);
  assert.equal(s1['label'], 'Card CLI CA');
  assert.deepEqual(s1['pin'], { state: 'not-verified', triesLeft: 3 });
  assert.deepEqual(s1['soPin'], { state: 'not-verified', triesLeft: 15 });
  assert.deepEqual(s2['pin'], s1['pin'], 'status checks spend no try');
});

const generated = new Map<string, string>();

test('card keygen RSA-2048, P-256, P-384 via the CLI; card list shows them', async () => {
  for (const alg of ['rsa2048', 'p256', 'p384']) {
    const r = await ca('card', 'keygen', '--reader', reader, '--label', `ca-${alg}`, '--alg', alg, '--pin-file', pinFile, '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { id: string; algorithm: string; publicKeyPem: string };
    assert.equal(out.algorithm, alg);
    writeFileSync(join(dir, `${alg}.pub.pem`), out.publicKeyPem + '\n');
    generated.set(alg, out.id);
  }
  const list = await ca('card', 'list', '--reader', reader, '--json');
  assert.equal(list.code, 0, list.stderr);
  const [card] = JSON.parse(list.stdout) as Array<{ serial: string; keys: Array<{ label: string; id: string; algorithm: string; size: number }> }>;
  assert.equal(card!.serial, emu.serial);
  for (const [alg, id] of generated) {
    const k = card!.keys.find((x) => x.id === id);
    assert.ok(k, `key ${alg} listed`);
    assert.equal(k.label, `ca-${alg}`);
    assert.equal(k.algorithm, alg);
  }
  const text = await ca('card', 'list', '--reader', reader);
  assert.match(text.stdout, /key "ca-p384" id [0-9A-F]{40} p384 \(384 bits\)/);
});

test('OpenSC pkcs15-tool -D lists the keys cardca generated, with the same iD', async () => {
  const r = await run('pkcs15-tool', ['--reader', reader, '-D']);
  assert.equal(r.code, 0, r.stderr);
  for (const [alg, id] of generated) {
    assert.match(r.stdout, new RegExp(`Private (RSA|EC) Key \\[ca-${alg}\\]`));
    assert.ok(r.stdout.includes(id.toLowerCase()), `iD of ${alg} as OpenSC shows it`);
  }
});

test('OpenSC pkcs11-tool signs with the P-256 key cardca generated; openssl verifies it', async () => {
  const hashFile = join(dir, 'hash.bin');
  writeFileSync(hashFile, createHash('sha256').update('signed by OpenSC').digest());
  const sigFile = join(dir, 'opensc.sig');
  const r = await run('pkcs11-tool', ['--module', PKCS11, '--slot-description', reader, '--login', '--pin', '648219',
    '--sign', '--id', generated.get('p256')!, '-m', 'ECDSA', '--signature-format', 'openssl', '--input-file', hashFile, '--output-file', sigFile]);
  assert.equal(r.code, 0, r.stderr);
  const v = await run('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(dir, 'p256.pub.pem'), '-in', hashFile, '-sigfile', sigFile]);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  assert.match(v.stdout, /Signature Verified Successfully/);
});

test('a key made by pkcs11-tool --keypairgen shows in ca card list', async () => {
  const r = await run('pkcs11-tool', ['--module', PKCS11, '--slot-description', reader, '--login', '--pin', '648219',
    '--keypairgen', '--key-type', 'EC:secp384r1', '--label', 'opensc-made', '--id', 'a1b2']);
  assert.equal(r.code, 0, r.stderr);
  const list = await ca('card', 'list', '--reader', reader, '--json');
  const [card] = JSON.parse(list.stdout) as Array<{ keys: Array<{ label: string; id: string; algorithm: string }> }>;
  const k = card!.keys.find((x) => x.label === 'opensc-made');
  assert.ok(k, 'OpenSC key listed');
  assert.equal(k.id, 'A1B2');
  assert.equal(k.algorithm, 'p384');
  generated.set('opensc-p384', k.id);
});

test('CardSigner signatures for every algorithm verify with openssl', async () => {
  const service = new PcscCardService();
  try {
    const session = await service.open({ reader });
    try {
      await session.verifyPin(Buffer.from('648219'));
      const cases: Array<[string, SignatureAlgorithm[]]> = [
        ['rsa2048', ['rsa-pkcs1-sha256', 'rsa-pkcs1-sha384', 'rsa-pkcs1-sha512', 'rsa-pss-sha256', 'rsa-pss-sha384', 'rsa-pss-sha512']],
        ['p256', ['ecdsa-sha256']],
        ['p384', ['ecdsa-sha384']],
        ['opensc-p384', ['ecdsa-sha384']],
      ];
      const data = Buffer.from('TBSCertificate stand-in for the openssl cross-check');
      const dataFile = join(dir, 'data.bin');
      writeFileSync(dataFile, data);
      for (const [name, algs] of cases) {
        const signer = await session.signer(generated.get(name)!);
        const spkiFile = join(dir, `${name}.spki.der`);
        writeFileSync(spkiFile, signer.publicKey());
        for (const alg of algs) {
          const before = session.channel.exchanges;
          const sig = await signer.sign(data, alg);
          assert.equal(session.channel.exchanges - before, 1, `${alg}: one SIGN exchange`);
          const sigFile = join(dir, `${name}.${alg}.sig`);
          writeFileSync(sigFile, sig);
          const md = alg.endsWith('256') ? '-sha256' : alg.endsWith('384') ? '-sha384' : '-sha512';
          const pss = alg.startsWith('rsa-pss') ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest'] : [];
          const v = await run('openssl', ['dgst', md, '-keyform', 'DER', '-verify', spkiFile, ...pss, '-signature', sigFile, dataFile]);
          assert.equal(v.code, 0, `${name} ${alg}: ${v.stdout} ${v.stderr}`);
          assert.match(v.stdout, /Verified OK/);
        }
      }
    } finally {
      await session.close();
    }
  } finally {
    await service.close();
  }
});

test('--trace-apdu prints the exchanges to stderr with the PIN redacted', async () => {
  const r = await ca('card', 'keygen', '--reader', reader, '--label', 'traced', '--alg', 'p256', '--pin-file', pinFile, '--trace-apdu');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^=> 00 A4 04 04 0B E8 2B 06 01 04 01 81 C3 1F 02 01 00$/m);
  assert.match(r.stderr, /^=> 00 20 00 81 06 <6 bytes redacted>$/m);
  assert.ok(!r.stderr.includes('36 34 38 32 31 39'), 'PIN bytes never traced');
  assert.ok(!r.stdout.includes('=>'), 'trace goes to stderr only');
});

test('a wrong PIN lowers the tries by one and the CLI says how many remain', async () => {
  const bad = join(dir, 'bad.pin');
  writeFileSync(bad, '000000\n', { mode: 0o600 });
  const r = await ca('card', 'keygen', '--reader', reader, '--label', 'never', '--alg', 'p256', '--pin-file', bad);
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stderr, /3 tries left/, 'tries shown before verifying');
  assert.match(r.stderr, /PIN_INCORRECT.*2 tries left/);
  assert.deepEqual((await status())['pin'], { state: 'not-verified', triesLeft: 2 });
  // The right PIN restores the counter.
  const ok = await ca('card', 'keygen', '--reader', reader, '--label', 'after-retry', '--alg', 'p256', '--pin-file', pinFile);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual((await status())['pin'], { state: 'not-verified', triesLeft: 3 });
});

test('with one try left the CLI refuses without confirmation; --allow-last-pin-try spends it', async () => {
  const bad = join(dir, 'bad.pin');
  for (let i = 0; i < 2; i++) await ca('card', 'keygen', '--reader', reader, '--label', 'never', '--alg', 'p256', '--pin-file', bad);
  assert.deepEqual((await status())['pin'], { state: 'not-verified', triesLeft: 1 });
  const refused = await ca('card', 'keygen', '--reader', reader, '--label', 'never', '--alg', 'p256', '--pin-file', pinFile);
  assert.equal(refused.code, 4);
  assert.match(refused.stderr, /PIN_LAST_TRY/);
  assert.deepEqual((await status())['pin'], { state: 'not-verified', triesLeft: 1 }, 'refusal spent nothing');
  const allowed = await ca('card', 'keygen', '--reader', reader, '--label', 'last-try', '--alg', 'p256', '--pin-file', pinFile, '--allow-last-pin-try');
  assert.equal(allowed.code, 0, allowed.stderr);
});

test('a blocked PIN says how to unblock; ca card pin unblock restores it', async () => {
  const bad = join(dir, 'bad.pin');
  for (let i = 0; i < 3; i++) {
    await ca('card', 'keygen', '--reader', reader, '--label', 'never', '--alg', 'p256', '--pin-file', bad, '--allow-last-pin-try');
  }
  const blocked = await ca('card', 'keygen', '--reader', reader, '--label', 'never', '--alg', 'p256', '--pin-file', pinFile);
  assert.equal(blocked.code, 4);
  assert.match(blocked.stderr, /PIN_BLOCKED/);
  assert.match(blocked.stderr, /ca card pin unblock/);
  const un = await ca('card', 'pin', 'unblock', '--reader', reader, '--so-pin-file', soPinFile, '--new-pin-file', pinFile);
  assert.equal(un.code, 0, un.stderr);
  assert.deepEqual((await status())['pin'], { state: 'not-verified', triesLeft: 3 });
});

test('ca card pin change, then the new PIN works and the old one does not', async () => {
  const newPin = join(dir, 'new.pin');
  writeFileSync(newPin, '123456\n', { mode: 0o600 });
  const r = await ca('card', 'pin', 'change', '--reader', reader, '--pin-file', pinFile, '--new-pin-file', newPin);
  assert.equal(r.code, 0, r.stderr);
  const withOld = await ca('card', 'keygen', '--reader', reader, '--label', 'x', '--alg', 'p256', '--pin-file', pinFile);
  assert.equal(withOld.code, 4);
  const back = await ca('card', 'pin', 'change', '--reader', reader, '--pin-file', newPin, '--new-pin-file', pinFile);
  assert.equal(back.code, 0, back.stderr);
});

test('--card SERIAL finds the card by probing every reader that holds one', async () => {
  const second = await startEmulator({ port: 35966 });
  try {
    const r = await ca('card', 'status', '--card', second.serial, '--json');
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { serial: string; reader: string };
    assert.equal(s.serial, second.serial);
    assert.equal(s.reader, second.readerName);
    const missing = await ca('card', 'status', '--card', 'DENOSUCHCARD');
    assert.equal(missing.code, 8);
    assert.match(missing.stderr, /CARD_NOT_FOUND/);
  } finally {
    await second.stop();
  }
});
