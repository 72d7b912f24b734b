/**
 * Users' tokens on PIV (issues #11 and #12), through pcscd: root and clients sub-CA on emulated
 * SmartCard-HSMs (vpcd 35963/35964), a factory PIV token (35965) and a second user token, a
 * SmartCard-HSM (35966). Judges: yubico-piv-tool and OpenSC's pkcs15-tool read what cardca
 * wrote; `openvpn --show-pkcs11-ids` (pkcs11-helper over OpenSC's PKCS#11 module) prints the
 * pkcs11-id the generated .ovpn holds; `openssl req -verify` accepts `ca csr` from PIV keys.
 *  - `ca enroll --init` on a factory PIV token: management key, new PIN and PUK, key in 9A,
 *    certificate written back; the PIV family keeps no CA certificates (reported, not faked);
 *  - `ca csr` with RSA (PKCS#1, PSS) and EC PIV keys;
 *  - several tokens of two families in two readers in one `ca enroll` (repeated --card).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';
import { BIN, expectOk, runCommand, type Run } from '../helpers/run-command.js';
import { initTwoCardHome, type TwoCardHome } from '../helpers/two-card-home.js';
import { pemDecodeAll } from '../../src/ca/export/pem.js';
import { pemCerts, showPkcs11Ids } from '../helpers/pkcs11-ids.js';

const FACTORY_MGMT = '010203040506070801020304050607080102030405060708';

let h: TwoCardHome;
let piv: EmulatorProcess;
let user2: EmulatorProcess;
let f: (name: string) => string;
const ca = (...args: string[]): Promise<Run> => runCommand(process.execPath, [BIN, ...args], { timeoutMs: 180_000 });
const home = (): string[] => ['--home', h.home];
const tool = (cmd: string, args: string[]): Promise<Run> => runCommand(cmd, args, { timeoutMs: 60_000 });

describe('PIV tokens: ca enroll --init, ca csr, several tokens in one run', { timeout: 900_000 }, () => {
  let carol: { card: string; keyId: string; serial: string; files: string[]; caCertificatesOnToken: number };
  before(async () => {
    h = await initTwoCardHome('cardca-piv-tokens-', [35963, 35964]);
    f = (name) => join(h.dir, name);
    writeFileSync(f('mgmt.key'), `${FACTORY_MGMT}\n`, { mode: 0o600 });
    writeFileSync(f('new.puk'), '97531086\n', { mode: 0o600 });
    piv = await startEmulator({ port: 35965, extraArgs: ['--type', 'piv'] });
    user2 = await startEmulator({ port: 35966 });
    expectOk(await ca('ceremony', 'root', ...home(), '--card', h.rootEmu.serial, '--pin-file', h.pin, '--yes'), 'root ceremony');
    expectOk(await ca('ceremony', 'subca', 'clients', ...home(), '--card', h.subEmu.serial, '--pin-file', h.pin, '--issuer-card', h.rootEmu.serial, '--issuer-pin-file', h.pin, '--yes'), 'clients ceremony');
  });
  after(async () => {
    await piv?.stop();
    await user2?.stop();
    await h?.rootEmu.stop();
    await h?.subEmu.stop();
  });

  test('ca enroll --init on a factory PIV token: new PIN/PUK, key in 9A, certificate read by yubico-piv-tool and OpenSC', async () => {
    const r = await ca('enroll', ...home(), '--issuer', 'clients', '--profile', 'vpn-client', '--card', piv.serial, '--subject', 'CN=carol', '--init',
      '--user-mgmt-key-file', f('mgmt.key'), '--user-so-pin-file', f('new.puk'), '--user-pin-file', h.pin, '--pin-file', h.pin,
      '--out', f('carol'), '--ovpn', '--ovpn-remote', 'vpn.example.test', '--json');
    expectOk(r, 'enroll on PIV');
    [carol] = JSON.parse(r.stdout) as (typeof carol)[];
    assert.ok(carol);
    assert.equal(carol.keyId, '9A');
    assert.equal(carol.caCertificatesOnToken, 0);
    assert.match(r.stderr, /initialised PIV token/);
    assert.match(r.stderr, /a piv token keeps no CA certificates/);
    const cert = pemCerts(carol.files[0]!)[0]!;
    const st = expectOk(await tool('yubico-piv-tool', ['-r', piv.readerName, '-a', 'status']), 'yubico-piv-tool status').stdout;
    assert.match(st, /Slot 9a:[\s\S]*?Subject DN:\s+[^\n]*CN=carol\n/);
    const p15 = expectOk(await tool('pkcs15-tool', ['--reader', piv.readerName, '--read-certificate', '01']), 'pkcs15-tool --read-certificate 01');
    assert.deepEqual(Buffer.from(pemDecodeAll(p15.stdout).find((b) => b.label === 'CERTIFICATE')!.der), cert);
    // The factory PIN no longer works; the new one does (`ca card status` spends no try).
    const status = JSON.parse(expectOk(await ca('card', 'status', '--card', piv.serial, '--json'), 'card status').stdout) as { initialized: boolean; pin: { triesLeft: number } };
    assert.equal(status.initialized, true);
    assert.equal(status.pin.triesLeft, 3);
    // A second --init is refused before anything changes.
    const again = await ca('enroll', ...home(), '--issuer', 'clients', '--profile', 'vpn-client', '--card', piv.serial, '--subject', 'CN=carol2', '--init',
      '--user-mgmt-key-file', f('mgmt.key'), '--user-so-pin-file', f('new.puk'), '--user-pin-file', h.pin, '--pin-file', h.pin, '--out', f('carol2'));
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /TOKEN_ALREADY_INITIALISED/);
  });

  test("the PIV .ovpn's pkcs11-id is exactly what openvpn --show-pkcs11-ids prints", async () => {
    const ovpn = readFileSync(carol.files[2]!, 'utf8');
    const idLine = /^pkcs11-id '([^']*)'$/m.exec(ovpn);
    assert.ok(idLine, ovpn);
    const ids = await showPkcs11Ids();
    const mine = ids.filter((x) => /CN=carol/.test(x.dn));
    assert.equal(mine.length, 1, JSON.stringify(ids));
    assert.equal(idLine[1], mine[0]!.id);
  });

  test('ca csr with PIV keys: RSA (PKCS#1 and PSS) in 9C, EC in 9A; openssl req -verify accepts each', async () => {
    expectOk(await ca('card', 'keygen', '--card', piv.serial, '--slot', '9c', '--alg', 'rsa2048', '--pin-file', h.pin, '--mgmt-key-file', f('mgmt.key')), 'keygen 9c');
    const cases: [string, string, string | undefined][] = [
      ['piv-rsa-pkcs1', '9c', undefined],
      ['piv-rsa-pss', '9c', 'rsa-pss-sha256'],
      ['piv-ec', '9a', undefined],
    ];
    for (const [name, key, alg] of cases) {
      const out = f(`${name}.csr`);
      expectOk(await ca('csr', '--card', piv.serial, '--key-id', key, '--subject', 'CN=dave,OU=Staff', '--out', out, '--pin-file', h.pin, ...(alg ? ['--sig-alg', alg] : [])), `csr ${name}`);
      const v = await tool('openssl', ['req', '-in', out, '-verify', '-noout', '-text']);
      assert.equal(v.code, 0, v.stderr);
      assert.match(v.stdout + v.stderr, /verify OK/i);
      assert.match(v.stdout, /Subject: OU\s*=\s*Staff, CN\s*=\s*dave/);
      if (alg) assert.match(v.stdout, /rsassaPss/);
      else assert.match(v.stdout, key === '9a' ? /id-ecPublicKey/ : /rsaEncryption/);
    }
  });

  test('a key imported with yubico-piv-tool -a import-key is listed by cardca and signs a CSR openssl verifies', async () => {
    expectOk(await tool('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f('import.key')]), 'openssl genpkey');
    expectOk(await tool('openssl', ['pkey', '-in', f('import.key'), '-pubout', '-outform', 'DER', '-out', f('import.pub.der')]), 'openssl pkey -pubout');
    expectOk(await tool('yubico-piv-tool', ['-r', piv.readerName, `-k${FACTORY_MGMT}`, '-a', 'import-key', '-s', '9e', '-i', f('import.key')]), 'yubico-piv-tool import-key');
    const listed = JSON.parse(expectOk(await ca('card', 'list', '--card', piv.serial, '--json'), 'card list').stdout) as { keys: { id: string; algorithm: string }[] }[];
    assert.ok(listed[0]!.keys.some((k) => k.id === '9E' && k.algorithm === 'p256'), JSON.stringify(listed));
    expectOk(await ca('csr', '--card', piv.serial, '--key-id', '9e', '--subject', 'CN=imported', '--out', f('imported.csr'), '--pin-file', h.pin), 'csr 9e');
    expectOk(await tool('openssl', ['req', '-in', f('imported.csr'), '-verify', '-noout']), 'openssl req -verify');
    const pub = expectOk(await tool('openssl', ['req', '-in', f('imported.csr'), '-noout', '-pubkey']), 'req -pubkey').stdout;
    const want = readFileSync(f('import.pub.der'));
    assert.deepEqual(createPublicKey(pub).export({ type: 'spki', format: 'der' }), want, 'the CSR carries the imported key');
  });

  test('several tokens in several readers, two families, one ca enroll: --card repeated, one --subject each', async () => {
    expectOk(await ca('card', 'init', '--card', user2.serial, '--label', 'erin', '--so-pin-file', h.soPin, '--pin-file', h.pin), 'init user2');
    const r = await ca('enroll', ...home(), '--issuer', 'clients', '--profile', 'vpn-client',
      '--card', user2.serial, '--subject', 'CN=erin', '--card', piv.serial, '--subject', 'CN=frank',
      '--user-slot', '9d', '--user-mgmt-key-file', f('mgmt.key'), '--user-pin-file', h.pin, '--pin-file', h.pin, '--out', f('batch'), '--json');
    expectOk(r, 'enroll two tokens');
    const res = JSON.parse(r.stdout) as { card: string; keyId: string; subject: string; serial: string; files: string[]; caCertificatesOnToken: number }[];
    assert.deepEqual(res.map((x) => [x.card, /CN=(\w+)/.exec(x.subject)?.[1]]), [[user2.serial, 'erin'], [piv.serial, 'frank']]);
    assert.equal(res[1]!.keyId, '9D');
    assert.deepEqual(res.map((x) => x.caCertificatesOnToken), [2, 0], 'the SmartCard-HSM got the CA chain, the PIV token cannot hold it');
    assert.ok(r.stderr.indexOf(`enrolling card ${user2.serial}`) < r.stderr.indexOf(`enrolling card ${piv.serial}`));
    // Each token holds its own certificate: OpenSC (SmartCard-HSM) and yubico-piv-tool (PIV 9D) read them back.
    const erin = pemCerts(res[0]!.files[0]!)[0]!;
    const p15 = expectOk(await tool('pkcs15-tool', ['--reader', user2.readerName, '--read-certificate', res[0]!.keyId.toLowerCase()]), 'read erin');
    assert.deepEqual(Buffer.from(pemDecodeAll(p15.stdout).find((b) => b.label === 'CERTIFICATE')!.der), erin);
    const st = expectOk(await tool('yubico-piv-tool', ['-r', piv.readerName, '-a', 'status']), 'yubico-piv-tool status').stdout;
    assert.match(st, /Slot 9d:[\s\S]*?Subject DN:\s+[^\n]*CN=frank\n/);
    assert.match(st, /Slot 9a:[\s\S]*?Subject DN:\s+[^\n]*CN=carol\n/, 'the first enrolment is untouched');
    for (const [card, n] of [[user2.serial, 1], [piv.serial, 2]] as const) {
      const list = JSON.parse(expectOk(await ca('list', ...home(), '--card', card, '--json'), 'list --card').stdout) as unknown[];
      assert.equal(list.length, n, `ca list --card ${card}`);
    }
  });
});
