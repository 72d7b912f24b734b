/**
 * Issue 13 "Must show", through pcscd: an emulated MyEID (vpcd port 35969, "Virtual PCD 4 00 00")
 * personalised only by OpenSC's pkcs15-init (the guides' workflow: --erase-card, --create-pkcs15
 * --profile pkcs15+onepin, --store-pin --auth-id 01, --generate-key rsa/2048 and ec/prime256v1
 * --auth-id 01, --finalize). Then `ca card list` shows the key with OpenSC's iD and label; a `servers` sub-CA
 * ceremony with `--key-id` of that key (root on a SmartCard-HSM emulator, port 35970) plus
 * `ca sign` give a chain `openssl verify` accepts, and the sub-CA certificate shows in
 * `pkcs15-tool -D`. Finally a key made by `ca card keygen` on the MyEID is listed by
 * `pkcs15-tool -D` and signs through `pkcs11-tool --sign`, verified by openssl.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { BIN, expectOk, runCommand, type Run } from '../helpers/run-command.js';
import { startEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';
import { TEST_PIN, TEST_SO_PIN, initHome } from '../helpers/two-card-home.js';

const MYEID_PIN = '123456';
const MYEID_PUK = '12345678';
const P11 = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
const run = (cmd: string, args: readonly string[], timeout = 180_000): Promise<Run> => runCommand(cmd, args, { timeoutMs: timeout });
const ok = expectOk;

let dir: string;
let home: string;
let rootPin: string;
let myeidPin: string;
let myeid: EmulatorProcess;
let root: EmulatorProcess;
let reader: string; // OpenSC reader index of the MyEID
const ca = (...args: string[]) => run(process.execPath, [BIN, ...args, '--home', home]);
const caNoHome = (...args: string[]) => run(process.execPath, [BIN, ...args]);
const p15init = async (...args: string[]) => ok(await run('pkcs15-init', ['-r', reader, ...args]), `pkcs15-init ${args[0]}`);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cardca-myeid-'));
  home = join(dir, 'ca-data');
  rootPin = join(dir, 'root.pin');
  myeidPin = join(dir, 'myeid.pin');
  const so = join(dir, 'so.pin');
  writeFileSync(rootPin, `${TEST_PIN}\n`, { mode: 0o600 });
  writeFileSync(so, `${TEST_SO_PIN}\n`, { mode: 0o600 });
  writeFileSync(myeidPin, `${MYEID_PIN}\n`, { mode: 0o600 });
  myeid = await startEmulator({ port: 35969, extraArgs: ['--type', 'myeid'] });
  root = await startEmulator({ port: 35970 });
  ok(await caNoHome('card', 'init', '--reader', root.readerName, '--label', 'Root CA card', '--so-pin-file', so, '--pin-file', rootPin), 'card init root');
  const list = ok(await run('opensc-tool', ['-l']), 'opensc-tool -l').stdout;
  reader = list.split('\n').find((l) => l.includes(myeid.readerName))!.trim().split(/\s+/)[0]!;
  await p15init('--erase-card');
  await p15init('--create-pkcs15', '--profile', 'pkcs15+onepin', '--pin', MYEID_PIN, '--puk', MYEID_PUK, '--label', 'Servers CA card');
  await p15init('--store-pin', '--auth-id', '01', '--pin', MYEID_PIN, '--puk', MYEID_PUK, '--label', 'User PIN', '--profile', 'pkcs15+onepin');
  // The guides' RSA key, and a P-256 key for the servers sub-CA (its default profile asks for p256).
  await p15init('--generate-key', 'rsa/2048', '--auth-id', '01', '--pin', MYEID_PIN, '--label', 'legacy RSA key', '--profile', 'pkcs15+onepin');
  await p15init('--generate-key', 'ec/prime256v1', '--auth-id', '01', '--pin', MYEID_PIN, '--label', 'servers CA key', '--profile', 'pkcs15+onepin');
  await p15init('--finalize', '--profile', 'pkcs15+onepin');
  await initHome(home);
});

after(async () => {
  await myeid?.stop();
  await root?.stop();
});

interface ListedCard { reader: string; serial?: string; driver?: string; label?: string | null; keys: Array<{ id: string; label: string; algorithm: string; usable: boolean; keyRef: number }> }

async function listMyeid(): Promise<ListedCard> {
  const cards = JSON.parse(ok(await caNoHome('card', 'list', '--reader', myeid.readerName, '--json'), 'card list').stdout) as ListedCard[];
  assert.equal(cards.length, 1);
  return cards[0]!;
}

function opensscKeyId(dump: string, label: string): string {
  const m = new RegExp(`Private (?:RSA|EC) Key \\[${label}\\][\\s\\S]*?\\n\\tID\\s+: ([0-9a-f]+)`).exec(dump);
  assert.ok(m, `pkcs15-tool -D lists "${label}":\n${dump}`);
  return m[1]!;
}

test('a pkcs15-init key on the MyEID: card list, servers ceremony with --key-id, ca sign, openssl verify, pkcs15-tool -D', async () => {
  const dump = ok(await run('pkcs15-tool', ['-r', reader, '-D']), 'pkcs15-tool -D').stdout;
  const id = opensscKeyId(dump, 'servers CA key');
  const rsaId = opensscKeyId(dump, 'legacy RSA key');
  const card = await listMyeid();
  assert.equal(card.driver, 'myeid');
  assert.equal(card.serial, myeid.serial);
  assert.equal(card.label, 'Servers CA card');
  assert.deepEqual(card.keys.map((k) => [k.id.toLowerCase(), k.label, k.algorithm, k.usable]), [
    [rsaId, 'legacy RSA key', 'rsa2048', true],
    [id, 'servers CA key', 'p256', true],
  ]);

  ok(await ca('ceremony', 'root', '--card', root.serial, '--pin-file', rootPin, '--yes'), 'ceremony root');
  ok(await ca('ceremony', 'subca', 'servers', '--card', myeid.serial, '--key-id', id.toUpperCase(), '--pin-file', myeidPin, '--issuer-pin-file', rootPin, '--yes'), 'ceremony subca servers');

  const csr = join(dir, 'web.csr');
  ok(await run('openssl', ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', join(dir, 'web.key'), '-subj', '/CN=web.example.test', '-addext', 'subjectAltName=DNS:web.example.test', '-out', csr]), 'openssl req');
  const out = join(dir, 'issued');
  ok(await ca('sign', csr, '--issuer', 'servers', '--profile', 'tls-server', '--pin-file', myeidPin, '--out', out + '/'), 'sign');
  const chain = join(dir, 'chain.pem');
  ok(await ca('export', 'chain', '--issuer', 'servers', '--format', 'pem', '--out', chain), 'export chain');
  const v = await run('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', join(home, 'certs', 'root.crt'), '-untrusted', chain, join(out, 'web.crt')]);
  assert.equal(v.code, 0, v.stdout + v.stderr);

  // The sub-CA certificate went back onto the MyEID: OpenSC lists it under the key's iD.
  const after = ok(await run('pkcs15-tool', ['-r', reader, '-D']), 'pkcs15-tool -D').stdout;
  const cert = /X\.509 Certificate \[([^\]]*)\][\s\S]*?\n\tID\s+: ([0-9a-f]+)/.exec(after);
  assert.ok(cert, `no certificate in pkcs15-tool -D:\n${after}`);
  assert.equal(cert[2], id);
  const certPem = ok(await run('pkcs15-tool', ['-r', reader, '--read-certificate', id]), 'pkcs15-tool --read-certificate').stdout;
  const subca = new X509Certificate(readFileSync(join(home, 'certs', 'servers.crt')));
  assert.equal(new X509Certificate(certPem).fingerprint256, subca.fingerprint256);
});

test('a key made by `ca card keygen` on the MyEID: pkcs15-tool -D lists it, pkcs11-tool --sign signs, openssl verifies', async () => {
  const gen = JSON.parse(ok(await caNoHome('card', 'keygen', '--reader', myeid.readerName, '--label', 'clients CA key', '--alg', 'p256', '--pin-file', myeidPin, '--json'), 'card keygen').stdout) as { id: string };
  const dump = ok(await run('pkcs15-tool', ['-r', reader, '-D']), 'pkcs15-tool -D').stdout;
  const m = /Private EC Key \[clients CA key\][\s\S]*?\n\tID\s+: ([0-9a-f]+)/.exec(dump);
  assert.ok(m, dump);
  assert.equal(m[1], gen.id.toLowerCase());
  assert.match(dump, /Public EC Key \[clients CA key\]/);
  const pub = join(dir, 'clients.pub.pem');
  ok(await run('pkcs15-tool', ['-r', reader, '--read-public-key', m[1]!, '-o', pub]), 'read public key');
  const data = join(dir, 'data.bin');
  const sig = join(dir, 'data.sig');
  writeFileSync(data, 'signed through OpenSC PKCS#11');
  ok(
    await run('pkcs11-tool', ['--module', P11, '--token-label', 'Servers CA card (User PIN)', '--login', '--pin', MYEID_PIN, '--sign', '--mechanism', 'ECDSA-SHA256', '--signature-format', 'openssl', '--id', m[1]!, '-i', data, '-o', sig]),
    'pkcs11-tool --sign',
  );
  const v = await run('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', sig, data]);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  assert.match(v.stdout, /Verified OK/);
});
