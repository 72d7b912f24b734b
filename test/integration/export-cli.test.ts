/**
 * `ca export chain|cert|crl` through the real CLI and pcscd (vpcd ports 35963/35964): every
 * format is parsed back by the tool its consumer uses — openssl (PEM, DER, PKCS#7, the OpenVPN
 * ca/crl files with `verify -crl_check_all`), strongSwan's `pki --print` on the swanctl files —
 * and a missing or expired CRL of any CA level refuses the concentrator formats with a code and
 * the `ca crl` command to run.
 */
import { BIN, expectOk, runCommand, type Run } from '../helpers/run-command.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmulatorProcess } from '../helpers/emulator-process.js';
import { initTwoCardHome } from '../helpers/two-card-home.js';


const run = (cmd: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> => runCommand(cmd, args, { env });

let dir: string;
let home: string;
let pin: string;
let rootEmu: EmulatorProcess;
let subEmu: EmulatorProcess;
let leafSerial: string;
let leafCrt: string;
const ca = (...args: string[]): Promise<Run> => run(process.execPath, [BIN, ...args, '--home', home]);
const ok = expectOk;
const subjects = (text: string): string[] => [...text.matchAll(/^subject=(.*)$/gm)].map((m) => m[1]!.trim());

before(async () => {
  ({ dir, home, pin, rootEmu, subEmu } = await initTwoCardHome('cardca-export-', [35963, 35964]));
  ok(await ca('ceremony', 'root', '--card', rootEmu.serial, '--pin-file', pin, '--yes'), 'ceremony root');
  ok(await ca('ceremony', 'subca', 'servers', '--card', subEmu.serial, '--pin-file', pin, '--issuer-pin-file', pin, '--yes'), 'ceremony servers');
  ok(await ca('ceremony', 'subca', 'clients', '--card', subEmu.serial, '--pin-file', pin, '--issuer-pin-file', pin, '--yes'), 'ceremony clients');
  const csr = join(dir, 'web.csr');
  ok(await run('openssl', ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', join(dir, 'web.key'), '-subj', '/CN=web.example.test', '-addext', 'subjectAltName=DNS:web.example.test', '-out', csr]), 'openssl req');
  leafCrt = join(dir, 'web.crt');
  ok(await ca('sign', csr, '--issuer', 'servers', '--profile', 'tls-server', '--pin-file', pin, '--out', leafCrt), 'sign');
  leafSerial = (JSON.parse(ok(await ca('list', '--issuer', 'servers', '--json'), 'list').stdout) as { serial: string }[])[0]!.serial;
  ok(await ca('crl', '--issuer', 'root', '--pin-file', pin), 'crl root');
  ok(await ca('crl', '--issuer', 'servers', '--pin-file', pin), 'crl servers');
});

after(async () => {
  await rootEmu?.stop();
  await subEmu?.stop();
});

test('chain as PEM, DER and PKCS#7, in issuing-CA-first order', async () => {
  const pem = join(dir, 'out', 'chain.pem');
  ok(await ca('export', 'chain', '--issuer', 'servers', '--format', 'pem', '--out', pem), 'export pem');
  const pemCerts = readFileSync(pem, 'utf8').match(/-----BEGIN CERTIFICATE-----/g) ?? [];
  assert.equal(pemCerts.length, 2);
  const first = ok(await run('openssl', ['x509', '-in', pem, '-noout', '-subject']), 'openssl x509');
  assert.match(first.stdout, /Servers CA/);

  const p7b = join(dir, 'out', 'servers.p7b');
  ok(await ca('export', 'chain', '--issuer', 'servers', '--format', 'p7b', '--out', p7b), 'export p7b');
  const printed = ok(await run('openssl', ['pkcs7', '-inform', 'DER', '-in', p7b, '-print_certs', '-noout']), 'openssl pkcs7');
  const s = subjects(printed.stdout);
  assert.equal(s.length, 2, printed.stdout);
  assert.match(s[0]!, /Servers CA/);
  assert.doesNotMatch(s[1]!, /Servers CA/);

  const derDir = join(dir, 'out', 'der');
  ok(await ca('export', 'chain', '--issuer', 'servers', '--format', 'der', '--out', derDir), 'export der');
  assert.deepEqual(readdirSync(derDir).sort(), ['servers-chain-0.der', 'servers-chain-1.der']);
  const d0 = ok(await run('openssl', ['x509', '-inform', 'DER', '-in', join(derDir, 'servers-chain-0.der'), '-noout', '-subject']), 'openssl x509 der');
  assert.match(d0.stdout, /Servers CA/);
  // The root (index 1) is self-issued.
  const d1 = ok(await run('openssl', ['x509', '-inform', 'DER', '-in', join(derDir, 'servers-chain-1.der'), '-noout', '-subject', '-issuer']), 'openssl x509 der root');
  const [subj, iss] = d1.stdout.trim().split('\n');
  assert.equal(subj!.replace(/^subject=/, ''), iss!.replace(/^issuer=/, ''));
});

test('OpenVPN export: ca.pem + crl.pem verify the leaf with -crl_check_all', async () => {
  const out = join(dir, 'openvpn');
  ok(await ca('export', 'chain', '--issuer', 'servers', '--format', 'openvpn', '--out', out), 'export openvpn');
  assert.deepEqual(readdirSync(out).sort(), ['README.txt', 'ca.pem', 'client.conf', 'crl.pem', 'server.conf']);
  const crls = readFileSync(join(out, 'crl.pem'), 'utf8').match(/-----BEGIN X509 CRL-----/g) ?? [];
  assert.equal(crls.length, 2, 'one CRL per CA level');
  const v = await run('openssl', ['verify', '-x509_strict', '-crl_check_all', '-CAfile', join(out, 'ca.pem'), '-CRLfile', join(out, 'crl.pem'), leafCrt]);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  assert.match(readFileSync(join(out, 'server.conf'), 'utf8'), /crl-verify/);
  const crlText = ok(await run('openssl', ['crl', '-in', join(out, 'crl.pem'), '-noout', '-issuer']), 'openssl crl');
  assert.match(crlText.stdout, /issuer=/);
});

test('strongSwan export: pki --print reads every CA certificate and CRL', async () => {
  const out = join(dir, 'swanctl');
  ok(await ca('export', 'chain', '--issuer', 'servers', '--format', 'strongswan', '--out', out), 'export strongswan');
  assert.deepEqual(readdirSync(join(out, 'x509ca')).sort(), ['root.pem', 'servers.pem']);
  assert.deepEqual(readdirSync(join(out, 'x509crl')).sort(), ['root.crl', 'servers.crl']);
  assert.ok(existsSync(join(out, 'conf.d', 'cardca-servers.conf')));
  const cert = ok(await run('pki', ['--print', '--type', 'x509', '--in', join(out, 'x509ca', 'servers.pem')]), 'pki --print x509');
  assert.match(cert.stdout, /subject:.*Servers CA/);
  const crl = ok(await run('pki', ['--print', '--type', 'crl', '--in', join(out, 'x509crl', 'servers.crl')]), 'pki --print crl');
  assert.match(crl.stdout, /serial:\s+01|crlNumber|serial/i);
  assert.match(crl.stdout, /Servers CA/);
});

test('concentrator formats refuse a missing or expired CRL with the command to run', async () => {
  const missing = await ca('export', 'chain', '--issuer', 'clients', '--format', 'openvpn', '--out', join(dir, 'x'));
  assert.equal(missing.code, 12, missing.stderr);
  assert.match(missing.stderr, /EXPORT_CRL_MISSING.*clients/);
  assert.match(missing.stderr, /ca crl --issuer clients/);
  assert.ok(!existsSync(join(dir, 'x')), 'nothing written');

  // 40 days on, the 30-day servers CRL is past its nextUpdate.
  const later = new Date(Date.now() + 40 * 86_400_000).toISOString();
  const expired = await run(process.execPath, [BIN, 'export', 'chain', '--issuer', 'servers', '--format', 'strongswan', '--out', join(dir, 'y'), '--home', home], { CA_FAKE_NOW: later });
  assert.equal(expired.code, 12, expired.stderr);
  assert.match(expired.stderr, /EXPORT_CRL_EXPIRED.*servers/);
  assert.doesNotMatch(expired.stderr, /EXPORT_CRL_EXPIRED.*root #/, 'the 180-day root CRL is still valid');
  assert.match(expired.stderr, /ca crl --issuer servers/);
  // Plain chain formats need no CRL.
  ok(await ca('export', 'chain', '--issuer', 'clients', '--format', 'pem', '--out', join(dir, 'clients.pem')), 'clients pem');
});

test('one certificate with or without its chain; CRLs as PEM and DER', async () => {
  const full = join(dir, 'cert', 'web-full.p7b');
  ok(await ca('export', 'cert', leafSerial, '--chain', '--format', 'p7b', '--out', full), 'export cert p7b');
  const s = subjects(ok(await run('openssl', ['pkcs7', '-inform', 'DER', '-in', full, '-print_certs', '-noout']), 'pkcs7').stdout);
  assert.equal(s.length, 3);
  assert.match(s[0]!, /web\.example\.test/);
  assert.match(s[1]!, /Servers CA/);

  const der = join(dir, 'cert', 'web.der');
  ok(await ca('export', 'cert', leafSerial, '--format', 'der', '--out', der), 'export cert der');
  const fromDer = ok(await run('openssl', ['x509', '-inform', 'DER', '-in', der, '-noout', '-fingerprint', '-sha256']), 'x509 der').stdout;
  const fromPem = ok(await run('openssl', ['x509', '-in', leafCrt, '-noout', '-fingerprint', '-sha256']), 'x509 pem').stdout;
  assert.equal(fromDer, fromPem);

  const pemDir = join(dir, 'cert', 'pemdir') + '/';
  ok(await ca('export', 'cert', leafSerial.toLowerCase().match(/../g)!.join(':'), '--issuer', 'servers', '--format', 'pem', '--out', pemDir), 'export cert pem into dir');
  assert.deepEqual(readdirSync(pemDir), [`servers-${leafSerial}.pem`]);

  const unknown = await ca('export', 'cert', '0102030405', '--format', 'pem');
  assert.equal(unknown.code, 8, unknown.stderr);
  assert.match(unknown.stderr, /CERT_NOT_FOUND/);

  const crlDir = join(dir, 'crls');
  ok(await ca('export', 'crl', '--all', '--format', 'der', '--out', crlDir), 'export crl der');
  assert.deepEqual(readdirSync(crlDir).sort(), ['root.crl', 'servers.crl']);
  const c = ok(await run('openssl', ['crl', '-inform', 'DER', '-in', join(crlDir, 'servers.crl'), '-noout', '-crlnumber']), 'openssl crl der');
  assert.match(c.stdout, /crlNumber=0x01|crlNumber=01|crlNumber=1\b/);
  const pemFile = join(dir, 'servers.crl.pem');
  ok(await ca('export', 'crl', '--issuer', 'servers', '--format', 'pem', '--out', pemFile), 'export crl pem');
  ok(await run('openssl', ['crl', '-in', pemFile, '-noout']), 'openssl crl pem');
  const none = await ca('export', 'crl', '--issuer', 'clients', '--format', 'pem', '--out', join(dir, 'c.pem'));
  assert.equal(none.code, 8, none.stderr);
  assert.match(none.stderr, /ca crl --issuer clients/);
});
