// Issue 10 "Must show" (interop part), through pcscd + vpcd with two emulated SmartCard-HSMs:
// OpenSC's sc-hsm-tool drives the emulator's DKEK commands (initialise with shares, create and
// import shares, wrap, unwrap), and sc-hsm-tool and `ca card dkek` read each other's share files
// (the real 10^7-iteration derivation: sc-hsm-tool has no other) and agree on the KCV.
// Ports: 35967/35968 ("Virtual PCD 3 00 00/01"), 35969 ("Virtual PCD 4 00 00").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify, createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';
import { BIN, expectOk, runCommand } from '../helpers/run-command.js';

const MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
const SO_PIN = '3537363231383830';
const PIN = '648219';

const ca = (...args: string[]) => runCommand(process.execPath, [BIN, ...args], { timeoutMs: 180_000 });
const tool = (...args: string[]) => runCommand('sc-hsm-tool', args, { timeoutMs: 180_000 });

describe('DKEK with OpenSC sc-hsm-tool', { concurrency: false }, () => {
  let a: EmulatorProcess;
  let b: EmulatorProcess;
  let dir: string;
  let pw1: string;
  let pw2: string;
  const kcvOf = async (e: EmulatorProcess) => {
    const r = expectOk(await ca('card', 'dkek', 'status', '--json', '--reader', e.readerName), 'dkek status');
    return JSON.parse(r.stdout) as { shares: number; missing: number; kcv: string };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dkek-tool-'));
    pw1 = join(dir, 'pw1');
    pw2 = join(dir, 'pw2');
    writeFileSync(pw1, 'custodian-one-secret\n', { mode: 0o600 });
    writeFileSync(pw2, 'custodian-two-secret\n', { mode: 0o600 });
    a = await startEmulator({ port: 35967 });
    b = await startEmulator({ port: 35968 });
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
  });

  test('sc-hsm-tool --initialize --dkek-shares 2; both tools report 2 shares, 2 missing', async () => {
    for (const e of [a, b]) {
      expectOk(await tool('-r', e.readerName, '--initialize', '--so-pin', SO_PIN, '--pin', PIN, '--dkek-shares', '2', '--label', 'dkek'), 'initialize');
      const info = expectOk(await tool('-r', e.readerName), 'sc-hsm-tool info').stdout;
      assert.match(info, /DKEK shares\s*:\s*2/);
      assert.match(info, /2 share\(s\) still missing/);
      assert.deepEqual(await kcvOf(e), { shares: 2, missing: 2, kcv: '0000000000000000' });
    }
  });

  test('a cardca share and an sc-hsm-tool share, each imported by the other tool, give equal KCVs', async () => {
    const s1 = join(dir, 'share1.pbe');
    const s2 = join(dir, 'share2.pbe');
    expectOk(await ca('card', 'dkek', 'create-share', s1, '--reader', a.readerName, '--password-file', pw1), 'ca create-share');
    assert.equal(statSync(s1).size, 64);
    assert.equal(statSync(s1).mode & 0o777, 0o600);
    assert.equal(readFileSync(s1).subarray(0, 8).toString('latin1'), 'Salted__');
    expectOk(await tool('-r', a.readerName, '--create-dkek-share', s2, '--password', 'custodian-two-secret'), 'sc-hsm-tool create');

    // Card A: sc-hsm-tool imports cardca's share, cardca imports sc-hsm-tool's.
    const t1 = expectOk(await tool('-r', a.readerName, '--import-dkek-share', s1, '--password', 'custodian-one-secret'), 'tool import s1');
    assert.match(t1.stdout, /DKEK share imported/);
    const c2 = expectOk(await ca('card', 'dkek', 'import', s2, '--reader', a.readerName, '--password-file', pw2), 'ca import s2');
    assert.match(c2.stdout, /DKEK complete, key check value [0-9A-F]{16}/);
    // Card B: sc-hsm-tool imports both (each 10^7-round derivation costs seconds; keep the count low).
    expectOk(await tool('-r', b.readerName, '--import-dkek-share', s1, '--password', 'custodian-one-secret'), 'tool import s1');
    expectOk(await tool('-r', b.readerName, '--import-dkek-share', s2, '--password', 'custodian-two-secret'), 'tool import s2');

    const ka = await kcvOf(a);
    const kb = await kcvOf(b);
    assert.deepEqual(ka, { shares: 2, missing: 0, kcv: ka.kcv });
    assert.equal(kb.kcv, ka.kcv, 'backup-compatible: same KCV');
    assert.notEqual(ka.kcv, '0000000000000000');
    const info = expectOk(await tool('-r', b.readerName), 'info').stdout;
    assert.match(info.replace(/\s/g, ''), new RegExp(`DKEKkeycheckvalue:${ka.kcv}`, 'i'));

    // A wrong password is refused before the card is touched; a third share is refused.
    writeFileSync(join(dir, 'wrong'), 'not-the-password\n');
    const fresh = await kcvOf(a);
    const wrong = await ca('card', 'dkek', 'import', s1, '--reader', a.readerName, '--password-file', join(dir, 'wrong'));
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /DKEK_ALREADY_COMPLETE|already holds all 2/);
    assert.deepEqual(await kcvOf(a), fresh);
  });

  test('sc-hsm-tool --wrap-key on card A, --unwrap-key on card B; B signs for A\'s public key (pkcs11-tool, verified by node)', async () => {
    const p11 = (e: EmulatorProcess, ...args: string[]) => runCommand('pkcs11-tool', ['--module', MODULE, '--slot-description', e.readerName, ...args]);
    expectOk(await p11(a, '--login', '--pin', PIN, '--keypairgen', '--key-type', 'EC:prime256v1', '--label', 'wrapme', '--id', '01'), 'keypairgen');
    const pubDer = join(dir, 'a.pub.der');
    expectOk(await p11(a, '--read-object', '--type', 'pubkey', '--id', '01', '--output-file', pubDer), 'read pubkey');
    const wrapped = join(dir, 'key1.wrap');
    expectOk(await tool('-r', a.readerName, '--wrap-key', wrapped, '--key-reference', '1', '--pin', PIN), 'wrap');
    const file = readFileSync(wrapped);
    assert.equal(file[0], 0x30);
    const un = expectOk(await tool('-r', b.readerName, '--unwrap-key', wrapped, '--key-reference', '1', '--pin', PIN), 'unwrap');
    assert.match(un.stdout, /Key successfully imported/);
    const data = join(dir, 'hash.bin');
    const sig = join(dir, 'sig.bin');
    writeFileSync(data, createHash('sha256').update('restored key signs').digest());
    expectOk(await p11(b, '--login', '--pin', PIN, '--sign', '--mechanism', 'ECDSA', '--id', '01', '--signature-format', 'openssl', '--input-file', data, '--output-file', sig), 'sign on B');
    const pub = createPublicKey({ key: readFileSync(pubDer), format: 'der', type: 'spki' });
    assert.ok(verify('sha256', Buffer.from('restored key signs'), pub, readFileSync(sig)), 'signature of card B verifies with card A\'s public key');
    // Unwrapping again into the now occupied slot is refused by the tool before the card is asked.
    const again = await tool('-r', b.readerName, '--unwrap-key', wrapped, '--key-reference', '1', '--pin', PIN);
    assert.notEqual(again.code, 0);
  });

  test('brainpoolP256r1 and secp256k1 keys: sc-hsm-tool --wrap-key on A, --unwrap-key on B; B signs for A\'s public key', async () => {
    const p11 = (e: EmulatorProcess, ...args: string[]) => runCommand('pkcs11-tool', ['--module', MODULE, '--slot-description', e.readerName, ...args]);
    for (const [curve, id] of [['brainpoolP256r1', '02'], ['secp256k1', '03']] as const) {
      const gen = expectOk(await p11(a, '--login', '--pin', PIN, '--keypairgen', '--key-type', `EC:${curve}`, '--label', curve, '--id', id), `keypairgen ${curve}`);
      assert.match(gen.stdout, /EC_POINT|public key/i);
      const pubDer = join(dir, `${curve}.pub.der`);
      expectOk(await p11(a, '--read-object', '--type', 'pubkey', '--id', id, '--output-file', pubDer), 'read pubkey');
      const keys = JSON.parse(expectOk(await ca('card', 'list', '--reader', a.readerName, '--json'), 'list').stdout)[0].keys as { id: string; keyRef: number }[];
      const ref = keys.find((k) => k.id === id)!.keyRef;
      const wrapped = join(dir, `${curve}.wrap`);
      expectOk(await tool('-r', a.readerName, '--wrap-key', wrapped, '--key-reference', String(ref), '--pin', PIN), `wrap ${curve}`);
      const un = expectOk(await tool('-r', b.readerName, '--unwrap-key', wrapped, '--key-reference', String(ref), '--pin', PIN), `unwrap ${curve}`);
      assert.match(un.stdout, /Key successfully imported/);
      const data = join(dir, `${curve}.hash`);
      const sig = join(dir, `${curve}.sig`);
      writeFileSync(data, createHash('sha256').update(`restored ${curve} key signs`).digest());
      expectOk(await p11(b, '--login', '--pin', PIN, '--sign', '--mechanism', 'ECDSA', '--id', id, '--signature-format', 'openssl', '--input-file', data, '--output-file', sig), `sign on B (${curve})`);
      const pub = createPublicKey({ key: readFileSync(pubDer), format: 'der', type: 'spki' });
      assert.equal(pub.asymmetricKeyDetails?.namedCurve, curve);
      assert.ok(verify('sha256', Buffer.from(`restored ${curve} key signs`), pub, readFileSync(sig)), `${curve}: card B's signature verifies with card A's public key`);
    }
  });

  test('threshold: sc-hsm-tool --import-dkek-share --pwd-shares-total 2 rebuilds the password of a cardca 2-of-3 share from shares 1 and 3', async () => {
    const c = await startEmulator({ port: 35969 });
    try {
      expectOk(await tool('-r', c.readerName, '--initialize', '--so-pin', SO_PIN, '--pin', PIN, '--dkek-shares', '1'), 'initialize');
      const ts = join(dir, 'threshold.pbe');
      expectOk(await ca('card', 'dkek', 'create-share', ts, '--reader', c.readerName, '--threshold', '2', '--shares', '3'), 'create threshold share');
      const field = (k: number, name: string) => new RegExp(`^${name}\\s*:\\s*(\\S+)`, 'm').exec(readFileSync(`${ts}.pwd-share-${k}.txt`, 'utf8'))![1]!;
      const input = `${field(1, 'Prime')}\n\n${field(1, 'Share ID')}\n${field(1, 'Share value')}\n\n${field(3, 'Share ID')}\n${field(3, 'Share value')}\n`;
      const out = await new Promise<{ code: number; text: string }>((res) => {
        const child = execFile('sc-hsm-tool', ['-r', c.readerName, '--import-dkek-share', ts, '--pwd-shares-total', '2'], { timeout: 180_000, env: { ...process.env, TERM: 'dumb' } }, (err, stdout, stderr) =>
          res({ code: err ? 1 : 0, text: `${stdout}${stderr}` }),
        );
        child.stdin!.end(input);
      });
      assert.equal(out.code, 0, out.text);
      assert.match(out.text, /DKEK share imported/);
      const st = await kcvOf(c);
      assert.equal(st.missing, 0);
      assert.match(out.text.replace(/\s/g, ''), new RegExp(`DKEKkeycheckvalue:${st.kcv}`, 'i'));
    } finally {
      await c.stop();
    }
  });
});
