/**
 * Issue 9 item 2: the pre-signing name-constraint check reads the CA certificates of the whole
 * chain (not the profiles) and applies RFC 5280 subtree semantics. The differential test against
 * openssl is name-constraints-differential.test.ts; these are the named regressions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { certificateContent, loadProfiles, PolicyError, type CaProfile } from '../../../src/ca/index.js';
import { commonNameLooksLikeDns } from '../../../src/ca/cert/name-constraints.js';
import { makeCa, PROFILES_DIR, testSerial } from './ca-test-kit.js';

const set = loadProfiles(PROFILES_DIR);
const now = new Date();
const none = { dns: [], ip: [], email: [] };

function withConstraints(p: CaProfile, nc: CaProfile['nameConstraints']): CaProfile {
  const { nameConstraints: _drop, ...rest } = p;
  void _drop;
  return nc ? { ...rest, nameConstraints: nc } : rest;
}

function leafFor(info: Parameters<typeof certificateContent>[0]['issuer'], dns: string, cn = dns) {
  const key = set.leafProfile('tls-server');
  const signerKey = (globalThis as { __leafSpki?: Uint8Array }).__leafSpki!;
  return () => certificateContent({ issuer: info, profile: key, spki: signerKey, subject: [{ type: 'CN', value: cn }], csrSans: [{ type: 'dns', value: dns }], serial: testSerial(), now });
}

function refusedCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PolicyError, String(e));
    return `${e.code}: ${e.message}`;
  }
  return 'accepted';
}

const root = await makeCa('root', set.caProfile('root'), undefined, now);
(globalThis as { __leafSpki?: Uint8Array }).__leafSpki = (await makeCa('k', set.caProfile('servers'), root, now)).signer.publicKey();

test('an excluded dNSName is a subtree: bad.example.test excluded refuses www.bad.example.test', async () => {
  const servers = await makeCa('servers', withConstraints(set.caProfile('servers'), {
    critical: true,
    permitted: { ...none, dns: ['example.test', '.example.test'] },
    excluded: { ...none, dns: ['bad.example.test'] },
  }), root, now);
  assert.match(refusedCode(leafFor(servers.info, 'www.bad.example.test')), /^POLICY_NAME_CONSTRAINTS: .*excluded subtree dns:bad.example.test/);
  assert.match(refusedCode(leafFor(servers.info, 'bad.example.test')), /^POLICY_NAME_CONSTRAINTS/);
  // Whole labels only: notbad.example.test is not below bad.example.test.
  assert.equal(refusedCode(leafFor(servers.info, 'notbad.example.test')), 'accepted');
});

test('constraints come from the issuer certificate, not from its (possibly edited) profile', async () => {
  const servers = await makeCa('servers', withConstraints(set.caProfile('servers'), { critical: true, permitted: { ...none, dns: ['.example.test'] } }), root, now);
  // The operator later removes nameConstraints from the profile: the certificate still has them.
  const edited = { ...servers.info, profile: withConstraints(servers.info.profile, undefined) };
  const tls = set.leafProfile('tls-server');
  const wide = { ...tls, san: { ...tls.san, dns: ['.example.test', '.other.test'] } };
  const r = refusedCode(() => certificateContent({ issuer: edited, profile: wide, spki: (globalThis as { __leafSpki?: Uint8Array }).__leafSpki!, subject: [{ type: 'CN', value: 'a.other.test' }], csrSans: [{ type: 'dns', value: 'a.other.test' }], serial: testSerial(), now }));
  assert.match(r, /^POLICY_NAME_CONSTRAINTS: dns name a.other.test \(SAN\) is outside the permitted subtrees of .*Servers CA/);
});

test("constraints of every certificate up to the root apply (the root's own, too)", async () => {
  const constrainedRoot = await makeCa('root', withConstraints(set.caProfile('root'), { critical: true, permitted: { ...none, dns: ['vpn.example.test', '.vpn.example.test'] } }), undefined, now);
  const servers = await makeCa('servers', withConstraints(set.caProfile('servers'), undefined), constrainedRoot, now);
  assert.equal(servers.info.chain.length, 2);
  assert.match(refusedCode(leafFor(servers.info, 'www.example.test')), /outside the permitted subtrees of .*Root CA/);
  assert.equal(refusedCode(leafFor(servers.info, 'gw.vpn.example.test')), 'accepted');
});

test('the CN is checked as a DNS name when it looks like one and no DNS SAN exists', () => {
  assert.equal(commonNameLooksLikeDns('www.example.test'), true);
  assert.equal(commonNameLooksLikeDns('my_host.example.test'), true);
  assert.equal(commonNameLooksLikeDns('printer'), false, 'one label is not taken for a DNS name');
  assert.equal(commonNameLooksLikeDns('Some Name'), false);
  assert.equal(commonNameLooksLikeDns('-a.example'), false);
  assert.equal(commonNameLooksLikeDns('a..example'), false);
});
