/**
 * OpenVPN static key format (src/ca/export/openvpn-static-key.ts) against OpenVPN's own
 * `--genkey secret`, and the client profile renderer (src/ca/export/openvpn-client.ts): inline
 * and file layouts, modes, the pkcs11 flavour.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeOpenvpnStaticKey, encodeOpenvpnStaticKey } from '../../../src/ca/export/openvpn-static-key.js';
import { renderOpenvpnClient, type OpenvpnClientInput } from '../../../src/ca/export/openvpn-client.js';
import { ExportError, pemDecodeAll } from '../../../src/ca/export/index.js';
import { makeTestPki, type TestPki } from '../../helpers/test-pki.js';
import { runTool } from '../../helpers/validators.js';

describe('OpenVPN client profile', () => {
  let dir: string;
  let pki: TestPki;
  let base: OpenvpnClientInput;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cardca-ovpn-client-'));
    pki = await makeTestPki();
    const der = async (f: string): Promise<Uint8Array> => pemDecodeAll(await readFile(f, 'utf8'))[0]!.der;
    base = {
      name: 'laptop',
      clientName: 'laptop',
      serialHex: '0A0B',
      issuingCa: 'clients',
      clientCert: await der(pki.client.cert),
      clientIntermediates: [await der(pki.sub.cert)],
      serverTrust: [await der(pki.sub.cert), await der(pki.root.cert)],
      remote: { host: 'vpn.example.test', port: 1194, proto: 'udp' },
      serverName: 'vpn.example.test',
      inline: true,
    };
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(pki.dir, { recursive: true, force: true });
  });

  test('static key: decodes what `openvpn --genkey secret` writes, and encodes it back byte for byte', async () => {
    const f = join(dir, 'ovpn.key');
    const g = await runTool('openvpn', ['--genkey', 'secret', f]);
    assert.ok(g.ok, g.output);
    const text = await readFile(f, 'utf8');
    const key = decodeOpenvpnStaticKey(text);
    assert.equal(key.length, 256);
    const ours = encodeOpenvpnStaticKey(key);
    const block = (t: string): string => t.slice(t.indexOf('-----BEGIN'));
    assert.equal(block(ours), block(text));
    assert.throws(() => decodeOpenvpnStaticKey('-----BEGIN OpenVPN Static key V1-----\nabcd\n-----END OpenVPN Static key V1-----\n'), (e: unknown) => e instanceof ExportError && e.code === 'EXPORT_TLS_CRYPT_KEY_INVALID');
  });

  test('inline with tls-crypt: one file, mode 0600, every block present, key file named', () => {
    const files = renderOpenvpnClient({ ...base, tlsCrypt: new Uint8Array(256).fill(7) });
    assert.deepEqual(files.map((f) => [f.path, f.mode]), [['laptop.ovpn', 0o600]]);
    const t = Buffer.from(files[0]!.bytes).toString('utf8');
    for (const tag of ['ca', 'cert', 'extra-certs', 'tls-crypt']) assert.match(t, new RegExp(`^<${tag}>\\n(#[^\\n]*\\n)*-----BEGIN [\\s\\S]*?</${tag}>$`, 'm'), tag);
    assert.equal((t.match(/BEGIN CERTIFICATE/g) ?? []).length, 4, 'ca: 2, cert: 1, extra-certs: 1');
    assert.match(t, /^key laptop\.key$/m);
    assert.match(t, /^verify-x509-name vpn\.example\.test name$/m);
    assert.match(t, /^remote vpn\.example\.test 1194$/m);
    assert.match(t, new RegExp(`^${'07'.repeat(16)}$`, 'm'));
  });

  test('file layout without tls-crypt: public .ovpn and PEM files; pkcs11 flavour drops cert/key', () => {
    const files = renderOpenvpnClient({ ...base, inline: false });
    assert.deepEqual(files.map((f) => [f.path, f.mode]), [['laptop.ovpn', 0o644], ['ca.pem', 0o644], ['laptop.crt', 0o644], ['extra-certs.pem', 0o644]]);
    const t = Buffer.from(files[0]!.bytes).toString('utf8');
    assert.match(t, /^ca ca\.pem$/m);
    assert.match(t, /^cert laptop\.crt$/m);
    assert.doesNotMatch(t, /^tls-crypt|<tls-crypt>/m);
    const tok = Buffer.from(renderOpenvpnClient({ ...base, pkcs11: { provider: '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so', id: 'piv/0001/slot-9a' } })[0]!.bytes).toString('utf8');
    assert.match(tok, /^pkcs11-providers \/usr\/lib\/x86_64-linux-gnu\/opensc-pkcs11\.so$/m);
    assert.match(tok, /^pkcs11-id 'piv\/0001\/slot-9a'$/m);
    assert.doesNotMatch(tok, /^key |<cert>/m);
  });

  test('token flavour (ca enroll --ovpn): tls-crypt, quoted pkcs11-id, inline chain, remote placeholder; no config-line injection', () => {
    const token: OpenvpnClientInput = {
      ...base,
      remote: { host: undefined, port: 1194, proto: 'udp' },
      serverName: undefined,
      tlsCrypt: new Uint8Array(256).fill(9),
      pkcs11: { provider: '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so', id: 'a/b\\x20c/01', cardSerial: 'DETEST123' },
    };
    const files = renderOpenvpnClient(token);
    assert.deepEqual(files.map((f) => [f.path, f.mode]), [['laptop.ovpn', 0o600]], 'one inline file, a secret: it holds the tls-crypt key');
    const t = Buffer.from(files[0]!.bytes).toString('utf8');
    assert.match(t, /^<tls-crypt>\n(#[^\n]*\n)*-----BEGIN OpenVPN Static key V1-----\n/m);
    assert.match(t, new RegExp(`^${'09'.repeat(16)}$`, 'm'));
    assert.match(t, /^pkcs11-providers \/usr\/lib\/x86_64-linux-gnu\/opensc-pkcs11\.so$/m);
    assert.match(t, /^pkcs11-id 'a\/b\\x20c\/01'$/m);
    assert.match(t, /token DETEST123/);
    assert.match(t, /^<ca>\n-----BEGIN CERTIFICATE-----\n[\s\S]*?<\/ca>$/m);
    assert.match(t, /^# remote /m);
    assert.doesNotMatch(t, /^remote |^verify-x509-name|^key |<cert>/m);
    assert.match(Buffer.from(renderOpenvpnClient({ ...token, remote: { host: 'vpn.example.test', port: 1195, proto: 'tcp' } })[0]!.bytes).toString('utf8'), /^remote vpn\.example\.test 1195$/m);
    assert.throws(() => renderOpenvpnClient({ ...token, pkcs11: { ...token.pkcs11!, id: "x'\nup /bin/sh" } }), TypeError);
    assert.throws(() => renderOpenvpnClient({ ...token, remote: { host: 'x\nup /bin/sh', port: 1, proto: 'udp' } }), TypeError);
  });
});
