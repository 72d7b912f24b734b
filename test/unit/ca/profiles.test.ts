import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadProfiles, ProfileError } from '../../../src/ca/index.js';
import { PROFILES_DIR, tempDir } from './ca-test-kit.js';

test('the example profiles load: hierarchy, kinds, values', () => {
  const set = loadProfiles(PROFILES_DIR);
  assert.deepEqual(set.cas.map((c) => [c.name, c.parent ?? null]), [['root', null], ['servers', 'root'], ['clients', 'root'], ['users', 'root']]);
  assert.deepEqual([...set.profiles.keys()].sort(), ['clients', 'email', 'root', 'servers', 'tls-client', 'tls-server', 'users', 'vpn-client', 'vpn-server']);
  const root = set.caProfile('root');
  assert.equal(root.key, 'p384');
  assert.equal(root.validity.iso, 'P20Y');
  assert.equal(root.crl.validity.duration.as('days'), 180);
  assert.equal(root.pathLen, 1);
  const tls = set.leafProfile('tls-server');
  assert.deepEqual(tls.extendedKeyUsage?.values, ['1.3.6.1.5.5.7.3.1']);
  assert.equal(tls.san.required, true);
  assert.deepEqual(set.caProfile('servers').nameConstraints?.permitted?.dns, ['example.test', '.example.test']);
  assert.throws(() => set.leafProfile('root'), (e: unknown) => e instanceof ProfileError && e.code === 'PROFILE_NOT_FOUND');
  assert.throws(() => set.ca('nope'), (e: unknown) => e instanceof ProfileError && e.code === 'PROFILE_NOT_FOUND');
});

/** Copy the example profiles, apply `edit` to one file, return the load error message. */
function errorFor(file: string, edit: (text: string) => string): ProfileError {
  const dir = tempDir('cardca-prof-');
  cpSync(PROFILES_DIR, dir, { recursive: true });
  const p = join(dir, file);
  const before = readFileSync(p, 'utf8');
  const after = edit(before);
  assert.notEqual(after, before, 'the edit must change the file');
  writeFileSync(p, after);
  try {
    loadProfiles(dir);
  } catch (e) {
    assert.ok(e instanceof ProfileError, String(e));
    assert.equal(e.code, 'PROFILE_INVALID');
    assert.equal(e.file, p);
    return e;
  }
  assert.fail('loadProfiles accepted the broken file');
}

test('golden profile error messages name file:line, field path and what is expected', () => {
  const golden: [string, (t: string) => string, string][] = [
    ['tls-server.yaml', (t) => t.replace('values: [digitalSignature, keyEncipherment]', 'values: [digitalSignature, keyEncypherment]'),
      'tls-server.yaml:8: keyUsage.values[1]: expected one of digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment, keyAgreement, keyCertSign, cRLSign, encipherOnly, decipherOnly, got "keyEncypherment"'],
    ['tls-server.yaml', (t) => t.replace('validity: P199D', 'validity: 199 days'),
      'tls-server.yaml:6: validity: expected a positive ISO 8601 duration such as P397D or P10Y, got "199 days"'],
    ['tls-client.yaml', (t) => t.replace('{ type: C, presence: fixed, value: DE }', '{ type: C, presence: fixed, value: "D_" }'),
      "tls-client.yaml:9: subject[0].value: expected a value a C attribute can hold (C is PrintableString only: use letters, digits, space and ' ( ) + , - . / : = ?), got \"D_\""],
    ['users.yaml', (t) => t.replace('email: [example.test, .example.test]', 'email: [jörg@example.test, .example.test]'),
      'users.yaml:16: nameConstraints.permitted.email[0]: expected an e-mail constraint: mailbox local@host, host, or .domain (ASCII, lower-case host), got "jörg@example.test"'],
    ['root.yaml', (t) => t.replace('key: p384', 'key: p999'),
      'root.yaml:4: key: expected one of rsa2048, rsa3072, rsa4096, p256, p384, got "p999"'],
    ['root.yaml', (t) => t.replace('signatureAlgorithm: ecdsa-sha384', 'signatureAlgorithm: rsa-pss-sha256'),
      'root.yaml:5: signatureAlgorithm: expected an algorithm usable with a p384 key, got "rsa-pss-sha256"'],
    ['servers.yaml', (t) => t.replace('dns: [example.test, .example.test]', 'dns: [example.test, .example.test]\n    ip: [10.0.0.0/33]'),
      'servers.yaml:19: nameConstraints.permitted.ip[0]: expected a CIDR range such as 10.0.0.0/8 or fd00::/8, got "10.0.0.0/33"'],
    ['vpn-client.yaml', (t) => t.replace('presence: optional', 'presence: maybe'),
      'vpn-client.yaml:11: subject[2].presence: expected one of fixed, required, optional, got "maybe"'],
    ['vpn-client.yaml', (t) => t.replace("pattern: '[a-z0-9]([a-z0-9._-]*[a-z0-9])?'", "pattern: '[a-z'"),
      'vpn-client.yaml:12: subject[3].pattern: expected a valid regular expression (Invalid regular expression: /^(?:[a-z)$/u: Unterminated character class), got "[a-z"'],
    ['email.yaml', (t) => t.replace('max: 3', 'max: 3\n  maxx: 4'),
      'email.yaml:17: san.maxx: expected one of the fields required, fromCsr, dns, ip, email, max (unknown field maxx)'],
    ['clients.yaml', (t) => t.replace('crl: { validity: P30D, overlap: P7D }', 'crl: { validity: P30D, overlap: P30D }'),
      'clients.yaml:16: crl.overlap: expected a period shorter than crl.validity (P30D), got "P30D"'],
    ['clients.yaml', (t) => t.replace('issues: [tls-client, vpn-client]', 'issues: [tls-client, vpn-klient]'),
      'clients.yaml:15: issues[1]: expected the name of a profile in ' + '<dir>' + ', got "vpn-klient"'],
    ['hierarchy.yaml', (t) => t.replace('parent: root\n  - name: clients', 'parent: rooot\n  - name: clients'),
      'hierarchy.yaml:8: cas[1].parent: expected the name of a CA listed earlier, got "rooot"'],
    ['users.yaml', (t) => t.replace('crlDistributionPoints: [http://', 'crlDistributionPoints: [https://'),
      'users.yaml:17: crlDistributionPoints[0]: expected an http:// URL, got "https://pki.example.test/crl/users.crl"'],
    ['tls-client.yaml', (t) => t.replace('values: [clientAuth]', 'values: [anyExtendedKeyUsage]'),
      'tls-client.yaml:7: extendedKeyUsage.values[0]: expected an EKU name (serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning, ipsecIKE) or a dotted OID, got "anyExtendedKeyUsage"'],
    ['tls-client.yaml', (t) => t.replace('values: [clientAuth]', 'values: [2.5.29.37.0]'),
      'tls-client.yaml:7: extendedKeyUsage.values[0]: expected a specific key purpose (anyExtendedKeyUsage is never issued), got "2.5.29.37.0"'],
    ['root.yaml', (t) => t.replace('kind: ca', 'kind: ca\nkind: leaf'),
      'root.yaml:3: YAML syntax error: Map keys must be unique'],
    ['servers.yaml', (t) => t.replace('keyUsage: { values: [digitalSignature, keyCertSign, cRLSign], critical: true }', 'keyUsage: { values: [digitalSignature, cRLSign], critical: true }'),
      'servers.yaml:11: keyUsage.values: expected keyCertSign and cRLSign in a CA profile (RFC 5280 §4.2.1.3)'],
    ['vpn-server.yaml', (t) => t.replace('values: [digitalSignature, keyEncipherment]', 'values: [digitalSignature, keyCertSign]'),
      'vpn-server.yaml:6: keyUsage.values: expected no keyCertSign/cRLSign in a leaf profile (RFC 5280 §4.2.1.3: only for CAs)'],
    ['tls-server.yaml', (t) => t.replace("- { type: O, presence: fixed, value: Example VPN }", "- { type: O, presence: fixed }"),
      'tls-server.yaml:12: subject[1].value: expected a non-empty string, got nothing'],
  ];
  for (const [file, edit, expected] of golden) {
    const e = errorFor(file, edit);
    assert.equal(e.message.replace(/in \/[^,]*\/cardca-prof-[^,]+/, 'in <dir>'), expected);
    assert.ok(e.line !== undefined && e.line > 0);
    assert.ok(e.hint && e.hint.length > 0);
  }
});
