/**
 * cardca's own output, checked by independent validators (ca-invariants.md §2.3, issue 5 item 5):
 * a PKI built through the real CLI with keys on two emulated SmartCard-HSMs (vpcd readers
 * "Virtual PCD 4 00 00"/"4 00 01", ports 35969/35970), every leaf profile of profiles/ × RSA-2048,
 * RSA-3072, P-256, P-384, checked with `openssl verify -x509_strict -crl_check_all`, GnuTLS
 * certtool, NSS vfychain + certutil, and strongSwan pki against the exported chains and CRLs.
 * OpenVPN, the fifth validator, is test/integration/openvpn-cardca.test.ts.
 *
 * Negative cases are asserted only for the validators that check the property (measured in
 * validators-harness.test.ts): revocation by all four; CRL past nextUpdate by OpenSSL and
 * strongSwan (GnuTLS does not check CRL dates, gnutls#1003; NSS 3.87 libpkix with the harness
 * flags does not either); wrong purpose by OpenSSL, GnuTLS and NSS (`pki --verify` has no
 * purpose check).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { pemDecodeAll } from '../../src/ca/export/pem.js';
import {
  buildCardcaPki,
  type CardcaPki,
  type CaName,
  type IssuedLeaf,
  LEAF_PROFILES,
  type LeafProfile,
  type LeafSpec,
  MATRIX_KEY_TYPES,
} from '../helpers/cardca-pki.js';
import {
  type ChainCheckInput,
  type ChainValidatorName,
  type Purpose,
  runTool,
  summarize,
  verifyCrl,
  verifyWithAll,
} from '../helpers/validators.js';

const PORTS: [number, number] = [35969, 35970];
const ALL: ChainValidatorName[] = ['openssl', 'gnutls', 'nss', 'strongswan'];
/** What each profile's leaf is checked as (its EKU: serverAuth / clientAuth / emailProtection). */
const PURPOSE: Record<LeafProfile, Purpose> = {
  'tls-server': 'server',
  'vpn-server': 'server',
  'tls-client': 'client',
  'vpn-client': 'client',
  email: 'email',
};

const matrixName = (profile: LeafProfile, keyType: string): string => `${profile}-${keyType}`;
const REVOKED: LeafSpec[] = [
  { name: 'revoked-tls-server', profile: 'tls-server', keyType: 'ec-p256', revoke: true },
  { name: 'revoked-vpn-client', profile: 'vpn-client', keyType: 'rsa-2048', revoke: true },
  { name: 'revoked-email', profile: 'email', keyType: 'ec-p384', revoke: true },
];
const LEAFS: LeafSpec[] = [
  ...LEAF_PROFILES.flatMap((profile) => MATRIX_KEY_TYPES.map((keyType) => ({ name: matrixName(profile, keyType), profile, keyType }))),
  // users also issues tls-client (profiles/users.yaml): one from the RSA sub-CA too.
  { name: 'users-tls-client', profile: 'tls-client', keyType: 'ec-p256', issuer: 'users' },
  ...REVOKED,
];

describe('cardca output accepted and refused by independent validators', { timeout: 600_000 }, () => {
  let pki: CardcaPki;
  before(async () => {
    pki = await buildCardcaPki({ ports: PORTS, leafs: LEAFS });
  });
  after(async () => {
    await pki?.close();
  });

  /**
   * Leaf + its sub-CA (from `ca export chain`) + root; the sub-CA's and the root's CRL (`ca export
   * crl --issuer`). Only the chain's CRLs: NSS refuses to import a CRL whose issuer it does not know.
   */
  const input = (l: IssuedLeaf, purpose: Purpose = PURPOSE[l.profile]): ChainCheckInput => ({
    leaf: l.cert,
    chain: [pki.ca(l.issuer).cert],
    root: pki.ca('root').cert,
    crls: [pki.ca(l.issuer).crl, pki.ca('root').crl],
    purpose,
    ...(l.dnsName && purpose === 'server' ? { hostname: l.dnsName } : {}),
  });

  test('build: the exported chains and CRL bundle hold what the CA issued', async (t) => {
    t.diagnostic(`PKI build phases (ms): ${JSON.stringify(pki.timings)}`);
    const rootDer = (await readCerts(pki.ca('root').cert))[0]!;
    for (const ca of ['servers', 'clients', 'users'] as const) {
      const chain = await readCerts(pki.ca(ca).chain);
      assert.equal(chain.length, 2, `${ca} chain: CA then root`);
      assert.deepEqual(chain[1], rootDer, `${ca} chain ends in the root`);
    }
    const crls = pemDecodeAll(await readFile(pki.crlBundle, 'utf8')).filter((b) => b.label === 'X509 CRL');
    assert.equal(crls.length, 4, 'one CRL per CA');
    assert.equal(pki.leafs.size, LEAFS.length);
  });

  for (const profile of LEAF_PROFILES) {
    test(`${profile}: RSA-2048, RSA-3072, P-256, P-384 leafs accepted by OpenSSL, GnuTLS, NSS and strongSwan`, async (t) => {
      const leafs = MATRIX_KEY_TYPES.map((k) => pki.leaf(matrixName(profile, k)));
      const results = await Promise.all(leafs.map((l) => verifyWithAll(input(l))));
      const failures: string[] = [];
      leafs.forEach((l, i) => {
        const r = results[i]!;
        t.diagnostic(`${profile} ${l.keyType} (from ${l.issuer}, purpose ${PURPOSE[profile]}): ${summarize(r)}`);
        for (const v of ALL) if (r[v]?.ok !== true) failures.push(`${l.name} refused by ${v}:\n${r[v]?.output}`);
      });
      assert.deepEqual(failures, [], failures.join('\n\n'));
    });
  }

  test('tls-client issued by the users sub-CA (RSA-3072 CA, e-mail name constraints) is accepted', async () => {
    const r = await verifyWithAll(input(pki.leaf('users-tls-client')));
    for (const v of ALL) assert.equal(r[v]?.ok, true, `${summarize(r)}\n${r[v]?.output}`);
  });

  test('sub-CA and root certificates verify on their own (purpose ca, root CRL)', async () => {
    const root = pki.ca('root');
    const checks = await Promise.all(
      (['servers', 'clients', 'users', 'root'] as CaName[]).map((ca) =>
        verifyWithAll({ leaf: pki.ca(ca).cert, chain: [], root: root.cert, crls: [root.crl], purpose: 'ca' }),
      ),
    );
    for (const r of checks) for (const v of ALL) assert.equal(r[v]?.ok, true, `${summarize(r)}\n${r[v]?.output}`);
  });

  test('revoked leafs (one per sub-CA) are refused as revoked by all four validators', async (t) => {
    const leafs = REVOKED.map((s) => pki.leaf(s.name));
    const results = await Promise.all(leafs.map((l) => verifyWithAll(input(l))));
    leafs.forEach((l, i) => {
      const r = results[i]!;
      t.diagnostic(`${l.name} (${l.issuer}): ${summarize(r)}`);
      for (const v of ALL) {
        assert.equal(r[v]?.ok, false, `revoked ${l.name} accepted by ${v}:\n${r[v]?.output}`);
        assert.equal(r[v]?.reason, 'revoked', `${l.name}, ${v}:\n${r[v]?.output}`);
      }
    });
  });

  test('CRL past nextUpdate: OpenSSL (-attime) and strongSwan (faketime) refuse; just before it they accept', async (t) => {
    // GnuTLS and NSS are not asserted: neither checks CRL thisUpdate/nextUpdate (see header).
    const leafs = [pki.leaf('tls-server-ec-p256'), pki.leaf('vpn-client-rsa-3072'), pki.leaf('email-rsa-2048')];
    const which: ChainValidatorName[] = ['openssl', 'strongswan'];
    const [lapsed, fresh] = await Promise.all([
      Promise.all(leafs.map((l) => verifyWithAll({ ...input(l), attime: new Date(pki.ca(l.issuer).crlNextUpdate.getTime() + 3600_000) }, which))),
      Promise.all(leafs.map((l) => verifyWithAll({ ...input(l), attime: new Date(pki.ca(l.issuer).crlNextUpdate.getTime() - 3600_000) }, which))),
    ]);
    leafs.forEach((l, i) => {
      t.diagnostic(`${l.name}: after nextUpdate ${summarize(lapsed[i]!)}; before ${summarize(fresh[i]!)}`);
      for (const v of which) {
        assert.equal(fresh[i]![v]?.ok, true, `${l.name} before nextUpdate, ${v}:\n${fresh[i]![v]?.output}`);
        assert.equal(lapsed[i]![v]?.ok, false, `${l.name} after nextUpdate accepted by ${v}:\n${lapsed[i]![v]?.output}`);
        assert.equal(lapsed[i]![v]?.reason, 'crl-expired', `${l.name}, ${v}:\n${lapsed[i]![v]?.output}`);
      }
    });
  });

  test('wrong purpose (EKU forbids it) is refused by OpenSSL, GnuTLS and NSS', async (t) => {
    // strongSwan's `pki --verify` has no purpose option: not asserted.
    const cases: [string, Purpose][] = [
      ['tls-server-ec-p256', 'client'],
      ['vpn-server-rsa-2048', 'client'],
      ['tls-client-ec-p384', 'server'],
      ['vpn-client-rsa-3072', 'server'],
      ['email-ec-p256', 'server'],
      ['tls-server-rsa-3072', 'email'],
    ];
    const which: ChainValidatorName[] = ['openssl', 'gnutls', 'nss'];
    const results = await Promise.all(cases.map(([n, p]) => verifyWithAll(input(pki.leaf(n), p), which)));
    cases.forEach(([n, p], i) => {
      const r = results[i]!;
      t.diagnostic(`${n} as ${p}: ${summarize(r)}`);
      for (const v of which) {
        assert.equal(r[v]?.ok, false, `${n} accepted as ${p} by ${v}:\n${r[v]?.output}`);
        assert.equal(r[v]?.reason, 'purpose', `${n} as ${p}, ${v}:\n${r[v]?.output}`);
      }
    });
  });

  test("every CRL verifies with its issuer's certificate (OpenSSL, GnuTLS) and not with another CA's", async () => {
    const pairs: [CaName, CaName][] = [['root', 'servers'], ['servers', 'root'], ['clients', 'servers'], ['users', 'clients']];
    const results = await Promise.all(
      pairs.map(async ([ca, wrong]) => ({
        ca,
        wrong,
        good: await verifyCrl({ crl: pki.ca(ca).crl, issuer: pki.ca(ca).cert }),
        bad: await verifyCrl({ crl: pki.ca(ca).crl, issuer: pki.ca(wrong).cert }),
      })),
    );
    for (const { ca, wrong, good, bad } of results) {
      assert.equal(good.openssl.ok, true, `${ca} CRL, openssl:\n${good.openssl.output}`);
      assert.equal(good.gnutls.ok, true, `${ca} CRL, gnutls:\n${good.gnutls.output}`);
      assert.equal(bad.openssl.ok, false, `${ca} CRL accepted with ${wrong}'s certificate by openssl`);
      assert.equal(bad.gnutls.ok, false, `${ca} CRL accepted with ${wrong}'s certificate by gnutls`);
    }
  });

  test('each sub-CA CRL lists exactly its revoked leaf, reason keyCompromise', async () => {
    for (const spec of REVOKED) {
      const l = pki.leaf(spec.name);
      const r = await runTool('openssl', ['crl', '-in', pki.ca(l.issuer).crl, '-noout', '-text']);
      assert.ok(r.ok, r.output);
      const serials = [...r.output.matchAll(/Serial Number: ([0-9A-F]+)/g)].map((m) => m[1]!.replace(/^0+/, ''));
      assert.deepEqual(serials, [l.serialHex.replace(/^0+/, '')], r.output);
      assert.match(r.output, /CRL Reason Code:\s*\n\s*Key Compromise/, r.output);
    }
  });

  test('ca verify (pkijs, in-process) agrees with openssl verify -crl_check_all on every certificate issued', async (t) => {
    // Every leaf (valid and revoked) and every CA certificate, judged in one `ca verify` run.
    const targets: { file: string; chain: string[]; label: string }[] = [
      ...[...pki.leafs.values()].map((l) => ({ file: l.cert, chain: [pki.ca(l.issuer).cert], label: l.name })),
      ...(['servers', 'clients', 'users', 'root'] as CaName[]).map((ca) => ({ file: pki.ca(ca).cert, chain: [], label: `${ca} CA` })),
    ];
    const r = await pki.cli('verify', ...targets.map((x) => x.file));
    const verdicts = new Map([...r.stdout.matchAll(/^(.+?): (OK|FAILED)(.*)$/gm)].map((m) => [m[1]!, { ok: m[2] === 'OK', why: m[3]! }]));
    const root = pki.ca('root').cert;
    const disagreements: string[] = [];
    let refused = 0;
    await Promise.all(targets.map(async (x) => {
      const o = await runTool('openssl', ['verify', '-crl_check_all', '-CAfile', root, ...x.chain.flatMap((c) => ['-untrusted', c]), '-CRLfile', pki.crlBundle, x.file]);
      const v = verdicts.get(x.file);
      if (!v) disagreements.push(`${x.label}: no verdict from ca verify\n${r.stdout}\n${r.stderr}`);
      else if (v.ok !== o.ok) disagreements.push(`${x.label}: ca verify ${v.ok ? 'OK' : `FAILED${v.why}`}, openssl ${o.ok ? 'OK' : o.output}`);
      if (v && !v.ok) refused++;
    }));
    t.diagnostic(`${targets.length} certificates, ${refused} refused by both`);
    assert.deepEqual(disagreements, [], disagreements.join('\n'));
    // The revoked leafs are the refusals, for the reason that they are revoked; the exit code says so.
    assert.equal(refused, REVOKED.length);
    for (const spec of REVOKED) assert.match(verdicts.get(pki.leaf(spec.name).cert)!.why, /revoked/, spec.name);
    assert.notEqual(r.code, 0);
    const valid = await pki.cli('verify', pki.leaf('tls-server-ec-p256').cert, pki.ca('servers').cert);
    assert.equal(valid.code, 0, valid.stdout + valid.stderr);
    // After the sub-CA CRL's nextUpdate, the same leaf fails (as with openssl -attime).
    const later = new Date(pki.ca('servers').crlNextUpdate.getTime() + 3600_000).toISOString();
    const lapsed = await pki.cli('verify', pki.leaf('tls-server-ec-p256').cert, '--at', later);
    assert.notEqual(lapsed.code, 0, lapsed.stdout);
  });

  test('ca show SERIAL --text prints a leaf and a sub-CA certificate exactly as openssl x509 -text does', async () => {
    for (const file of [pki.leaf('vpn-server-rsa-2048').cert, pki.ca('servers').cert, pki.ca('users').cert]) {
      const serial = (await runTool('openssl', ['x509', '-in', file, '-noout', '-serial'])).output.trim().replace(/^serial=/, '');
      const shown = await pki.cli('show', serial, '--text');
      assert.equal(shown.code, 0, shown.stderr);
      const o = await runTool('openssl', ['x509', '-in', file, '-noout', '-text', '-nameopt', 'utf8,sep_comma_plus_space,space_eq']);
      assert.equal(shown.stdout.replace(/ +\n/g, '\n'), o.output.replace(/ +\n/g, '\n'), file);
    }
  });
});

async function readCerts(file: string): Promise<Uint8Array[]> {
  return pemDecodeAll(await readFile(file, 'utf8'))
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => b.der);
}
