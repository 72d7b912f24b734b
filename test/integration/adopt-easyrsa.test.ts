/**
 * Issue #15 "Must show", easy-rsa: an easy-rsa 3 pki/ whose CA key was generated on an emulated
 * SmartCard-HSM by `pkcs11-tool --keypairgen` (CA certificate by `openssl req -x509 -engine
 * pkcs11`; easy-rsa's own gen-req / sign-req / revoke / gen-crl, its `openssl ca` calls given
 * the engine by an EASYRSA_OPENSSL wrapper: test/helpers/legacy-ca.ts) is adopted with
 * `--easyrsa-dir`; `ca list` shows the three certificates with their statuses, the next
 * `ca crl` from the same card lists the old revocation (reason superseded), and `openssl verify
 * -crl_check` refuses the revoked certificate and accepts the others. Port 35970.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';
import { initHome } from '../helpers/two-card-home.js';
import { expectOk } from '../helpers/run-command.js';
import { buildEasyRsaPki, ca, cardWithOpenscKey, run, writePinFiles, type PinFiles } from '../helpers/legacy-ca.js';

let dir: string;
let emu: EmulatorProcess;
let pins: PinFiles;
let passed = false;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cardca-adopt-easyrsa-'));
  pins = writePinFiles(dir);
  emu = await startEmulator({ port: 35970 });
  await cardWithOpenscKey(emu, pins);
});

after(async () => {
  await emu?.stop();
  if (passed) rmSync(dir, { recursive: true, force: true });
});

test('an easy-rsa pki/ with its CA key on a card is adopted: list, next CRL and openssl verify -crl_check continue it', async () => {
  const { pki, caCert, names } = await buildEasyRsaPki(dir);
  const index = readFileSync(join(pki, 'index.txt'), 'utf8').trim().split('\n').map((l) => l.split('\t'));
  assert.deepEqual(index.map((f) => f[0]), ['V', 'R', 'V'], 'easy-rsa revoked bob');
  assert.match(index[1]![2]!, /^\d{12}Z,superseded$/);
  const serialOf = Object.fromEntries(index.map((f, i) => [names[i]!, BigInt(`0x${f[3]}`)]));

  const home = join(dir, 'home');
  await initHome(home);
  const adopt = expectOk(await ca('adopt', 'vpn-users', '--home', home, '--cert', caCert, '--card', emu.serial, '--root', '--easyrsa-dir', pki, '--pin-file', pins.pin), 'ca adopt --easyrsa-dir');
  assert.match(adopt.stdout, /imported 3 certificate\(s\), 1 revocation\(s\), 0 serial\(s\) without a certificate file/);
  const leaf = readFileSync(join(home, 'profiles', 'vpn-users-leaf.yaml'), 'utf8');
  assert.match(leaf, /extendedKeyUsage: \{ values: \["clientAuth"\]/);
  const first = await ca('profiles', 'accept', '--home', home);
  const code = /new profile set SHA-256 ([0-9a-f]{8})/.exec(first.stdout)?.[1];
  assert.ok(code, first.stdout + first.stderr);
  expectOk(await ca('profiles', 'accept', '--home', home, '--confirm', code), 'profiles accept');

  const listed = JSON.parse(expectOk(await ca('list', '--home', home, '--issuer', 'vpn-users', '--json'), 'ca list').stdout) as Array<{ serial: string; status: string; subject: string }>;
  const bySerial = new Map(listed.map((c) => [BigInt(`0x${c.serial.replace(/:/g, '')}`), c]));
  assert.equal(listed.length, 3);
  assert.equal(bySerial.get(serialOf['alice']!)?.status, 'issued');
  assert.equal(bySerial.get(serialOf['bob']!)?.status, 'revoked');
  assert.equal(bySerial.get(serialOf['carol']!)?.status, 'issued');
  assert.match(bySerial.get(serialOf['bob']!)!.subject, /CN=bob/);

  // easy-rsa 3.1's openssl-easyrsa.cnf names no crlnumber file, so its CRLs carry no number:
  // cardca's first CRL is number 1 and lists bob.
  const oldCrl = expectOk(await run('openssl', ['crl', '-in', join(pki, 'crl.pem'), '-noout', '-text']), 'old crl').stdout;
  assert.doesNotMatch(oldCrl, /CRL Number/);
  const crlFile = join(dir, 'vpn-users.crl');
  expectOk(await ca('crl', '--home', home, '--issuer', 'vpn-users', '--pin-file', pins.pin, '--out', crlFile), 'ca crl');
  const text = expectOk(await run('openssl', ['crl', '-in', crlFile, '-noout', '-text']), 'openssl crl -text').stdout;
  assert.match(text, /X509v3 CRL Number:\s*\n\s*1\n/);
  const bobHex = index[1]![3]!;
  assert.match(text, new RegExp(`Serial Number: 0*${bobHex}\\s*\\n\\s*Revocation Date: [^\\n]+\\n\\s*CRL entry extensions:\\s*\\n\\s*X509v3 CRL Reason Code:\\s*\\n\\s*Superseded`, 'i'));

  const certFor = (n: string, revoked: boolean): string => {
    const hex = index[names.indexOf(n)]![3]!;
    return revoked ? join(pki, 'revoked', 'certs_by_serial', `${hex}.crt`) : join(pki, 'issued', `${n}.crt`);
  };
  assert.ok(readdirSync(join(pki, 'revoked', 'certs_by_serial')).length === 1);
  const verify = (cert: string) => run('openssl', ['verify', '-crl_check', '-CAfile', caCert, '-CRLfile', crlFile, cert]);
  expectOk(await verify(certFor('alice', false)), 'verify alice');
  expectOk(await verify(certFor('carol', false)), 'verify carol');
  const bob = await verify(certFor('bob', true));
  assert.notEqual(bob.code, 0);
  assert.match(bob.stdout + bob.stderr, /certificate revoked/);
  passed = true;
});
