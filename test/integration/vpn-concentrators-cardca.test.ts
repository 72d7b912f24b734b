/**
 * Issue 16 items 1 and 2 on one cardca PKI: keys of the root and of the servers / clients
 * sub-CAs live on two emulated SmartCard-HSMs (vpcd ports 35969/35970); leaf keys are openssl
 * software keys.
 *
 * 1. A real strongSwan IKEv2 handshake with cardca's own chain, CRLs and certificates.
 *
 * Two charon daemons run in two network namespaces joined by a veth pair
 * (test/helpers/ike-lab.ts). The responder's swanctl directory is filled from
 * `ca export chain --issuer servers --format strongswan` and
 * `ca export chain --issuer clients --format strongswan` plus its own certificate (vpn-server
 * profile) and key; its connection trusts only the clients CA (`remote.cacerts`) and checks
 * revocation strictly (`revocation = strict`, swanctl.conf(5)). The initiator uses a clients
 * certificate (vpn-client profile) and verifies the gateway's SAN dNSName as its IKE identity.
 *
 * Must show: valid client in, revoked client out, lapsed CRL out (the responder restarted
 * under faketime past the clients CRL's nextUpdate).
 *
 * 2. Every appliance preset (`--format fortigate|cisco-asa|mikrotik|pfsense|paloalto`): its files
 *    parse with openssl in the encoding the preset promises, openssl verifies a client against
 *    exactly those files (and refuses the revoked one), and the README names the vendor page.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { APPLIANCE_FORMATS, APPLIANCE_PRESETS } from '../../src/ca/export/index.js';
import { buildCardcaPki, type CardcaPki, type IssuedLeaf } from '../helpers/cardca-pki.js';
import { BIN, runCommand } from '../helpers/run-command.js';
import { pickPorts, runTool } from '../helpers/validators.js';
import { INITIATOR_ADDR, RESPONDER_ADDR, startIkeLab, type CharonDaemon, type IkeLab } from '../helpers/ike-lab.js';
import { lockRigPorts } from '../helpers/tty.js';

const PORTS: [number, number] = [35969, 35970];
const isRoot = process.getuid?.() === 0;

/** Copies every file of the export's sub-directories into the daemon's swanctl directory. */
async function installExport(exportDir: string, daemon: CharonDaemon): Promise<string[]> {
  const copied: string[] = [];
  for (const sub of ['x509ca', 'x509crl', 'conf.d']) {
    for (const f of await readdir(join(exportDir, sub)).catch(() => [] as string[])) {
      await copyFile(join(exportDir, sub, f), join(daemon.swanctlDir, sub, f));
      copied.push(`${sub}/${f}`);
    }
  }
  return copied;
}

async function installLeaf(daemon: CharonDaemon, leaf: IssuedLeaf): Promise<void> {
  await copyFile(leaf.cert, join(daemon.swanctlDir, 'x509', `${leaf.name}.pem`));
  await copyFile(leaf.key, join(daemon.swanctlDir, 'private', `${leaf.name}.key`));
}

let pki: CardcaPki;
let release: (() => void) | undefined;
before(async () => {
  release = await lockRigPorts(PORTS);
  pki = await buildCardcaPki({
      ports: PORTS,
      subCas: ['servers', 'clients'],
      leafs: [
        { name: 'gw', profile: 'vpn-server', keyType: 'ec-p256' },
        { name: 'rogue-gw', profile: 'vpn-server', keyType: 'ec-p256' },
        { name: 'laptop', profile: 'vpn-client', keyType: 'ec-p256' },
        { name: 'laptop-rsa', profile: 'vpn-client', keyType: 'rsa-2048' },
        { name: 'stolen-laptop', profile: 'vpn-client', keyType: 'ec-p256', revoke: true },
      ],
    });
});
after(async () => {
  await pki?.close();
  release?.();
});

describe('strongSwan IKEv2 between two charon daemons with cardca-issued chain, CRLs and certificates', { timeout: 400_000, skip: isRoot ? false : 'needs root (network namespaces)' }, () => {
  let lab: IkeLab | undefined;
  let exports: { servers: string; clients: string };

  before(async () => {
    exports = { servers: join(pki.dir, 'swanctl-servers'), clients: join(pki.dir, 'swanctl-clients') };
    for (const [issuer, out] of Object.entries(exports)) {
      const r = await pki.cli('export', 'chain', '--issuer', issuer, '--format', 'strongswan', '--out', out);
      assert.equal(r.code, 0, r.stderr);
    }
    lab = await startIkeLab(join(pki.dir, 'ike'));
    await configure();
  });
  after(async () => {
    await lab?.close();
  });

  /** Fills both swanctl directories (exports, own certificate and key, connection) and loads them. */
  async function configure(): Promise<void> {
    const { responder, initiator } = lab!;
    await installExport(exports.servers, responder);
    await installExport(exports.clients, responder);
    await installLeaf(responder, pki.leaf('gw'));
    await writeFile(
      join(responder.swanctlDir, 'swanctl.conf'),
      [
        'include conf.d/*.conf',
        'connections {',
        '    rw {',
        '        version = 2',
        `        local_addrs = ${RESPONDER_ADDR}`,
        `        local { auth = pubkey\n            certs = gw.pem\n            id = ${pki.leaf('gw').dnsName} }`,
        // Peers: only certificates chaining to the clients CA, revocation status must be known good.
        '        remote { auth = pubkey\n            cacerts = clients.pem\n            revocation = strict }',
        `        children { net { local_ts = ${RESPONDER_ADDR}/32\n            remote_ts = ${INITIATOR_ADDR}/32 } }`,
        '    }',
        '}',
        '',
      ].join('\n'),
    );
    // The initiator trusts the servers chain (to verify the gateway) and holds the client chain.
    await installExport(exports.servers, initiator);
    await installExport(exports.clients, initiator);
    for (const c of ['laptop', 'laptop-rsa', 'stolen-laptop', 'rogue-gw']) await installLeaf(initiator, pki.leaf(c));
    await load(responder);
  }

  async function load(d: CharonDaemon): Promise<string> {
    const r = await d.swanctl(['--load-all', '--file', join(d.swanctlDir, 'swanctl.conf')]);
    assert.ok(r.ok, `swanctl --load-all (${d.role}):\n${r.output}`);
    return r.output;
  }

  /** Points the initiator's only connection at one client certificate and initiates it. */
  async function connectAs(client: string): Promise<{ ok: boolean; initiator: string; responder: string; sas: string }> {
    const { responder, initiator } = lab!;
    await writeFile(
      join(initiator.swanctlDir, 'swanctl.conf'),
      [
        'connections {',
        '    home {',
        '        version = 2',
        `        remote_addrs = ${RESPONDER_ADDR}`,
        `        local { auth = pubkey\n            certs = ${client}.pem }`,
        `        remote { auth = pubkey\n            id = ${pki.leaf('gw').dnsName} }`,
        // IKE SA only (RFC 6023): the lab's kernel may lack XFRM, and the certificate
        // authentication under test happens in IKE_AUTH, before any CHILD_SA.
        '        childless = force',
        '    }',
        '}',
        '',
      ].join('\n'),
    );
    await load(initiator);
    const mark = (await responder.log()).length;
    const r = await initiator.swanctl(['--initiate', '--ike', 'home', '--timeout', '15'], 30_000);
    const responderLog = (await responder.log()).slice(mark);
    // What the responder holds: an ESTABLISHED IKE SA with the client's identity, or nothing.
    const sas = (await responder.swanctl(['--list-sas'])).output;
    if (r.ok) await initiator.swanctl(['--terminate', '--ike', 'home', '--timeout', '10'], 20_000);
    return { ok: r.ok, initiator: r.output, responder: `${responderLog}\n--- responder --list-sas ---\n${sas}`, sas };
  }
  const both = (r: { initiator: string; responder: string }): string => `--- initiator ---\n${r.initiator}\n--- responder ---\n${r.responder}`;

  test('the strongswan export loads as is: every CA certificate and both CRLs of each level', async () => {
    const out = await load(lab!.responder);
    for (const f of ['x509ca/servers.pem', 'x509ca/clients.pem', 'x509ca/root.pem', 'x509crl/servers.crl', 'x509crl/clients.crl', 'x509crl/root.crl']) {
      assert.match(out, new RegExp(`loaded (certificate|crl) from '[^']*/${f.replace('.', '\\.')}'`), out);
    }
    assert.doesNotMatch(out, /failed|error/i, out);
  });

  test('a valid clients certificate (P-256 and RSA-2048) establishes the IKE SA with certificate authentication', async () => {
    for (const c of ['laptop', 'laptop-rsa']) {
      const r = await connectAs(c);
      assert.equal(r.ok, true, both(r));
      assert.match(r.initiator, /IKE_SA home\[\d+\] established/, both(r));
      assert.match(r.sas, new RegExp(`rw: #\\d+, ESTABLISHED, IKEv2[\\s\\S]*remote 'C=DE, O=Example VPN, CN=${c}'`), both(r));
      assert.match(r.responder, new RegExp(`authentication of '[^']*CN=${c}' with (ECDSA|RSA)\\S* successful`), both(r));
      // The revocation check ran on the cardca CRL and found the certificate good.
      assert.match(r.responder, new RegExp(`certificate status is good`), both(r));
    }
  });

  test('a revoked client is refused (revocation = strict, cardca CRL)', async () => {
    const r = await connectAs('stolen-laptop');
    assert.equal(r.ok, false, both(r));
    assert.match(r.initiator, /AUTHENTICATION_FAILED/, both(r));
    assert.match(r.responder, /certificate was revoked/, both(r));
    assert.doesNotMatch(r.sas, /ESTABLISHED/, both(r));
  });

  test('a certificate of the servers CA is refused as a client: the responder trusts only the clients CA', async () => {
    const r = await connectAs('rogue-gw');
    assert.equal(r.ok, false, both(r));
    assert.match(r.initiator, /AUTHENTICATION_FAILED/, both(r));
    assert.match(r.responder, /constraint check failed: peer not authenticated by CA 'CN=[^']*'|no trusted issuer|unacceptable/, both(r));
  });

  test("past the clients CRL's nextUpdate (responder under faketime) a valid client is refused", async () => {
    const at = new Date(pki.ca('clients').crlNextUpdate.getTime() + 3600_000);
    await lab!.restart('responder', { faketime: at });
    await load(lab!.responder);
    const r = await connectAs('laptop');
    assert.equal(r.ok, false, both(r));
    assert.match(r.initiator, /AUTHENTICATION_FAILED/, both(r));
    assert.match(r.responder, /crl is stale|certificate status is not available/, both(r));
    assert.match(r.responder, /constraint check failed: RULE_CRL_VALIDATION/, both(r));
  });
});

describe('appliance presets from cardca: files parse with openssl and verify a client; README names the vendor page', { timeout: 200_000 }, () => {
  const pemOrDer = (bytes: Buffer): 'pem' | 'der' => (bytes.subarray(0, 11).toString('latin1') === '-----BEGIN ' ? 'pem' : 'der');

  for (const format of APPLIANCE_FORMATS) {
    test(format, async () => {
      const preset = APPLIANCE_PRESETS[format];
      const out = join(pki.dir, `appliance-${format}`);
      const r = await pki.cli('export', 'chain', '--issuer', 'clients', '--format', format, '--out', out);
      assert.equal(r.code, 0, r.stderr);
      const caFiles = ['clients', 'root'].map((n) => join(out, preset.caFile(n)));
      const crlFiles = ['clients', 'root'].map((n) => join(out, preset.crlFile(n)));
      for (const f of caFiles) {
        const enc = pemOrDer(await readFile(f));
        assert.equal(enc, preset.caEncoding, f);
        const x = await runTool('openssl', ['x509', '-inform', enc, '-in', f, '-noout', '-subject', '-fingerprint', '-sha256']);
        assert.ok(x.ok, x.output);
      }
      for (const f of crlFiles) {
        const enc = pemOrDer(await readFile(f));
        assert.equal(enc, preset.crlEncoding, f);
        const c = await runTool('openssl', ['crl', '-inform', enc, '-in', f, '-noout', '-crlnumber', '-nextupdate']);
        assert.ok(c.ok, c.output);
      }
      // The exported files are enough to check a client as the appliance would, both CRL levels included.
      const pemCrls: string[] = [];
      for (const [i, f] of crlFiles.entries()) {
        const p = join(out, `check-${i}.crl.pem`);
        assert.ok((await runTool('openssl', ['crl', '-inform', preset.crlEncoding, '-in', f, '-out', p])).ok);
        pemCrls.push(p);
      }
      const verify = (leaf: string): ReturnType<typeof runTool> =>
        runTool('openssl', ['verify', '-purpose', 'sslclient', '-crl_check_all', '-CAfile', caFiles[1]!, '-untrusted', caFiles[0]!, ...pemCrls.flatMap((c) => ['-CRLfile', c]), leaf]);
      const good = await verify(pki.leaf('laptop').cert);
      assert.ok(good.ok, good.output);
      const bad = await verify(pki.leaf('stolen-laptop').cert);
      assert.equal(bad.ok, false, bad.output);
      assert.match(bad.output, /certificate revoked/);

      const readme = await readFile(join(out, 'README.md'), 'utf8');
      for (const d of preset.docs) assert.ok(readme.includes(d.url), `README lacks ${d.url}`);
      for (const f of [...caFiles, ...crlFiles]) assert.ok(readme.includes(f.slice(out.length + 1)), `README does not name ${f}`);
      assert.match(readme, /What the device cannot do/);
      assert.match(readme, /earliest nextUpdate in this export\s+is\s+\*\*\d{4}-/);
    });
  }

  test('a lapsed CRL is refused with the command that fixes it (EXPORT_CRL_EXPIRED, exit 12), nothing written', async () => {
    const at = new Date(pki.ca('clients').crlNextUpdate.getTime() + 3600_000).toISOString();
    const out = join(pki.dir, 'appliance-lapsed');
    const r = await runCommand(process.execPath, [BIN, 'export', 'chain', '--issuer', 'clients', '--format', 'pfsense', '--out', out, '--home', pki.home], { env: { CA_FAKE_NOW: at } });
    assert.equal(r.code, 12, r.stderr);
    assert.match(r.stderr, /EXPORT_CRL_EXPIRED/);
    assert.match(r.stderr, /ca crl --issuer clients/);
    assert.equal((await readdir(out).catch(() => [])).length, 0);
  });
});

describe('OpenVPN client profile: ca export openvpn-client with the home tls-crypt key, in a real OpenVPN handshake', { timeout: 120_000 }, () => {
  let profileDir: string;
  let serverKey: string;

  test('tls-crypt-key create: OpenVPN static key V1, mode 0600; a second create is refused', async () => {
    const r = await pki.cli('openvpn', 'tls-crypt-key', 'create');
    assert.equal(r.code, 0, r.stderr);
    const keyPath = join(pki.home, 'openvpn', 'tls-crypt.key');
    assert.equal((await stat(keyPath)).mode & 0o777, 0o600);
    assert.match(await readFile(keyPath, 'utf8'), /-----BEGIN OpenVPN Static key V1-----\n([0-9a-f]{32}\n){16}-----END OpenVPN Static key V1-----/);
    const again = await pki.cli('openvpn', 'tls-crypt-key', 'create');
    assert.equal(again.code, 12, again.stderr);
    assert.match(again.stderr, /EXPORT_TLS_CRYPT_KEY_EXISTS/);
    serverKey = join(pki.dir, 'server-tls-crypt.key');
    const ex = await pki.cli('openvpn', 'tls-crypt-key', 'export', '--out', serverKey);
    assert.equal(ex.code, 0, ex.stderr);
    assert.equal(await readFile(serverKey, 'utf8'), await readFile(keyPath, 'utf8'));
  });

  test('--inline: one .ovpn with the server chain, the client certificate and sub-CA, verify-x509-name and tls-crypt; the key is named, not included', async () => {
    const [port] = await pickPorts();
    profileDir = join(pki.dir, 'ovpn');
    const laptop = pki.leaf('laptop');
    const r = await pki.cli('export', 'openvpn-client', '--serial', laptop.serialHex, '--remote', `127.0.0.1:${port}`, '--server-name', pki.leaf('gw').dnsName!, '--inline', '--out', join(profileDir, 'laptop.ovpn'));
    assert.equal(r.code, 0, r.stderr);
    const file = join(profileDir, 'laptop.ovpn');
    assert.equal((await stat(file)).mode & 0o777, 0o600, 'holds the tls-crypt key');
    const ovpn = await readFile(file, 'utf8');
    for (const line of ['client', `remote 127.0.0.1 ${port}`, 'remote-cert-tls server', `verify-x509-name ${pki.leaf('gw').dnsName} name`, 'key laptop.key']) {
      assert.match(ovpn, new RegExp(`^${line.replace(/\./g, '\\.')}$`, 'm'), `lacks "${line}"`);
    }
    assert.doesNotMatch(ovpn, /PRIVATE KEY/);
    const block = (tag: string): string => new RegExp(`<${tag}>\\n([\\s\\S]*?)</${tag}>`).exec(ovpn)?.[1] ?? '';
    const subjects = async (pem: string): Promise<string[]> => {
      const f = join(profileDir, 'probe.pem');
      await writeFile(f, pem);
      const o = await runTool('openssl', ['crl2pkcs7', '-nocrl', '-certfile', f]);
      const p = await runTool('sh', ['-c', `openssl crl2pkcs7 -nocrl -certfile '${f}' | openssl pkcs7 -print_certs -noout`]);
      assert.ok(o.ok && p.ok, o.output + p.output);
      return [...p.output.matchAll(/subject=(.*)/g)].map((m) => m[1]!.trim());
    };
    const ca = await subjects(block('ca'));
    assert.equal(ca.length, 2, ca.join('\n'));
    assert.match(ca[0]!, /Servers/i);
    assert.deepEqual(await subjects(block('cert')), [(await subjects(await readFile(laptop.cert, 'utf8')))[0]]);
    assert.equal((await subjects(block('extra-certs'))).length, 1);
    assert.equal(block('tls-crypt'), await readFile(join(pki.home, 'openvpn', 'tls-crypt.key'), 'utf8'));
    await copyFile(laptop.key, join(profileDir, 'laptop.key'));
  });

  test('the profile as written connects to an OpenVPN server using the exported tls-crypt key; a server with another key never hears it', async () => {
    const port = Number(/^remote 127\.0\.0\.1 (\d+)$/m.exec(await readFile(join(profileDir, 'laptop.ovpn'), 'utf8'))![1]);
    const gw = pki.leaf('gw');
    const otherKey = join(pki.dir, 'other-tls-crypt.key');
    assert.ok((await runTool('openvpn', ['--genkey', 'secret', otherKey])).ok);
    const run = async (tlsCryptKey: string): Promise<{ server: string; client: string; ok: boolean }> => {
      const server = spawn('openvpn', [
        '--tls-server', '--dev', 'null', '--dh', 'none', '--local', '127.0.0.1', '--lport', String(port), '--float',
        '--ca', pki.caBundle, '--cert', gw.cert, '--key', gw.key, '--remote-cert-tls', 'client', '--crl-verify', pki.crlBundle,
        '--tls-crypt', tlsCryptKey, '--verb', '3', '--hand-window', '10', '--ping-exit', '30',
      ], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      // The profile unchanged; only the tun device is replaced (no /dev/net/tun needed).
      const client = spawn('openvpn', ['--config', 'laptop.ovpn', '--dev', 'null', '--verb', '3', '--hand-window', '10', '--connect-retry-max', '1'], {
        cwd: profileDir, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
      });
      const out = { server: '', client: '' };
      server.stdout.on('data', (d: Buffer) => (out.server += d.toString()));
      server.stderr.on('data', (d: Buffer) => (out.server += d.toString()));
      client.stdout.on('data', (d: Buffer) => (out.client += d.toString()));
      client.stderr.on('data', (d: Buffer) => (out.client += d.toString()));
      const done = (): boolean => /Peer Connection Initiated/.test(out.server) && /Peer Connection Initiated/.test(out.client);
      const deadline = Date.now() + 15_000;
      while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      for (const p of [client, server]) {
        try {
          process.kill(-p.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      return { ...out, ok: done() };
    };
    const good = await run(serverKey);
    assert.equal(good.ok, true, `--- server ---\n${good.server}\n--- client ---\n${good.client}`);
    assert.match(good.server, /VERIFY OK: depth=0, [^\n]*CN=laptop/);
    const bad = await run(otherKey);
    assert.equal(bad.ok, false);
    assert.match(bad.server, /tls-crypt unwrap error|packet authentication failed|TLS Error/, bad.server);
  });
});
