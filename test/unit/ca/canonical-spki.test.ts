/**
 * Issue 9 item 1: one key, one encoding. A CSR whose SPKI is the key's canonical DER is the only
 * one accepted; fingerprints (duplicate / revoked-key checks) are taken over the canonical form,
 * so one RSA key sent with NULL, absent and junk parameters is one key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, sign as nodeSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeTlv } from '../../../src/ca/x509/der.js';
import { concatBytes, toHex } from '../../../src/common/hex.js';
import { canonicalSpki, isCanonicalSpki } from '../../../src/ca/x509/canonical-spki.js';
import { checkKeyNotReused, CsrError, lintTbsCertificate, loadProfiles, parseCsr, pemDecode, spkiSha256 } from '../../../src/ca/index.js';
import { CardcaError } from '../../../src/common/cardca-error.js';
import { certificateContent } from '../../../src/ca/cert/certificate-content.js';
import { buildTbsCertificate } from '../../../src/ca/cert/build-tbs-certificate.js';
import { encodeTree, makeCa, openssl, parseTree, PROFILES_DIR, tempDir, testSerial, type Node } from './ca-test-kit.js';

const dir = tempDir('cardca-spki-');

async function csrFiles(name: string, args: string[]): Promise<{ der: Uint8Array; keyFile: string }> {
  const keyFile = join(dir, `${name}.key`);
  const r = await openssl(['req', '-new', '-nodes', ...args, '-keyout', keyFile, '-subj', '/CN=a.example.test', '-addext', 'subjectAltName=DNS:a.example.test', '-out', join(dir, `${name}.csr`)]);
  assert.ok(r.ok, r.output);
  return { der: pemDecode(readFileSync(join(dir, `${name}.csr`), 'utf8'), 'CERTIFICATE REQUEST'), keyFile };
}

/** Re-encode the CSR with the SPKI's AlgorithmIdentifier edited, and re-sign it with the real key (valid proof of possession). */
function withSpkiEdit(der: Uint8Array, keyFile: string, hash: string, edit: (algId: Node) => void): Uint8Array {
  const csr = parseTree(der);
  const info = csr.children![0]!;
  edit(info.children![2]!.children![0]!);
  const infoDer = encodeTree(info);
  const sig = nodeSign(hash, infoDer, createPrivateKey(readFileSync(keyFile)));
  return encodeTlv(0x30, concatBytes(infoDer, encodeTree(csr.children![1]!), encodeTlv(0x03, concatBytes(Uint8Array.of(0), sig))));
}

function spkiOf(csrDer: Uint8Array): Uint8Array {
  return encodeTree(parseTree(csrDer).children![0]!.children![2]!);
}

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CardcaError, String(e));
    return { code: e.code, message: e.message };
  }
  return { code: 'accepted', message: '' };
}

test('RSA key with NULL, absent and junk parameters: one canonical form, one fingerprint; only NULL is accepted', async () => {
  const { der, keyFile } = await csrFiles('rsa', ['-newkey', 'rsa:2048']);
  const absent = withSpkiEdit(der, keyFile, 'sha256', (alg) => alg.children!.splice(1));
  const junk = withSpkiEdit(der, keyFile, 'sha256', (alg) => alg.children!.splice(1, 1, { tag: 0x04, value: Buffer.from('attacker bytes') }));
  const nullWithContent = withSpkiEdit(der, keyFile, 'sha256', (alg) => alg.children!.splice(1, 1, { tag: 0x05, value: Uint8Array.of(0) }));

  const good = parseCsr(der);
  assert.ok(isCanonicalSpki(good.spki));
  const fps = new Set<string>();
  // A NULL with content is not even DER: the asn1 re-encoding check refuses it first.
  const cases = [['absent', absent, 'CSR_SPKI_NOT_CANONICAL'], ['junk', junk, 'CSR_SPKI_NOT_CANONICAL'], ['NULL with content', nullWithContent, 'CSR_NOT_DER']] as const;
  for (const [name, csr, expected] of cases) {
    const spki = spkiOf(csr);
    const c = canonicalSpki(spki);
    assert.deepEqual(c.problems.map((p) => p.rule), ['e_spki_rsa_encryption_parameter_not_null'], name);
    assert.deepEqual(c.canonical, good.spki, `${name}: canonical form is the NULL-parameter SPKI`);
    fps.add(toHex(spkiSha256(spki)));
    const r = refusal(() => parseCsr(csr));
    assert.equal(r.code, expected, `${name}: ${r.message}`);
    if (expected === 'CSR_SPKI_NOT_CANONICAL') assert.match(r.message, /e_spki_rsa_encryption_parameter_not_null/);
  }
  fps.add(toHex(good.spkiSha256));
  assert.equal(fps.size, 1, 'the same key has one fingerprint in every encoding');

  // Already certified in its canonical form → every other encoding is a duplicate (or revoked) key.
  const lookup = (h: Uint8Array) => (toHex(h) === toHex(good.spkiSha256) ? { kind: 'issued' as const, serialHex: '01AB', revoked: true } : { kind: 'none' as const });
  for (const csr of [absent, junk]) {
    assert.throws(() => checkKeyNotReused(spkiSha256(spkiOf(csr)), lookup), (e: unknown) => e instanceof CsrError && e.code === 'KEY_DUPLICATE');
  }
});

test('EC key: NULL or absent parameters and a compressed point are flagged', async () => {
  const { der } = await csrFiles('p256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
  const spki = parseCsr(der).spki;
  assert.deepEqual(canonicalSpki(spki).problems, []);
  const tree = parseTree(spki);
  const nulled = structuredClone(tree);
  nulled.children![0]!.children!.splice(1, 1, { tag: 0x05, value: new Uint8Array(0) });
  assert.deepEqual(canonicalSpki(encodeTree(nulled)).problems.map((p) => p.rule), ['e_spki_ec_parameters_not_named_curve']);
  const absent = structuredClone(tree);
  absent.children![0]!.children!.splice(1);
  assert.deepEqual(canonicalSpki(encodeTree(absent)).problems.map((p) => p.rule), ['e_spki_ec_parameters_not_named_curve']);
  const compressed = structuredClone(tree);
  const point = compressed.children![1]!.value!;
  const y = point.subarray(34);
  compressed.children![1]!.value = concatBytes(Uint8Array.of(0, 0x02 | (y[31]! & 1)), point.subarray(2, 34));
  assert.deepEqual(canonicalSpki(encodeTree(compressed)).problems.map((p) => p.rule), ['e_spki_ec_point_not_uncompressed']);
});

test('certificate content refuses a non-canonical key; the lint rule flags one in a TBS', async () => {
  const profiles = loadProfiles(PROFILES_DIR);
  const root = await makeCa('root', profiles.caProfile('root'), undefined);
  const sub = await makeCa('servers', profiles.caProfile('servers'), root);
  const { der, keyFile } = await csrFiles('rsa-lint', ['-newkey', 'rsa:2048']);
  const junkSpki = spkiOf(withSpkiEdit(der, keyFile, 'sha256', (alg) => alg.children!.splice(1, 1, { tag: 0x04, value: Uint8Array.of(1, 2, 3) })));
  const req = { issuer: sub.info, profile: profiles.leafProfile('tls-server'), subject: [{ type: 'CN', value: 'a.example.test' }], csrSans: [{ type: 'dns' as const, value: 'a.example.test' }], serial: testSerial(), now: new Date() };
  assert.equal(refusal(() => certificateContent({ ...req, spki: junkSpki })).code, 'POLICY_KEY_NOT_CANONICAL');
  // Build a TBS from the canonical key, then swap in the junk SPKI: the lint catches it by name.
  const content = certificateContent({ ...req, spki: parseCsr(der).spki });
  const tbs = buildTbsCertificate({ ...content.tbs, spki: junkSpki }, content.signatureAlgorithm);
  const lintCtx = { now: req.now, issuer: { subjectName: sub.info.subjectName, ski: sub.info.ski, notAfter: sub.info.notAfter } };
  const rules = lintTbsCertificate(tbs, lintCtx).map((f) => f.rule);
  assert.ok(rules.includes('e_spki_rsa_encryption_parameter_not_null'), rules.join(', '));
  assert.deepEqual(lintTbsCertificate(buildTbsCertificate(content.tbs, content.signatureAlgorithm), lintCtx), []);
});
