/**
 * End to end through the engine with the example profiles: root → 3 sub-CAs → every leaf
 * profile, CSRs made by `openssl req`, CRLs; then OpenSSL must accept all of it
 * (`x509 -text`, `verify -x509_strict -crl_check_all`, `crl -verify`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadProfiles, parseCsr, checkCsrKeyPolicy, pemEncode, orderChain, pemDecodeAll, fingerprint } from '../../../src/ca/index.js';
import { verifyWithAll, verifyCrl as verifyCrlWithTools, summarize } from '../../helpers/validators.js';
import { PROFILES_DIR, issue, makeCa, makeCrl, openssl, tempDir, testSerial, writePem, type TestCa } from './ca-test-kit.js';

async function opensslCsr(dir: string, name: string, keyArgs: string[], subj: string, san?: string): Promise<string> {
  const args = ['req', '-new', '-nodes', ...keyArgs, '-keyout', join(dir, `${name}.key`), '-subj', subj, '-out', join(dir, `${name}.csr`)];
  if (san) args.push('-addext', `subjectAltName=${san}`);
  const r = await openssl(args);
  assert.ok(r.ok, r.output);
  return readFileSync(join(dir, `${name}.csr`), 'utf8');
}

test('example hierarchy issues certificates and CRLs that OpenSSL (and GnuTLS, NSS, strongSwan) accept', async () => {
  const set = loadProfiles(PROFILES_DIR);
  const dir = tempDir();
  const cas = new Map<string, TestCa>();
  for (const node of set.cas) {
    cas.set(node.name, await makeCa(node.name, node.profile, node.parent ? cas.get(node.parent) : undefined));
  }
  const root = cas.get('root')!;
  const rootPem = writePem(dir, 'root.pem', root.cert, 'CERTIFICATE');

  const cases: { profile: string; ca: string; key: string[]; subj: string; san?: string; purpose: string }[] = [
    { profile: 'tls-server', ca: 'servers', key: ['-newkey', 'rsa:2048'], subj: '/CN=web1.example.test', san: 'DNS:web1.example.test,IP:10.1.2.3', purpose: 'sslserver' },
    { profile: 'vpn-server', ca: 'servers', key: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], subj: '/CN=gw1.vpn.example.test', san: 'DNS:gw1.vpn.example.test', purpose: 'sslserver' },
    { profile: 'tls-client', ca: 'clients', key: ['-newkey', 'rsa:3072'], subj: '/OU=Devices/CN=laptop-17', purpose: 'sslclient' },
    { profile: 'vpn-client', ca: 'clients', key: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], subj: '/CN=alice.phone', purpose: 'sslclient' },
    { profile: 'email', ca: 'users', key: ['-newkey', 'rsa:2048'], subj: '/CN=Alice Example', san: 'email:alice@example.test', purpose: 'smimesign' },
  ];
  const revoked: Record<string, { serial: Uint8Array }[]> = {};
  for (const c of cases) {
    const ca = cas.get(c.ca)!;
    const csr = parseCsr(await opensslCsr(dir, c.profile, c.key, c.subj, c.san));
    checkCsrKeyPolicy(csr);
    const serial = testSerial();
    const { cert } = await issue(
      { issuer: ca.info, profile: set.leafProfile(c.profile), spki: csr.spki, subject: csr.subject, csrSans: csr.sans, serial },
      ca.signer,
    );
    const leafPem = writePem(dir, `${c.profile}.pem`, cert, 'CERTIFICATE');
    const subPem = writePem(dir, `${c.ca}.pem`, ca.cert, 'CERTIFICATE');
    const text = await openssl(['x509', '-in', leafPem, '-noout', '-text']);
    assert.ok(text.ok, text.output);
    assert.doesNotMatch(text.output, /Basic Constraints: critical\s+CA:TRUE/);
    // CRLs for every level, so -crl_check_all has one per CA.
    const rootCrl = await makeCrl(root, 1n, []);
    const subCrl = await makeCrl(ca, 7n, []);
    const rootCrlPem = writePem(dir, 'root.crl.pem', rootCrl.crl, 'X509 CRL');
    const subCrlPem = writePem(dir, `${c.ca}.crl.pem`, subCrl.crl, 'X509 CRL');
    const v = await openssl(['verify', '-x509_strict', '-purpose', c.purpose, '-CAfile', rootPem, '-untrusted', subPem, '-crl_check_all', '-CRLfile', rootCrlPem, '-CRLfile', subCrlPem, leafPem]);
    assert.ok(v.ok, `${c.profile}: ${v.output}`);
    // The other file-based validators (GnuTLS, NSS, strongSwan) for the TLS purposes.
    if (c.purpose !== 'smimesign') {
      const all = await verifyWithAll({ leaf: leafPem, chain: [subPem], root: rootPem, crls: [rootCrlPem, subCrlPem], purpose: c.purpose === 'sslserver' ? 'server' : 'client' });
      assert.ok(Object.values(all).every((r) => r?.ok), `${c.profile}: ${summarize(all)}\n${Object.values(all).filter((r) => !r?.ok).map((r) => r?.output).join('\n')}`);
    }
    const crlTools = await verifyCrlWithTools({ crl: subCrlPem, issuer: subPem });
    assert.ok(crlTools.openssl.ok && crlTools.gnutls.ok, `${crlTools.openssl.output}\n${crlTools.gnutls.output}`);
    for (const [crlPem, caPem] of [[rootCrlPem, rootPem], [subCrlPem, subPem]] as const) {
      const cv = await openssl(['crl', '-in', crlPem, '-CAfile', caPem, '-verify', '-noout']);
      assert.ok(cv.ok && /verify OK/.test(cv.output), cv.output);
    }
    // Revoke it and check OpenSSL now refuses the leaf.
    const revCrl = await makeCrl(ca, 8n, [{ serial, revocationDate: new Date(), reason: 'keyCompromise' }]);
    const revPem = writePem(dir, `${c.ca}.rev.crl.pem`, revCrl.crl, 'X509 CRL');
    const rv = await openssl(['verify', '-x509_strict', '-purpose', c.purpose, '-CAfile', rootPem, '-untrusted', subPem, '-crl_check_all', '-CRLfile', rootCrlPem, '-CRLfile', revPem, leafPem]);
    assert.equal(rv.ok, false);
    assert.match(rv.output, /certificate revoked/);
    (revoked[c.ca] ??= []).push({ serial });

    // Chain helpers: order a shuffled chain and round-trip PEM.
    const ordered = orderChain([root.cert, cert, ca.cert]);
    assert.deepEqual(ordered.map((d) => fingerprint(d)), [cert, ca.cert, root.cert].map((d) => fingerprint(d)));
    const bundle = ordered.map((d) => pemEncode(d, 'CERTIFICATE')).join('');
    assert.deepEqual(pemDecodeAll(bundle, 'CERTIFICATE').map((d) => fingerprint(d)), ordered.map((d) => fingerprint(d)));
  }
  // The root CRL revoking a sub-CA makes OpenSSL refuse that sub-CA's leaves.
  const servers = cas.get('servers')!;
  const serversSerial = (await import('node:crypto')).X509Certificate;
  const sc = new serversSerial(Buffer.from(servers.cert));
  const rootRev = await makeCrl(root, 2n, [{ serial: Uint8Array.from(Buffer.from(sc.serialNumber, 'hex')), revocationDate: new Date(), reason: 'cACompromise' }]);
  const rootRevPem = writePem(dir, 'root.rev.crl.pem', rootRev.crl, 'X509 CRL');
  const subCrlPem = writePem(dir, 'servers.fresh.crl.pem', (await makeCrl(servers, 9n, [])).crl, 'X509 CRL');
  const v = await openssl(['verify', '-x509_strict', '-CAfile', join(dir, 'root.pem'), '-untrusted', join(dir, 'servers.pem'), '-crl_check_all', '-CRLfile', rootRevPem, '-CRLfile', subCrlPem, join(dir, 'tls-server.pem')]);
  assert.equal(v.ok, false);
  assert.match(v.output, /certificate revoked/);
  writeFileSync(join(dir, 'done'), 'ok');
});
