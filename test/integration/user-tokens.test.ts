/**
 * Users' tokens through pcscd (issue #11): root card on vpcd port 35963, sub-CA card (servers +
 * clients) on 35964, the user's token in a third reader (35965). Judges are independent tools:
 * `openssl req -verify` for `ca csr`, OpenSC's `pkcs15-tool --read-certificate` for the
 * write-back, `openvpn --show-pkcs11-ids` (pkcs11-helper over OpenSC's PKCS#11 module) for the
 * `.ovpn`'s pkcs11-id, and a real OpenVPN client signing its TLS handshake with the token
 * (PIN over the management interface) against a server from the servers sub-CA that trusts only
 * the clients chain — and refuses the same token after `ca revoke --card` and a new CRL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';
import { BIN, expectOk, runCommand, type Run } from '../helpers/run-command.js';
import { initTwoCardHome, TEST_PIN, type TwoCardHome } from '../helpers/two-card-home.js';
import { makeKeyAndCsr } from '../helpers/test-pki.js';
import { openvpnHandshake } from '../helpers/validators.js';
import { pemDecodeAll } from '../../src/ca/export/pem.js';
import { OPENSC_MODULE, pemCerts, showPkcs11Ids } from '../helpers/pkcs11-ids.js';

const PORTS = { root: 35963, sub: 35964, user: 35965 } as const;
const MODULE = OPENSC_MODULE;

let h: TwoCardHome;
let userEmu: EmulatorProcess;
const ca = (...args: string[]): Promise<Run> => runCommand(process.execPath, [BIN, ...args]);
const home = (): string[] => ['--home', h.home];

describe("users' tokens: ca csr, ca enroll, write-back, OpenVPN with the token", { timeout: 600_000 }, () => {
  let enrolled: { card: string; keyId: string; serial: string; files: string[] };
  before(async () => {
    h = await initTwoCardHome('cardca-tokens-', [PORTS.root, PORTS.sub]);
    userEmu = await startEmulator({ port: PORTS.user });
    expectOk(await ca('ceremony', 'root', ...home(), '--card', h.rootEmu.serial, '--pin-file', h.pin, '--yes'), 'root ceremony');
    for (const s of ['servers', 'clients']) {
      expectOk(await ca('ceremony', 'subca', s, ...home(), '--card', h.subEmu.serial, '--pin-file', h.pin, '--issuer-card', h.rootEmu.serial, '--issuer-pin-file', h.pin, '--yes'), `${s} ceremony`);
    }
  });
  after(async () => {
    await userEmu?.stop();
    await h?.rootEmu.stop();
    await h?.subEmu.stop();
  });

  test('bad input before anything is written: blank token without --init, wrong issuer card, subject outside the profile', async () => {
    const base = ['enroll', ...home(), '--issuer', 'clients', '--profile', 'vpn-client', '--card', userEmu.serial, '--pin-file', h.pin, '--user-pin-file', h.pin];
    const blank = await ca(...base, '--subject', 'CN=alice');
    assert.equal(blank.code, 4, blank.stderr);
    assert.match(blank.stderr, /PIN_NOT_INITIALIZED/);
    const policy = await ca(...base, '--subject', 'CN=Not Allowed!', '--init', '--user-so-pin-file', h.soPin);
    assert.equal(policy.code, 5, policy.stderr);
    const wrong = await ca(...base, '--subject', 'CN=alice', '--issuer-card', h.rootEmu.serial);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /CARD_WRONG/);
    const st = JSON.parse(expectOk(await ca('card', 'status', '--card', userEmu.serial, '--json'), 'status').stdout) as { initialized: boolean };
    assert.equal(st.initialized, false, 'the refused runs left the token blank');
    const list = expectOk(await ca('list', ...home(), '--json'), 'list');
    assert.equal((JSON.parse(list.stdout) as unknown[]).filter((c) => (c as { isCa: boolean }).isCa === false).length, 0);
  });

  test('ca enroll --init --ovpn: key on the token, certificate written back and read by OpenSC', async () => {
    const out = join(h.dir, 'alice');
    // With a tls-crypt key in the home, the token's .ovpn carries it (issue #11 item 2).
    expectOk(await ca('openvpn', 'tls-crypt-key', 'create', ...home()), 'tls-crypt-key create');
    const r = expectOk(
      await ca('enroll', ...home(), '--issuer', 'clients', '--profile', 'vpn-client', '--card', userEmu.serial, '--subject', 'CN=alice', '--init',
        '--user-so-pin-file', h.soPin, '--user-pin-file', h.pin, '--pin-file', h.pin, '--out', out, '--ovpn', '--ovpn-remote', 'vpn.example.test:1194', '--json'),
      'enroll',
    );
    const [res] = JSON.parse(r.stdout) as { card: string; keyId: string; serial: string; files: string[]; algorithm: string; subject: string; caCertificatesOnToken: number }[];
    assert.ok(res);
    assert.equal(res.card, userEmu.serial);
    assert.equal(res.algorithm, 'p256');
    assert.match(res.subject, /CN=alice/);
    enrolled = res;
    const cert = pemCerts(res.files[0]!)[0]!;
    // OpenSC reads what cardca wrote (pkcs15-tool: the PKCS#15 emulation of the SmartCard-HSM).
    const p15 = await runCommand('pkcs15-tool', ['--reader', userEmu.readerName, '--read-certificate', res.keyId.toLowerCase()], { timeoutMs: 60_000 });
    assert.equal(p15.code, 0, p15.stderr);
    const fromOpensc = pemDecodeAll(p15.stdout).find((b) => b.label === 'CERTIFICATE');
    assert.ok(fromOpensc, p15.stdout);
    assert.deepEqual(Buffer.from(fromOpensc.der), cert, 'pkcs15-tool returns the issued certificate');
    // ca card cert read agrees.
    const back = expectOk(await ca('card', 'cert', 'read', '--card', userEmu.serial, '--key-id', res.keyId), 'cert read');
    assert.deepEqual(Buffer.from(pemDecodeAll(back.stdout)[0]!.der), cert);
    // The chain file is clients then root.
    const chain = pemCerts(res.files[1]!);
    assert.equal(chain.length, 2);
    // ... and the same chain is on the token as authority certificates (CA xx + C8 xx), which
    // OpenSC lists: pkcs15-tool -D with Authority: yes, pkcs11-tool -O as certificate objects.
    assert.equal(res.caCertificatesOnToken, 2);
    const dump = expectOk(await runCommand('pkcs15-tool', ['--reader', userEmu.readerName, '-D'], { timeoutMs: 60_000 }), 'pkcs15-tool -D').stdout;
    for (const cn of ['Example VPN Clients CA', 'Example VPN Root CA']) {
      assert.match(dump, new RegExp(`X\\.509 Certificate \\[${cn}[^\\]]*\\][\\s\\S]*?Authority\\s*: yes`), `${cn} in pkcs15-tool -D:\n${dump}`);
    }
    const objects = expectOk(await runCommand('pkcs11-tool', ['--module', MODULE, '--slot-description', userEmu.readerName, '-O'], { timeoutMs: 60_000 }), 'pkcs11-tool -O').stdout;
    const certLabels = [...objects.matchAll(/Certificate Object;[^\n]*\n\s*label:\s*(.*)/g)].map((m) => m[1]!.trim());
    assert.deepEqual(certLabels.sort(), ['Example VPN Clients CA', 'Example VPN Root CA', 'alice'].sort(), objects);
    // OpenSC returns the bytes cardca wrote: the CA certificates read through pkcs15-tool.
    const cas = [...dump.matchAll(/X\.509 Certificate \[[^\]]*\][\s\S]*?Authority\s*: yes[\s\S]*?ID\s*: ([0-9a-f]+)/g)].map((m) => m[1]!);
    assert.equal(cas.length, 2, dump);
    for (const id of cas) {
      const got = expectOk(await runCommand('pkcs15-tool', ['--reader', userEmu.readerName, '--read-certificate', id], { timeoutMs: 60_000 }), 'read CA cert').stdout;
      assert.ok(chain.some((c) => c.equals(Buffer.from(pemDecodeAll(got)[0]!.der))), `CA certificate ${id} is one of the chain`);
    }
    // ca list --card finds it, with the key id.
    const list = JSON.parse(expectOk(await ca('list', ...home(), '--card', userEmu.serial, '--json'), 'list --card').stdout) as { serial: string; token: { keyId: string } }[];
    assert.deepEqual(list.map((c) => [c.serial, c.token.keyId]), [[res.serial, res.keyId]]);
  });

  test("the .ovpn's pkcs11-id is exactly what openvpn --show-pkcs11-ids prints for the token's certificate", async () => {
    const ovpn = readFileSync(enrolled.files[2]!, 'utf8');
    assert.match(ovpn, new RegExp(`^pkcs11-providers ${MODULE}$`, 'm'));
    const idLine = /^pkcs11-id '([^']*)'$/m.exec(ovpn);
    assert.ok(idLine, ovpn);
    const ids = await showPkcs11Ids();
    const mine = ids.filter((x) => /CN=alice/.test(x.dn));
    assert.equal(mine.length, 1, JSON.stringify(ids));
    assert.equal(idLine[1], mine[0]!.id);
    assert.match(ovpn, /^<ca>$/m);
    assert.match(ovpn, /^<tls-crypt>\n(#[^\n]*\n)*-----BEGIN OpenVPN Static key V1-----$/m);
    assert.equal(statSync(enrolled.files[2]!).mode & 0o777, 0o600, 'the .ovpn holds the tls-crypt key: mode 0600');
    assert.doesNotMatch(ovpn, /PRIVATE KEY|648219/);
  });

  test('re-enrolling the same label is refused before the token is touched', async () => {
    const keysBefore = expectOk(await ca('card', 'list', '--json'), 'card list').stdout;
    const r = await ca('enroll', ...home(), '--issuer', 'clients', '--profile', 'vpn-client', '--card', userEmu.serial, '--subject', 'CN=alice', '--user-pin-file', h.pin, '--pin-file', h.pin, '--out', join(h.dir, 'again'));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /TOKEN_LABEL_TAKEN/);
    assert.equal(expectOk(await ca('card', 'list', '--json'), 'card list').stdout, keysBefore);
  });

  test('ca csr with RSA (PKCS#1 and PSS) and EC keys on the token: openssl req -verify accepts each', async () => {
    expectOk(await ca('card', 'keygen', '--card', userEmu.serial, '--label', 'rsa-key', '--alg', 'rsa2048', '--pin-file', h.pin), 'keygen');
    const cases: [string, string, string | undefined][] = [
      ['rsa-pkcs1', 'rsa-key', undefined],
      ['rsa-pss', 'rsa-key', 'rsa-pss-sha256'],
      ['ec', enrolled.keyId, undefined],
    ];
    for (const [name, key, alg] of cases) {
      const f = join(h.dir, `${name}.csr`);
      expectOk(await ca('csr', '--card', userEmu.serial, '--key-id', key, '--subject', 'CN=bob,OU=Staff', '--san', 'email:bob@example.test', '--out', f, '--pin-file', h.pin, ...(alg ? ['--sig-alg', alg] : [])), `csr ${name}`);
      const v = await runCommand('openssl', ['req', '-in', f, '-verify', '-noout', '-text']);
      assert.equal(v.code, 0, v.stderr);
      assert.match(v.stdout + v.stderr, /verify OK/i);
      assert.match(v.stdout, /Subject: OU\s*=\s*Staff, CN\s*=\s*bob/);
      assert.match(v.stdout, /email:bob@example.test/);
      if (alg) assert.match(v.stdout, /rsassaPss/);
    }
  });

  test("ca ceremony subca users --external-root writes a card-signed CSR; --import-cert of openssl's answer finishes it", async () => {
    const csr = join(h.dir, 'users.csr');
    const r = expectOk(await ca('ceremony', 'subca', 'users', ...home(), '--card', h.subEmu.serial, '--pin-file', h.pin, '--external-root', '--out', csr, '--yes'), 'external request');
    assert.match(r.stdout, /external-root request for users/);
    expectOk(await runCommand('openssl', ['req', '-in', csr, '-verify', '-noout']), 'openssl req -verify');
    const o = (args: string[]) => runCommand('openssl', args, { timeoutMs: 60_000 });
    const ext = (n: string) => join(h.dir, n);
    expectOk(await o(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', ext('ext.key'), '-out', ext('ext.crt'), '-subj', '/O=Other Org/CN=Other Root', '-days', '3650', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']), 'ext root');
    writeFileSync(ext('ext.cnf'), 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,digitalSignature,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
    expectOk(await o(['x509', '-req', '-in', csr, '-CA', ext('ext.crt'), '-CAkey', ext('ext.key'), '-CAcreateserial', '-days', '1000', '-extfile', ext('ext.cnf'), '-out', ext('users.crt')]), 'ext sign');
    const noChain = await ca('ceremony', 'subca', 'users', ...home(), '--pin-file', h.pin, '--import-cert', ext('users.crt'), '--yes');
    assert.notEqual(noChain.code, 0);
    assert.match(noChain.stderr, /CA_CHAIN_MISSING/);
    const ok = expectOk(await ca('ceremony', 'subca', 'users', ...home(), '--pin-file', h.pin, '--import-cert', ext('users.crt'), '--chain', ext('ext.crt'), '--yes'), 'import');
    assert.match(ok.stdout, /sub-CA users is ready/);
    const shown = expectOk(await ca('card', 'list', '--json'), 'card list').stdout;
    assert.ok(shown.includes(h.subEmu.serial));
    assert.deepEqual(pemCerts(join(h.home, 'certs', 'users.crt')), pemCerts(ext('users.crt')));
    // ca export chain goes on through the external root; openssl builds the path to it.
    const chainFile = ext('users-chain.pem');
    expectOk(await ca('export', 'chain', ...home(), '--issuer', 'users', '--out', chainFile), 'export chain users');
    assert.deepEqual(pemCerts(chainFile), [...pemCerts(ext('users.crt')), ...pemCerts(ext('ext.crt'))]);
    expectOk(await o(['verify', '-x509_strict', '-CAfile', ext('ext.crt'), chainFile]), 'openssl verify users under the external root');
    // A swapped external-chain file is refused, not exported.
    const kept = join(h.home, 'certs', 'users.external-chain.pem');
    const original = readFileSync(kept);
    writeFileSync(kept, readFileSync(join(h.home, 'certs', 'root.crt')));
    const swapped = await ca('export', 'chain', ...home(), '--issuer', 'users', '--out', ext('swapped.pem'));
    assert.equal(swapped.code, 11, swapped.stderr);
    assert.match(swapped.stderr, /INTEGRITY_EXTERNAL_CHAIN/);
    writeFileSync(kept, original);
  });

  test('a real OpenVPN client logs in with the token (PIN over management); refused after ca revoke --card and a new CRL', async () => {
    // Server: a vpn-server certificate from the servers sub-CA (openssl key: the server is not a token).
    const kc = await makeKeyAndCsr(h.dir, 'gw', 'ec-p256', '/CN=gw.vpn.example.test', { addext: ['subjectAltName=DNS:gw.vpn.example.test'] });
    const gwCrt = join(h.dir, 'gw.crt');
    expectOk(await ca('sign', kc.csr, ...home(), '--issuer', 'servers', '--profile', 'vpn-server', '--out', gwCrt, '--pin-file', h.pin), 'sign gw');
    const crls = async (): Promise<string> => {
      for (const c of ['root', 'clients', 'servers']) expectOk(await ca('crl', ...home(), '--issuer', c, '--pin-file', h.pin), `crl ${c}`);
      const f = join(h.dir, `crls-${Date.now()}.pem`);
      expectOk(await ca('export', 'crl', ...home(), '--all', '--out', f), 'export crl');
      return f;
    };
    // The server trusts only the clients chain (clients sub-CA + root); the client only the servers chain.
    const chainOf = async (issuer: string): Promise<string> => {
      const f = join(h.dir, `${issuer}.chain.pem`);
      expectOk(await ca('export', 'chain', ...home(), '--issuer', issuer, '--out', f), `chain ${issuer}`);
      return f;
    };
    const serverCa = await chainOf('clients');
    const clientCa = await chainOf('servers');
    // The client's token lines and its inline tls-crypt key, exactly as the generated .ovpn has
    // them, read by OpenVPN's parser; the server takes the home's key (`ca openvpn tls-crypt-key export`).
    const ovpn = readFileSync(enrolled.files[2]!, 'utf8');
    const tokenConf = join(h.dir, 'token.conf');
    const tlsCrypt = /^<tls-crypt>$[\s\S]*?^<\/tls-crypt>$/m.exec(ovpn)?.[0];
    assert.ok(tlsCrypt, ovpn);
    writeFileSync(tokenConf, ovpn.split('\n').filter((l) => /^pkcs11-(providers|id) /.test(l)).join('\n') + '\n' + tlsCrypt + '\n');
    const serverKey = join(h.dir, 'server-tls-crypt.key');
    expectOk(await ca('openvpn', 'tls-crypt-key', 'export', ...home(), '--out', serverKey), 'tls-crypt-key export');
    const run = async (crlFile: string) =>
      openvpnHandshake({
        serverCert: gwCrt, serverKeyFile: kc.key, clientCert: '', clientKeyFile: '', caFile: serverCa, crlFile, clientCrlFile: null,
        serverName: 'gw.vpn.example.test', timeoutMs: 30_000, clientPkcs11: { configFile: tokenConf, pin: TEST_PIN },
        // The client verifies the server against the servers chain: it gets that as its own ca.
        clientCaFile: clientCa,
        serverTlsCryptFile: serverKey,
      });
    const both = (r: Awaited<ReturnType<typeof run>>): string => `--- server ---\n${r.server.output}\n--- client ---\n${r.client.output}`;
    const ok = await run(await crls());
    assert.equal(ok.ok, true, both(ok));
    assert.match(ok.client.output, /pkcs11/i);
    // tls-crypt is really in use: a server with another key never hears the token client.
    const otherKey = join(h.dir, 'other-tls-crypt.key');
    expectOk(await runCommand('openvpn', ['--genkey', 'secret', otherKey]), 'openvpn --genkey');
    const stranger = await openvpnHandshake({
      serverCert: gwCrt, serverKeyFile: kc.key, clientCert: '', clientKeyFile: '', caFile: serverCa, clientCrlFile: null,
      serverName: 'gw.vpn.example.test', timeoutMs: 12_000, clientPkcs11: { configFile: tokenConf, pin: TEST_PIN }, clientCaFile: clientCa, serverTlsCryptFile: otherKey,
    });
    assert.equal(stranger.ok, false, both(stranger));
    assert.doesNotMatch(stranger.server.output, /Peer Connection Initiated/);

    const rv = expectOk(await ca('revoke', ...home(), '--card', userEmu.serial, '--reason', 'keyCompromise'), 'revoke --card');
    assert.match(rv.stdout, new RegExp(`revoked ${enrolled.serial}`));
    const list = JSON.parse(expectOk(await ca('list', ...home(), '--card', userEmu.serial, '--json'), 'list').stdout) as { status: string }[];
    assert.deepEqual(list.map((c) => c.status), ['revoked']);
    const refused = await run(await crls());
    assert.equal(refused.ok, false, both(refused));
    assert.equal(refused.reason, 'revoked', both(refused));
    const again = await ca('revoke', ...home(), '--card', userEmu.serial, '--reason', 'keyCompromise');
    assert.equal(again.code, 8, again.stderr); // REVOKE_NOT_FOUND: the _NOT_FOUND suffix maps to exit 8
    assert.match(again.stderr, /REVOKE_NOT_FOUND/);
  });
});
