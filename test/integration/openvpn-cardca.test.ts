/**
 * The fifth independent validator on cardca's own output: a real OpenVPN TLS handshake on
 * loopback (test/helpers/validators.ts openvpnHandshake) with a cardca-issued server certificate
 * (vpn-server profile, servers sub-CA) and client certificates (vpn-client profile, clients
 * sub-CA), keys of both CAs and the root on emulated SmartCard-HSMs (vpcd ports 35969/35970).
 * Both sides run `--remote-cert-tls` (EKU serverAuth / clientAuth); the server runs
 * `--crl-verify` on the CRL file cardca exported (`ca export crl --all`: every CA's latest CRL;
 * `ca export chain` has no OpenVPN format).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCardcaPki, type CardcaPki, type IssuedLeaf } from '../helpers/cardca-pki.js';
import { openvpnHandshake, type OpenvpnHandshakeInput, type OpenvpnHandshakeResult } from '../helpers/validators.js';

const PORTS: [number, number] = [35969, 35970];

describe('OpenVPN handshake with cardca-issued certificates and CRLs', { timeout: 300_000 }, () => {
  let pki: CardcaPki;
  before(async () => {
    pki = await buildCardcaPki({
      ports: PORTS,
      subCas: ['servers', 'clients'],
      leafs: [
        { name: 'gw-p256', profile: 'vpn-server', keyType: 'ec-p256' },
        { name: 'gw-rsa3072', profile: 'vpn-server', keyType: 'rsa-3072' },
        { name: 'laptop-rsa2048', profile: 'vpn-client', keyType: 'rsa-2048' },
        { name: 'laptop-p384', profile: 'vpn-client', keyType: 'ec-p384' },
        { name: 'stolen-laptop', profile: 'vpn-client', keyType: 'ec-p256', revoke: true },
      ],
    });
  });
  after(async () => {
    await pki?.close();
  });

  const hs = (server: IssuedLeaf, client: IssuedLeaf): OpenvpnHandshakeInput => ({
    serverCert: server.cert,
    serverKeyFile: server.key,
    clientCert: client.cert,
    clientKeyFile: client.key,
    caFile: pki.caBundle,
    crlFile: pki.crlBundle,
    // Only the server checks CRLs, so every refusal below is the server refusing the client.
    clientCrlFile: null,
    serverName: server.cn,
  });
  const both = (r: OpenvpnHandshakeResult): string => `--- server ---\n${r.server.output}\n--- client ---\n${r.client.output}`;

  test('valid clients connect (RSA-2048 and P-384 clients; P-256 and RSA-3072 servers)', async (t) => {
    t.diagnostic(`PKI build phases (ms): ${JSON.stringify(pki.timings)}`);
    const cases: [string, string][] = [
      ['gw-p256', 'laptop-rsa2048'],
      ['gw-rsa3072', 'laptop-p384'],
    ];
    const results = await Promise.all(cases.map(([s, c]) => openvpnHandshake(hs(pki.leaf(s), pki.leaf(c)))));
    cases.forEach(([s, c], i) => {
      const r = results[i]!;
      t.diagnostic(`${s} ↔ ${c}: ${r.ok ? 'connected' : `refused (${r.reason})`}`);
      assert.equal(r.ok, true, both(r));
      assert.ok(r.server.initialized && r.client.initialized, both(r));
      // No "VERIFY WARNING": every chain level's CRL was in the exported file.
      assert.deepEqual(r.verifyWarnings, [], both(r));
    });
  });

  test('revoked client is refused by the server (certificate revoked)', async () => {
    const r = await openvpnHandshake(hs(pki.leaf('gw-p256'), pki.leaf('stolen-laptop')));
    assert.equal(r.ok, false, both(r));
    assert.equal(r.server.initialized, false, both(r));
    assert.equal(r.reason, 'revoked', both(r));
    assert.ok(r.verifyErrors.some((l) => /certificate revoked.*CN=stolen-laptop/.test(l)), r.verifyErrors.join('\n'));
  });

  test("past the clients CRL's nextUpdate (faketime) the server refuses a valid client (CRL has expired)", async () => {
    const at = new Date(pki.ca('clients').crlNextUpdate.getTime() + 3600_000);
    const r = await openvpnHandshake({ ...hs(pki.leaf('gw-p256'), pki.leaf('laptop-rsa2048')), faketime: at });
    assert.equal(r.ok, false, both(r));
    assert.equal(r.server.initialized, false, both(r));
    assert.equal(r.reason, 'crl-expired', both(r));
    assert.ok(r.verifyErrors.some((l) => /CRL has expired.*CN=laptop-rsa2048/.test(l)), r.verifyErrors.join('\n'));
  });

  test('just before that nextUpdate (faketime) the same client still connects', async () => {
    const at = new Date(pki.ca('clients').crlNextUpdate.getTime() - 3600_000);
    const r = await openvpnHandshake({ ...hs(pki.leaf('gw-p256'), pki.leaf('laptop-rsa2048')), faketime: at });
    assert.equal(r.ok, true, both(r));
  });

  test('a vpn-client certificate presented as the server is refused by --remote-cert-tls server', async () => {
    const client = pki.leaf('laptop-p384');
    const r = await openvpnHandshake({ ...hs(client, pki.leaf('laptop-rsa2048')), serverName: client.cn });
    assert.equal(r.ok, false, both(r));
    assert.equal(r.reason, 'purpose', both(r));
  });
});
