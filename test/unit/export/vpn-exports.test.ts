import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFilesAtomically } from '../../../src/common/atomic-write.js';
import {
  ExportError,
  exportOpenvpn,
  exportStrongswan,
  OPENVPN_FILES,
  pemDecodeAll,
  type ChainExportInput,
} from '../../../src/ca/export/index.js';
import { makeTestPki, type TestPki } from '../../helpers/test-pki.js';
import { openvpnHandshake, opensslVerify, runTool } from '../../helpers/validators.js';

async function derOf(path: string, label = 'CERTIFICATE'): Promise<Uint8Array> {
  return pemDecodeAll(await readFile(path, 'utf8')).find((b) => b.label === label)!.der;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('VPN exports', () => {
  let pki: TestPki;
  let input: ChainExportInput;
  const dirs: string[] = [];
  after(async () => {
    await Promise.all([pki.dir, ...dirs].map((d) => rm(d, { recursive: true, force: true })));
  });
  before(async () => {
    pki = await makeTestPki();
    input = {
      chain: [await derOf(pki.sub.cert), await derOf(pki.root.cert)],
      // deliberately root first: the exporter orders CRLs by chain level
      crls: [await derOf(pki.root.crl, 'X509 CRL'), await derOf(pki.sub.crl, 'X509 CRL')],
      names: ['servers', 'root'],
    };
  });

  test('openvpn: ca.pem in chain order, crl.pem with every level, config lines, usable by openssl', async () => {
    const files = exportOpenvpn(input);
    assert.deepEqual(files.map((f) => f.path), ['ca.pem', 'crl.pem', 'server.conf', 'client.conf', 'README.txt']);
    assert.ok(files.every((f) => f.mode === 0o644));
    const byPath = new Map(files.map((f) => [f.path, Buffer.from(f.bytes).toString('utf8')]));
    const ca = pemDecodeAll(byPath.get(OPENVPN_FILES.ca)!);
    assert.deepEqual(ca.map((b) => b.label), ['CERTIFICATE', 'CERTIFICATE']);
    assert.deepEqual(ca.map((b) => hex(b.der)), input.chain.map(hex), 'issuing CA first, root last');
    const crls = pemDecodeAll(byPath.get(OPENVPN_FILES.crl)!);
    assert.deepEqual(crls.map((b) => b.label), ['X509 CRL', 'X509 CRL']);
    assert.deepEqual(crls.map((b) => hex(b.der)), [hex(input.crls[1]!), hex(input.crls[0]!)], 'sub CRL then root CRL');
    const server = byPath.get('server.conf')!;
    for (const line of ['ca ca.pem', 'crl-verify crl.pem', 'remote-cert-tls client', 'tls-cert-profile preferred']) {
      assert.match(server, new RegExp(`^${line}$`, 'm'), `server.conf lacks "${line}"`);
    }
    assert.match(byPath.get('client.conf')!, /^remote-cert-tls server$/m);
    const readme = byPath.get('README.txt')!;
    assert.match(readme, /CN=Test Servers CA,O=cardca test/);
    assert.match(readme, /next update \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);

    // The files work as written: openssl with exactly these two files accepts a client and
    // refuses the revoked one (-crl_check_all needs both levels).
    const dir = await mkdtemp(join(tmpdir(), 'cardca-ovpn-'));
    dirs.push(dir);
    await writeFilesAtomically(dir, files);
    // ca.pem is passed as the untrusted chain and the root as anchor, as a concentrator would
    // end up trusting it.
    const ok = await opensslVerify({ leaf: pki.client.cert, chain: [join(dir, 'ca.pem')], root: pki.root.cert, crls: [join(dir, 'crl.pem')], purpose: 'client' });
    assert.ok(ok.ok, ok.output);
    const revoked = await opensslVerify({ leaf: pki.revoked.cert, chain: [join(dir, 'ca.pem')], root: pki.root.cert, crls: [join(dir, 'crl.pem')], purpose: 'client' });
    assert.equal(revoked.ok, false);
    assert.equal(revoked.reason, 'revoked');

    // …and a real OpenVPN server configured with exactly these two files (G23).
    const hs = {
      serverCert: pki.server.cert,
      serverKeyFile: pki.server.key,
      clientCert: pki.client.cert,
      clientKeyFile: pki.client.key,
      caFile: join(dir, OPENVPN_FILES.ca),
      crlFile: join(dir, OPENVPN_FILES.crl),
      serverName: pki.serverName,
    };
    const [good, bad] = await Promise.all([
      openvpnHandshake(hs),
      openvpnHandshake({ ...hs, clientCert: pki.revoked.cert, clientKeyFile: pki.revoked.key }),
    ]);
    assert.equal(good.ok, true, `${good.server.output}\n---\n${good.client.output}`);
    assert.equal(bad.ok, false);
    assert.equal(bad.reason, 'revoked', bad.server.output);
  });

  test('openvpn and strongswan refuse a chain with a CA level lacking its CRL', () => {
    for (const fn of [exportOpenvpn, exportStrongswan]) {
      assert.throws(
        () => fn({ ...input, crls: [input.crls[1]!] }),
        (e: unknown) => e instanceof ExportError && e.code === 'EXPORT_CRL_MISSING' && /root/.test(e.message),
      );
    }
  });

  test('strongswan: swanctl layout, every file parses with pki --print', async () => {
    const files = exportStrongswan(input);
    assert.deepEqual(files.map((f) => f.path), [
      'x509ca/servers.pem',
      'x509ca/root.pem',
      'x509crl/servers.crl',
      'x509crl/root.crl',
      'conf.d/cardca-servers.conf',
    ]);
    const dir = await mkdtemp(join(tmpdir(), 'cardca-swan-'));
    dirs.push(dir);
    await writeFilesAtomically(dir, files);
    const printed: string[] = [];
    for (const [type, f] of [
      ['x509', 'x509ca/servers.pem'],
      ['x509', 'x509ca/root.pem'],
      ['crl', 'x509crl/servers.crl'],
      ['crl', 'x509crl/root.crl'],
    ] as const) {
      const r = await runTool('pki', ['--print', '--type', type, '--in', join(dir, f)]);
      assert.ok(r.ok, `${f}: ${r.output}`);
      printed.push(r.output);
    }
    assert.match(printed[0]!, /subject:\s+"O=cardca test, CN=Test Servers CA"/);
    assert.match(printed[1]!, /subject:\s+"O=cardca test, CN=Test Root CA"/);
    assert.match(printed[2]!, /issuer:\s+"O=cardca test, CN=Test Servers CA"/);
    assert.match(printed[2]!, /1 revoked certificate/);
    assert.match(printed[3]!, /issuer:\s+"O=cardca test, CN=Test Root CA"/);
    // CRL files are DER (what pki --gen-crl writes; swanctl reads DER or PEM).
    assert.equal(files[2]!.bytes[0], 0x30);
    const conf = Buffer.from(files[4]!.bytes).toString('utf8');
    assert.match(conf, /authorities \{\n\s+servers \{\n\s+cacert = servers\.pem\n\s+\}\n\s+root \{\n\s+cacert = root\.pem/);
    assert.match(conf, /revocation = strict/);
    // strongSwan itself verifies a leaf with exactly these files.
    const v = await runTool('pki', [
      '--verify', '--in', pki.client.cert,
      '--cacert', join(dir, 'x509ca/servers.pem'), '--cacert', join(dir, 'x509ca/root.pem'),
      '--crl', join(dir, 'x509crl/servers.crl'), '--crl', join(dir, 'x509crl/root.crl'),
    ]);
    assert.ok(v.ok && /certificate not revoked/.test(v.output), v.output);
  });
});
