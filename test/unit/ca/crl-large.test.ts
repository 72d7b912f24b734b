/**
 * Issue #14 item 3: a CRL past the size where @peculiar/asn1-schema's parser stops (asn1js 4
 * refuses more than 10,000 nodes: ≈ 2,000 entries) must still pass the post-signature checks.
 * Before the fix, `verifyCrl` turned such a valid signed CRL into CA_ISSUED_MALFORMED, and the CRL
 * cycle burnt its number as outcome_unknown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lintCrl, loadProfiles, verifyCrl, type CrlEntryInput } from '../../../src/ca/index.js';
import { PROFILES_DIR, makeCa, makeCrl, openssl, tempDir, testSerial, writePem } from './ca-test-kit.js';

const DAY = 86_400_000;
const set = loadProfiles(PROFILES_DIR);
const now = new Date(Math.floor(Date.now() / 1000) * 1000);
const root = await makeCa('root', set.caProfile('root'), undefined, now);

function entries(n: number): CrlEntryInput[] {
  return Array.from({ length: n }, (_, i) => ({
    serial: testSerial(),
    revocationDate: new Date(now.getTime() - i * 1000),
    ...(i % 3 === 0 ? { reason: 'keyCompromise' as const, invalidityDate: new Date(now.getTime() - i * 1000 - DAY) } : {}),
  }));
}

test('a 5,000-entry CRL is signed, verified, linted clean and accepted by openssl crl -verify', async () => {
  const list = entries(5000);
  const { crl, tbs } = await makeCrl(root, 7n, list, now);
  assert.equal(verifyCrl(crl, tbs, root.signer.publicKey()).algorithm, root.profile.signatureAlgorithm);
  assert.deepEqual(lintCrl(crl, { now, issuerName: root.info.subjectName, issuerSki: root.info.ski, maxValidityMs: 30 * DAY }), []);
  const dir = tempDir('cardca-crl-large-');
  // The text goes to a file: r.output is stdout and stderr in arrival order, and "verify OK" on
  // stderr could land between two stdout chunks and split a "Serial Number:" (seen once: 4999).
  const textFile = join(dir, 'big.txt');
  const r = await openssl(['crl', '-in', writePem(dir, 'big.crl', crl, 'X509 CRL'), '-CAfile', writePem(dir, 'root.pem', root.cert, 'CERTIFICATE'), '-noout', '-verify', '-text', '-out', textFile]);
  assert.match(r.output, /verify OK/, r.output.slice(0, 2000));
  assert.equal((readFileSync(textFile, 'utf8').match(/Serial Number:/g) ?? []).length, 5000);
});
