/**
 * parseCsr on the strict DER reader (src/ca/csr/parse-csr.ts) against the asn1-schema parse it
 * replaced (csr-reference-parse.ts, whose DER check was "re-encoding gives the same bytes"):
 *   - on CSRs from openssl req (RSA, P-256, P-384, PSS; SANs of every kind incl. IPv6 and kinds
 *     never issued; no extensions; other attributes; multi-valued and UTF-8 subjects) both give
 *     the same ParsedCsr;
 *   - on re-signed non-DER or malformed requests (valid signature over the bad bytes) both
 *     refuse, and the new parse with a CsrError at least as specific;
 *   - on 1000 random mutations both refuse everything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateKey, randomBytes, sign as nodeSign } from 'node:crypto';
import { CsrError, parseCsr } from '../../../src/ca/index.js';
import { concatBytes } from '../../../src/common/hex.js';
import { encodeTlv } from '../../../src/ca/x509/der.js';
import { encodeTree, openssl, parseTree, tempDir, type Node } from './ca-test-kit.js';
import { referenceParseCsr } from './csr-reference-parse.js';

const dir = tempDir('cardca-csr-diff-');

async function makeCsr(name: string, args: string[]): Promise<Uint8Array> {
  const r = await openssl(['req', '-new', '-nodes', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.csr`), '-outform', 'DER', ...args]);
  assert.ok(r.ok, r.output);
  return new Uint8Array(readFileSync(join(dir, `${name}.csr`)));
}

function outcome(fn: () => unknown): { code: string; value?: unknown } {
  try {
    return { code: 'ok', value: fn() };
  } catch (e) {
    assert.ok(e instanceof CsrError, `expected CsrError, got ${String(e)}`);
    return { code: e.code };
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
const FIXTURES: [string, string[]][] = [
  ['rsa-sans', ['-newkey', 'rsa:2048', '-subj', '/C=DE/O=Example/CN=host.example.test', '-addext', 'subjectAltName=DNS:host.example.test,DNS:*.example.test,IP:10.0.0.1,IP:2001:db8::1,IP:::1,IP:2001:db8:0:0:1:0:0:1,IP:fe80:0:0:0:0:0:0:0,email:a@example.test,URI:https://example.test/x,RID:1.2.3.4,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:u@example.test']],
  ['p256-none', [...EC, '-subj', '/CN=no-extensions']],
  ['p384-exts', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-subj', '/CN=x/OU=a/OU=b', '-addext', 'keyUsage=critical,digitalSignature', '-addext', 'extendedKeyUsage=serverAuth,clientAuth', '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'subjectKeyIdentifier=hash']],
  ['p256-multi', [...EC, '-multivalue-rdn', '-subj', '/CN=a+O=b/C=DE', '-addext', 'subjectAltName=DNS:a.example.test']],
  ['p256-utf8', [...EC, '-utf8', '-subj', '/CN=Müller Straße/O=Ünïcode', '-addext', 'subjectAltName=email:m@example.test']],
  ['rsa-pss', ['-newkey', 'rsa:2048', '-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest', '-subj', '/CN=pss']],
  ['p256-ku-ca', [...EC, '-subj', '/CN=x', '-addext', 'keyUsage=keyCertSign']],
  ['p256-bc-ca', [...EC, '-subj', '/CN=x', '-addext', 'basicConstraints=critical,CA:TRUE']],
  ['p256-sha1', [...EC, '-sha1', '-subj', '/CN=x']],
];

test('differential: the strict parse gives exactly the asn1-schema parse on CSRs from openssl req', async () => {
  for (const [name, args] of FIXTURES) {
    const der = await makeCsr(name, args);
    const want = outcome(() => referenceParseCsr(der));
    const got = outcome(() => parseCsr(der));
    assert.deepEqual(got, want, name);
  }
  // The SAN kinds came through as the old parse rendered them (IPv6 compressed, RFC 5952).
  const rsa = parseCsr(new Uint8Array(readFileSync(join(dir, 'rsa-sans.csr'))));
  assert.deepEqual(rsa.sans.filter((s) => s.type === 'ip').map((s) => s.value), ['10.0.0.1', '2001:db8::1', '::1', '2001:db8::1:0:0:1', 'fe80::']);
  assert.deepEqual(rsa.ignoredSanTypes, ['registeredID', 'otherName']);
});

/** Re-sign an edited certificationRequestInfo (raw bytes) with the P-256 fixture's key. */
function resign(infoDer: Uint8Array): Uint8Array {
  const orig = parseTree(new Uint8Array(readFileSync(join(dir, 'p256-none.csr'))));
  const key = createPrivateKey(readFileSync(join(dir, 'p256-none.key')));
  return encodeTlv(0x30, concatBytes(infoDer, encodeTree(orig.children![1]!), encodeTlv(0x03, concatBytes(Uint8Array.of(0), nodeSign('sha256', infoDer, key)))));
}

/** The P-256 fixture's info with the extensionRequest `exts` (raw Extensions DER) or with `edit` applied. */
function infoWith(exts: Uint8Array | undefined, edit?: (info: Node) => void): Uint8Array {
  const info = parseTree(new Uint8Array(readFileSync(join(dir, 'p256-none.csr')))).children![0]!;
  edit?.(info);
  if (!exts) return encodeTree(info);
  const extReq = encodeTlv(0x06, Uint8Array.from([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e]));
  const attrs = encodeTlv(0xa0, encodeTlv(0x30, concatBytes(extReq, encodeTlv(0x31, exts))));
  return encodeTlv(0x30, concatBytes(...info.children!.slice(0, 3).map(encodeTree), attrs));
}

const ext = (oid: number[], value: Uint8Array, critical?: Uint8Array): Uint8Array =>
  encodeTlv(0x30, concatBytes(encodeTlv(0x06, Uint8Array.from(oid)), critical ? encodeTlv(0x01, critical) : new Uint8Array(), encodeTlv(0x04, value)));
const SAN = [0x55, 0x1d, 0x11];
const BC = [0x55, 0x1d, 0x13];
const dns = (s: string) => encodeTlv(0x82, Uint8Array.from(Buffer.from(s)));
const sanValue = encodeTlv(0x30, dns('a.example.test'));

test('differential: re-signed non-DER and malformed requests are refused by both, the new parse at least as specifically', async () => {
  await makeCsr('p256-none', [...EC, '-subj', '/CN=no-extensions']);
  const cases: [string, Uint8Array, string[]][] = [
    ['control: a good extensionRequest', resign(infoWith(encodeTlv(0x30, ext(SAN, sanValue)))), ['ok']],
    ['critical BOOLEAN FALSE (DEFAULT encoded)', resign(infoWith(encodeTlv(0x30, ext(SAN, sanValue, Uint8Array.of(0x00))))), ['CSR_NOT_DER']],
    ['critical BOOLEAN 01 (BER TRUE)', resign(infoWith(encodeTlv(0x30, ext(SAN, sanValue, Uint8Array.of(0x01))))), ['CSR_NOT_DER']],
    ['version 1', resign(infoWith(undefined, (i) => (i.children![0] = { tag: 0x02, value: Uint8Array.of(1) }))), ['CSR_BAD_VERSION']],
    ['version 0 as 02 02 00 00', resign(infoWith(undefined, (i) => (i.children![0] = { tag: 0x02, value: Uint8Array.of(0, 0) }))), ['CSR_NOT_DER', 'CSR_MALFORMED']],
    ['no attributes [0]', resign(infoWith(undefined, (i) => i.children!.pop())), ['CSR_MALFORMED']],
    ['attributes as SEQUENCE, not [0]', resign(infoWith(undefined, (i) => (i.children![3]!.tag = 0x30))), ['CSR_MALFORMED']],
    ['subject OID with a non-minimal subidentifier', resign(infoWith(undefined, (i) => (i.children![1]!.children![0]!.children![0]!.children![0]!.value = Uint8Array.of(0x55, 0x80, 0x04, 0x03)))), ['CSR_NOT_DER', 'CSR_MALFORMED']],
    ['subject value with a non-minimal length', resign(nonMinimalSubjectLength()), ['CSR_NOT_DER', 'CSR_MALFORMED']],
    ['dNSName constructed [2]', resign(infoWith(encodeTlv(0x30, ext(SAN, encodeTlv(0x30, encodeTlv(0xa2, encodeTlv(0x16, Uint8Array.from(Buffer.from('a.example.test'))))))))), ['CSR_MALFORMED', 'CSR_NOT_DER']],
    ['a byte after the SAN inside its OCTET STRING', resign(infoWith(encodeTlv(0x30, ext(SAN, concatBytes(sanValue, Uint8Array.of(0)))))), ['CSR_MALFORMED']],
    ['SAN value with a non-minimal length', resign(infoWith(encodeTlv(0x30, ext(SAN, Uint8Array.from([0x30, 0x81, sanValue.length - 2, ...sanValue.subarray(2)]))))), ['CSR_NOT_DER', 'CSR_MALFORMED']],
    ['basicConstraints cA BOOLEAN 01', resign(infoWith(encodeTlv(0x30, ext(BC, encodeTlv(0x30, encodeTlv(0x01, Uint8Array.of(1))))))), ['CSR_CA_REQUESTED']],
    ['basicConstraints not a SEQUENCE', resign(infoWith(encodeTlv(0x30, ext(BC, encodeTlv(0x01, Uint8Array.of(0)))))), ['CSR_MALFORMED']],
    ['the same extension twice', resign(infoWith(encodeTlv(0x30, concatBytes(ext(SAN, sanValue), ext(SAN, sanValue))))), ['CSR_MALFORMED']],
  ];
  for (const [what, der, codes] of cases) {
    const old = outcome(() => referenceParseCsr(der));
    const now = outcome(() => parseCsr(der));
    assert.ok(codes.includes(now.code), `${what}: new parse gave ${now.code}, want one of ${codes.join(', ')}`);
    if (now.code === 'ok') assert.deepEqual(now, old, `${what}: same result`);
    // The old parse refused it too, except where it did not look inside (then the new is stricter).
    if (old.code === 'ok' && now.code !== 'ok') console.log(`# stricter than the old parse: ${what} (${now.code})`);
    if (now.code !== 'ok' && old.code !== 'ok' && (old.code === 'CSR_BAD_VERSION' || old.code === 'CSR_CA_REQUESTED')) assert.equal(now.code, old.code, what);
    assert.ok(!(now.code === 'ok' && old.code !== 'ok'), `${what}: the new parse accepts what the old refused (${old.code})`);
  }
});

/** The P-256 fixture's info with its CN value's length in the long form (81 nn): BER, not DER. */
function nonMinimalSubjectLength(): Uint8Array {
  const info = parseTree(new Uint8Array(readFileSync(join(dir, 'p256-none.csr')))).children![0]!;
  const kids = info.children!.map(encodeTree);
  const subj = kids[1]!;
  const cn = Buffer.from('no-extensions');
  const at = Buffer.from(subj).indexOf(cn) - 2;
  assert.equal(subj[at + 1], cn.length);
  const atv = concatBytes(encodeTlv(0x06, Uint8Array.of(0x55, 0x04, 0x03)), Uint8Array.from([subj[at]!, 0x81, cn.length, ...cn]));
  kids[1] = encodeTlv(0x30, encodeTlv(0x31, encodeTlv(0x30, atv)));
  return encodeTlv(0x30, concatBytes(...kids));
}

test('differential: random mutations of the fixtures are refused by both parses', () => {
  const seeds = ['rsa-sans', 'p256-multi', 'p384-exts'].map((n) => new Uint8Array(readFileSync(join(dir, `${n}.csr`))));
  // 1000 (csr.test.ts runs 3000 on the new parse alone): the old parse is slow, and this file stays at seconds.
  for (let i = 0; i < 1000; i++) {
    const d = seeds[i % seeds.length]!.slice();
    const r = randomBytes(4);
    const pos = r.readUInt16BE(0) % d.length;
    const mode = r[2]! % 3;
    if (mode === 0) d[pos] ^= r[3]! || 0xff;
    else if (mode === 1) d[pos] ^= 1 << (r[3]! % 8);
    const input = mode === 2 ? d.subarray(0, pos) : d;
    const now = outcome(() => parseCsr(input));
    const old = outcome(() => referenceParseCsr(input));
    assert.equal(now.code === 'ok', false, `mutation ${i} at ${pos} accepted`);
    assert.equal(old.code === 'ok', false);
  }
});
