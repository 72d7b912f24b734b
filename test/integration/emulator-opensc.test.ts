// The SmartCard-HSM emulator through the real stack: `ca emulator start` → vpcd → pcscd →
// OpenSC 0.23 (opensc-tool, sc-hsm-tool, pkcs11-tool, pkcs15-tool) and openssl as oracles.
// Issue 2 "Must show": OpenSC names the SmartCard-HSM driver, initialises the card, generates
// RSA-2048 and P-256 keys, lists them, signs (SHA256-RSA-PKCS, RSA-PSS, ECDSA) with signatures
// openssl verifies, sees wrong-PIN tries 3 → 2 (a status query spends none), two emulators are
// two readers with separate state, and malformed APDUs get ISO status words.
// Ports: 35963/35964 ("Virtual PCD 00 00/01"), this group's pair.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, readerCardPresence, type EmulatorProcess } from '../helpers/emulator-process.js';

const MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
const SO_PIN = '3537363231383830';
const PIN = '648219'; // test PIN of a test card
const AID = 'E8 2B 06 01 04 01 81 C3 1F 02 01'; // scriptor wants spaced bytes

interface Run {
  code: number;
  out: string;
}

function run(cmd: string, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env['OPENSC_DEBUG'];
    const child = execFile(cmd, args, { timeout: 60_000, env, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

async function ok(cmd: string, args: string[], input?: string): Promise<string> {
  const r = await run(cmd, args, input);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')} failed:\n${r.out}`);
  return r.out;
}

/** Send raw APDUs with pcsc-tools' scriptor (it does not pre-validate lengths, unlike opensc-tool). */
async function scriptor(reader: string, apdus: string[]): Promise<string[]> {
  // scriptor's exit status is not meaningful for us (non-zero after some SWs); the transcript is.
  const { out } = await run('scriptor', ['-r', reader], apdus.join('\n') + '\n');
  const sws = [...out.matchAll(/^< ((?:[0-9A-F]{2} ?)+)/gm)].map((m) => m[1]!.trim().split(' ').slice(-2).join(''));
  assert.equal(sws.length, apdus.length, `scriptor answered ${sws.length} of ${apdus.length} APDUs:\n${out}`);
  return sws;
}

describe('SmartCard-HSM emulator with OpenSC', { concurrency: false }, () => {
  let emu: EmulatorProcess;
  let work: string;
  const p11 = (...args: string[]) => ['--module', MODULE, '--slot-description', emu.readerName, ...args];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'emu-opensc-'));
    emu = await startEmulator({ port: 35963 });
  });
  after(async () => {
    if (emu) assert.equal(await emu.stop(), 0, 'emulator exits 0 on SIGTERM');
  });

  test('the banner says TEST card; opensc-tool -n names the SmartCard-HSM driver', async () => {
    assert.match(emu.stderr(), /TEST SmartCard-HSM/);
    assert.match(emu.stderr(), /Never use it for\s*\n?.*production keys/);
    assert.match(emu.serial, /^DETEST\d{5}$/);
    const name = await ok('opensc-tool', ['-r', emu.readerName, '-n']);
    assert.match(name, /SmartCard-HSM/);
    const state = JSON.parse(readFileSync(emu.stateFile, 'utf8'));
    assert.equal(Object.keys(state)[0], '_warning');
    assert.equal(state.serial, emu.serial);
  });

  test('sc-hsm-tool initialises the card and reports its state', async () => {
    await ok('sc-hsm-tool', ['-r', emu.readerName, '--initialize', '--so-pin', SO_PIN, '--pin', PIN, '--label', 'emu-test']);
    const info = await ok('sc-hsm-tool', ['-r', emu.readerName]);
    assert.match(info, /User PIN tries left\s*:\s*3/);
    assert.match(info, /SO-PIN tries left\s*:\s*15/);
    assert.match(info, /Version\s*:\s*3\.5/);
  });

  test('pkcs11-tool generates RSA-2048 and EC P-256 keys; pkcs15-tool -D lists them', async () => {
    await ok('pkcs11-tool', p11('--login', '--pin', PIN, '--keypairgen', '--key-type', 'rsa:2048', '--id', '01', '--label', 'rsa-key'));
    await ok('pkcs11-tool', p11('--login', '--pin', PIN, '--keypairgen', '--key-type', 'EC:prime256v1', '--id', '02', '--label', 'ec-key'));
    const dump = await ok('pkcs15-tool', ['-r', emu.readerName, '-D']);
    assert.match(dump, /Serial number\s*:\s*DETEST\d{5}/);
    assert.ok(dump.includes(`Serial number  : ${emu.serial}`), dump);
    assert.match(dump, /Private RSA Key \[rsa-key\][\s\S]*ModLength\s*:\s*2048/);
    assert.match(dump, /Private EC Key \[ec-key\][\s\S]*FieldLength\s*:\s*256/);
    assert.match(dump, /Public RSA Key \[rsa-key\]/);
    assert.match(dump, /Public EC Key \[ec-key\]/);
  });

  test('signatures made through pkcs11-tool verify with openssl against the public keys OpenSC reads back', async () => {
    const f = (n: string) => join(work, n);
    writeFileSync(f('data'), 'certificate to be signed by the emulated card\n');
    for (const [id, name] of [['01', 'rsa'], ['02', 'ec']]) {
      await ok('pkcs11-tool', p11('--read-object', '--type', 'pubkey', '--id', id!, '-o', f(`${name}.der`)));
      await ok('openssl', ['pkey', '-pubin', '-inform', 'DER', '-in', f(`${name}.der`), '-out', f(`${name}.pem`)]);
    }
    const before = JSON.parse(readFileSync(emu.stateFile, 'utf8')).signatureCount as number;

    await ok('pkcs11-tool', p11('--login', '--pin', PIN, '--sign', '--id', '01', '-m', 'SHA256-RSA-PKCS', '-i', f('data'), '-o', f('sig-pkcs1')));
    await ok('openssl', ['dgst', '-sha256', '-verify', f('rsa.pem'), '-signature', f('sig-pkcs1'), f('data')]);

    await ok('pkcs11-tool', p11('--login', '--pin', PIN, '--sign', '--id', '01', '-m', 'SHA256-RSA-PKCS-PSS', '-i', f('data'), '-o', f('sig-pss')));
    await ok('openssl', ['dgst', '-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32', '-verify', f('rsa.pem'), '-signature', f('sig-pss'), f('data')]);

    await ok('openssl', ['dgst', '-sha256', '-binary', '-out', f('hash'), f('data')]);
    await ok('pkcs11-tool', p11('--login', '--pin', PIN, '--sign', '--id', '02', '-m', 'ECDSA', '--signature-format', 'openssl', '-i', f('hash'), '-o', f('sig-ecdsa')));
    await ok('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', f('ec.pem'), '-sigfile', f('sig-ecdsa'), '-in', f('hash')]);

    await ok('pkcs11-tool', p11('--login', '--pin', PIN, '--sign', '--id', '02', '-m', 'ECDSA-SHA256', '--signature-format', 'openssl', '-i', f('data'), '-o', f('sig-ecdsa2')));
    await ok('openssl', ['dgst', '-sha256', '-verify', f('ec.pem'), '-signature', f('sig-ecdsa2'), f('data')]);

    // A tampered message must not verify (the oracle can fail).
    writeFileSync(f('data2'), 'certificate to be signed by the emulated card!\n');
    const bad = await run('openssl', ['dgst', '-sha256', '-verify', f('rsa.pem'), '-signature', f('sig-pkcs1'), f('data2')]);
    assert.notEqual(bad.code, 0);

    const state = JSON.parse(readFileSync(emu.stateFile, 'utf8'));
    assert.equal(state.signatureCount, before + 4, 'card-side signature counter');
    assert.equal(state.keys['1'].signatures + state.keys['2'].signatures, before + 4);
    // The APDU log shows the SIGN commands and never a PIN.
    const log = readFileSync(emu.apduLogFile, 'utf8');
    assert.ok(log.includes('"command":"80680120') || log.includes('"command":"80680140'), 'sign APDUs logged');
    assert.ok(!log.includes(Buffer.from(PIN).toString('hex').toUpperCase()), 'PIN redacted');
  });

  test('wrong PIN: tries 3 → 2 seen by OpenSC; status queries alone spend nothing', async () => {
    // sc-hsm-tool and the PKCS#11 token flags read the tries through the card's status query
    // (pkcs15-tool --list-pins shows the emulation's static maximum in OpenSC 0.23, not the card).
    const userTries = async () => Number(/User PIN tries left\s*:\s*(\d+)/.exec(await ok('sc-hsm-tool', ['-r', emu.readerName]))?.[1]);
    for (let i = 0; i < 3; i++) assert.equal(await userTries(), 3);
    assert.doesNotMatch(await ok('pkcs11-tool', p11('-T')), /user PIN count low/);
    const sws = await scriptor(emu.readerName, [`00 A4 04 0C 0B ${AID}`, '00 20 00 81', '00 20 00 81 06 30 30 30 30 30 30', '00 20 00 81']);
    assert.deepEqual(sws, ['9000', '63C3', '63C2', '63C2']);
    assert.equal(await userTries(), 2);
    assert.equal(await userTries(), 2);
    assert.match(await ok('pkcs11-tool', p11('-T')), /user PIN count low/);
    // A wrong PIN through PKCS#11 is reported as such and spends one more try.
    const bad = await run('pkcs11-tool', p11('--login', '--pin', '000000', '--list-objects'));
    assert.notEqual(bad.code, 0);
    assert.match(bad.out, /CKR_PIN_INCORRECT/);
    assert.equal(await userTries(), 1);
    // The right PIN resets the counter.
    await ok('pkcs11-tool', p11('--login', '--pin', PIN, '--list-objects'));
    assert.equal(await userTries(), 3);
  });

  test('malformed and unknown APDUs get ISO status words', async () => {
    const sws = await scriptor(emu.readerName, [
      '00 A4 00 0C 05 AA BB', // Lc says 5, 2 bytes follow
      'A0 A4 00 0C 02 2F 02', // bad CLA
      '00 FF 00 00', // unknown INS
      '80 58 01 00', // ENUMERATE with bad P1
      '00 A4 04 00 0C A0 00 00 00 63 50 4B 43 53 2D 31 35 00', // another applet's AID
      '00 B1 C4 77 04 54 02 00 00 00', // no such file
      '80 68 01 20 00 00 03 01 02 03 00 00', // sign without login
    ]);
    assert.deepEqual(sws, ['6700', '6E00', '6D00', '6A86', '6A82', '6A82', '6982']);
  });
});

describe('two emulators at once', { concurrency: false }, () => {
  test('show as two readers with cards, each with its own state', async () => {
    const a = await startEmulator({ port: 35963 });
    let b: EmulatorProcess | undefined;
    try {
      b = await startEmulator({ port: 35964 });
      const presence = await readerCardPresence();
      assert.equal(presence.get('Virtual PCD 00 00'), true);
      assert.equal(presence.get('Virtual PCD 00 01'), true);
      assert.notEqual(a.serial, b.serial);
      await ok('sc-hsm-tool', ['-r', a.readerName, '--initialize', '--so-pin', SO_PIN, '--pin', PIN]);
      assert.match(await ok('sc-hsm-tool', ['-r', a.readerName]), /User PIN tries left\s*:\s*3/);
      // b is still factory-fresh: its PIN status is "not initialised" (6A88).
      assert.deepEqual(await scriptor(b.readerName, [`00 A4 04 0C 0B ${AID}`, '00 20 00 81']), ['9000', '6A88']);
      assert.equal(JSON.parse(readFileSync(a.stateFile, 'utf8')).initialized, true);
      assert.equal(JSON.parse(readFileSync(b.stateFile, 'utf8')).initialized, false);
    } finally {
      assert.equal(await a.stop(), 0);
      if (b) assert.equal(await b.stop(), 0);
    }
    const presence = await readerCardPresence();
    assert.equal(presence.get('Virtual PCD 00 00'), false);
    assert.equal(presence.get('Virtual PCD 00 01'), false);
  });

  test('a restarted emulator keeps its serial, keys and PIN state (state file)', async () => {
    const a = await startEmulator({ port: 35964 });
    const serial = a.serial;
    try {
      await ok('sc-hsm-tool', ['-r', a.readerName, '--initialize', '--so-pin', SO_PIN, '--pin', PIN]);
      assert.deepEqual(await scriptor(a.readerName, [`00 A4 04 0C 0B ${AID}`, '00 20 00 81 06 30 30 30 30 30 30']), ['9000', '63C2']);
    } finally {
      assert.equal(await a.stop(), 0);
    }
    const again = await startEmulator({ port: 35964, stateFile: a.stateFile });
    try {
      assert.equal(again.serial, serial);
      assert.match(await ok('sc-hsm-tool', ['-r', again.readerName]), /User PIN tries left\s*:\s*2/);
    } finally {
      assert.equal(await again.stop(), 0);
    }
  });
});
