import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCsr } from '../../../src/ca/csr/build-csr.js';
import { parseRfc4514 } from '../../../src/ca/x509/parse-dn.js';
import { pemEncode } from '../../../src/ca/chain.js';
import { CardcaError } from '../../../src/common/cardca-error.js';
import type { KeyAlgorithm, SignatureAlgorithm, Signer } from '../../../src/crypto/signer.js';
import { TestOnlySoftwareSigner } from '../../helpers/test-only-software-signer.js';
import { openssl, tempDir } from './ca-test-kit.js';

const dir = tempDir('cardca-build-csr-');

test('RFC 4514 DNs: string order reversed into RDN order, escapes, case-insensitive types', () => {
  assert.deepEqual(parseRfc4514('CN=alice,OU=VPN,O=Example,C=DE'), [
    { type: 'C', value: 'DE' },
    { type: 'O', value: 'Example' },
    { type: 'OU', value: 'VPN' },
    { type: 'CN', value: 'alice' },
  ]);
  assert.deepEqual(parseRfc4514('cn=Müller\\, Hans ; o = A\\+B'), [
    { type: 'O', value: 'A+B' },
    { type: 'CN', value: 'Müller, Hans' },
  ]);
  assert.deepEqual(parseRfc4514('CN=J\\C3\\BCrgen,emailaddress=j@example.test'), [
    { type: 'emailAddress', value: 'j@example.test' },
    { type: 'CN', value: 'Jürgen' },
  ]);
  assert.deepEqual(parseRfc4514(''), []);
  for (const bad of ['CN', 'CN=a,', 'XX=a', 'CN=a+O=b', 'CN=#0403', 'CN=', 'CN=a"b', 'CN=a\\', 'CN=\\zz']) {
    assert.throws(() => parseRfc4514(bad), (e: unknown) => e instanceof CardcaError && e.code === 'USAGE_BAD_DN', bad);
  }
});

const cases: [KeyAlgorithm, SignatureAlgorithm][] = [
  ['rsa2048', 'rsa-pkcs1-sha256'],
  ['rsa2048', 'rsa-pss-sha256'],
  ['p256', 'ecdsa-sha256'],
  ['p384', 'ecdsa-sha384'],
];
for (const [key, alg] of cases) {
  test(`buildCsr ${key} ${alg}: own parser and openssl req -verify accept it, subject and SANs as asked`, async () => {
    const signer = TestOnlySoftwareSigner.generate(key);
    const { der, parsed } = await buildCsr(signer, {
      subject: parseRfc4514('CN=alice,O=Example'),
      sans: [{ type: 'email', value: 'alice@example.test' }, { type: 'dns', value: 'alice.example.test' }],
      signatureAlgorithm: alg,
    });
    assert.equal(parsed.signatureAlgorithm, alg);
    assert.deepEqual(parsed.subject, [{ type: 'O', value: 'Example' }, { type: 'CN', value: 'alice' }]);
    assert.deepEqual(parsed.sans, [{ type: 'email', value: 'alice@example.test' }, { type: 'dns', value: 'alice.example.test' }]);
    assert.deepEqual(parsed.spki, signer.publicKey());
    const f = join(dir, `${key}-${alg}.csr`);
    writeFileSync(f, pemEncode(der, 'CERTIFICATE REQUEST'));
    const r = await openssl(['req', '-in', f, '-verify', '-noout', '-subject', '-nameopt', 'RFC2253']);
    assert.ok(r.ok, r.output);
    assert.match(r.output, /verify OK/i);
    assert.match(r.output, /subject=CN=alice,O=Example/);
  });
}

test('buildCsr without SANs still parses (empty attributes) and verifies with openssl', async () => {
  const signer = TestOnlySoftwareSigner.generate('p256');
  const { der, parsed } = await buildCsr(signer, { subject: parseRfc4514('CN=bob') });
  assert.deepEqual(parsed.sans, []);
  const f = join(dir, 'nosan.csr');
  writeFileSync(f, pemEncode(der, 'CERTIFICATE REQUEST'));
  const r = await openssl(['req', '-in', f, '-verify', '-noout']);
  assert.ok(r.ok, r.output);
});

test('buildCsr refuses an algorithm the key cannot make, and a signer whose signature does not verify', async () => {
  const ec = TestOnlySoftwareSigner.generate('p256');
  await assert.rejects(buildCsr(ec, { subject: [], signatureAlgorithm: 'rsa-pss-sha256' }), (e: unknown) => e instanceof CardcaError && e.code === 'CSR_ALGORITHM_UNSUPPORTED');
  const other = TestOnlySoftwareSigner.generate('p256');
  const liar: Signer = { algorithms: () => ec.algorithms(), publicKey: () => ec.publicKey(), sign: (tbs, alg) => other.sign(tbs, alg) };
  await assert.rejects(buildCsr(liar, { subject: parseRfc4514('CN=x') }), (e: unknown) => e instanceof CardcaError && e.code === 'CSR_BAD_SIGNATURE');
});
