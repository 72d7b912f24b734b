/** TBS/certificate/CRL builder edge cases, verification failures, chain and PEM helpers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assembleCertificate,
  buildTbsCertificate,
  CaError,
  certificateContent,
  fingerprint,
  loadProfiles,
  orderChain,
  pemDecode,
  pemDecodeAll,
  pemEncode,
  verifyIssuedCertificate,
  signatureAlgorithmIdentifier,
  type TbsCertificateInput,
} from '../../../src/ca/index.js';
import { TestOnlySoftwareSigner } from '../../helpers/test-only-software-signer.js';
import { PROFILES_DIR, encodeTree, makeCa, openssl, parseTree, tempDir, testSerial, writePem } from './ca-test-kit.js';
import { join } from 'node:path';
import { encodeTlv } from '../../../src/common/der.js';
import { concatBytes } from '../../../src/common/hex.js';

const set = loadProfiles(PROFILES_DIR);
const now = new Date(Math.floor(Date.now() / 1000) * 1000);
const root = await makeCa('root', set.caProfile('root'), undefined, now);
const servers = await makeCa('servers', set.caProfile('servers'), root, now);
const users = await makeCa('users', set.caProfile('users'), root, now);
const ec = TestOnlySoftwareSigner.generate('p256');

function leafInput(): TbsCertificateInput {
  return certificateContent({ issuer: servers.info, profile: set.leafProfile('tls-server'), spki: ec.publicKey(), subject: [{ type: 'CN', value: 'a.example.test' }], csrSans: [{ type: 'dns', value: 'a.example.test' }], serial: testSerial(), now }).tbs;
}
const caCode = (fn: () => unknown): string => {
  try {
    fn();
    return 'no error';
  } catch (e) {
    assert.ok(e instanceof CaError, String(e));
    return e.code;
  }
};

test('serial checks in the builder', () => {
  const i = leafInput();
  assert.equal(caCode(() => buildTbsCertificate({ ...i, serial: Uint8Array.of(0x80) }, 'ecdsa-sha256')), 'CA_BAD_SERIAL');
  assert.equal(caCode(() => buildTbsCertificate({ ...i, serial: Uint8Array.of(0x00, 0x01) }, 'ecdsa-sha256')), 'CA_BAD_SERIAL');
  assert.equal(caCode(() => buildTbsCertificate({ ...i, serial: new Uint8Array(21).fill(1) }, 'ecdsa-sha256')), 'CA_BAD_SERIAL');
  assert.equal(caCode(() => buildTbsCertificate({ ...i, serial: Uint8Array.of(0) }, 'ecdsa-sha256')), 'CA_BAD_SERIAL');
  assert.equal(caCode(() => buildTbsCertificate({ ...i, serial: Uint8Array.of(0x00, 0x80) }, 'ecdsa-sha256')), 'no error');
});

test('UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5)', () => {
  const i = leafInput();
  const tags = (notAfter: Date) => parseTree(buildTbsCertificate({ ...i, notAfter }, 'ecdsa-sha256')).children![4]!.children!.map((n) => n.tag);
  assert.deepEqual(tags(new Date(Date.UTC(2049, 11, 31, 23, 59, 59))), [0x17, 0x17]);
  assert.deepEqual(tags(new Date(Date.UTC(2050, 0, 1, 0, 0, 0))), [0x17, 0x18]);
});

/** The builder as it was, through the @peculiar/asn1-schema classes: the reference for byte identity. */
async function referenceTbs(input: TbsCertificateInput, alg: 'ecdsa-sha256' | 'ecdsa-sha384'): Promise<Uint8Array> {
  const { AsnConvert, OctetString } = await import('@peculiar/asn1-schema');
  const x = await import('@peculiar/asn1-x509');
  const ab = (b: Uint8Array) => b.slice().buffer as ArrayBuffer;
  const tbs = new x.TBSCertificate({
    version: x.Version.v3,
    serialNumber: ab(input.serial),
    signature: AsnConvert.parse(signatureAlgorithmIdentifier(alg), x.AlgorithmIdentifier),
    issuer: AsnConvert.parse(input.issuerName, x.Name),
    validity: new x.Validity({ notBefore: input.notBefore, notAfter: input.notAfter }),
    subject: AsnConvert.parse(input.subjectName, x.Name),
    subjectPublicKeyInfo: AsnConvert.parse(input.spki, x.SubjectPublicKeyInfo),
  });
  if (input.extensions.length > 0) tbs.extensions = new x.Extensions(input.extensions.map((e) => new x.Extension({ extnID: e.oid, critical: e.critical, extnValue: new OctetString(ab(e.value)) })));
  return new Uint8Array(AsnConvert.serialize(tbs));
}

test('the DER-direct builder gives the same bytes as the ASN.1-class encoding (leaf, sub-CA, RSA key, no extensions, 2049/2050, long serial)', async () => {
  const rsa = TestOnlySoftwareSigner.generate('rsa2048');
  const sub = certificateContent({ issuer: root.info, profile: set.caProfile('servers'), spki: ec.publicKey(), subject: [], serial: testSerial(), now }).tbs;
  const rsaLeaf = certificateContent({ issuer: servers.info, profile: set.leafProfile('tls-server'), spki: rsa.publicKey(), subject: [{ type: 'CN', value: 'r.example.test' }], csrSans: [{ type: 'dns', value: 'r.example.test' }, { type: 'ip', value: '10.1.2.3' }], serial: testSerial(), now }).tbs;
  const cases: [TbsCertificateInput, 'ecdsa-sha256' | 'ecdsa-sha384'][] = [
    [leafInput(), 'ecdsa-sha256'],
    [sub, 'ecdsa-sha384'],
    [rsaLeaf, 'ecdsa-sha256'],
    [{ ...leafInput(), extensions: [] }, 'ecdsa-sha256'],
    [{ ...leafInput(), notAfter: new Date(Date.UTC(2049, 11, 31, 23, 59, 59)) }, 'ecdsa-sha256'],
    [{ ...leafInput(), notAfter: new Date(Date.UTC(2050, 0, 1, 0, 0, 0)) }, 'ecdsa-sha256'],
    [{ ...leafInput(), serial: Uint8Array.of(0x00, 0x80, ...new Array<number>(18).fill(0xab)) }, 'ecdsa-sha256'],
    [{ ...leafInput(), serial: Uint8Array.of(1) }, 'ecdsa-sha256'],
  ];
  for (const [input, alg] of cases) assert.deepEqual(buildTbsCertificate(input, alg), await referenceTbs(input, alg));
});

test('non-canonical issuer DER is refused rather than silently re-encoded', () => {
  const i = leafInput();
  // Same name with a non-minimal (BER) length: the ASN.1 library would re-encode it minimally.
  assert.ok(i.issuerName[1]! < 0x80);
  const bad = Uint8Array.from([0x30, 0x81, i.issuerName[1]!, ...i.issuerName.subarray(2)]);
  assert.equal(caCode(() => buildTbsCertificate({ ...i, issuerName: bad }, 'ecdsa-sha256')), 'CA_TBS_ENCODING');
  // Deeper inside: the first RDN's SET with a non-minimal length; trailing bytes; not a SEQUENCE.
  const inner = Uint8Array.from(i.issuerName);
  assert.equal(inner[2], 0x31);
  const deep = Uint8Array.from([0x30, inner[1]! + 1, 0x31, 0x81, ...inner.subarray(3)]);
  assert.equal(caCode(() => buildTbsCertificate({ ...i, issuerName: deep }, 'ecdsa-sha256')), 'CA_TBS_ENCODING');
  assert.equal(caCode(() => buildTbsCertificate({ ...i, subjectName: Uint8Array.from([...i.subjectName, 0]) }, 'ecdsa-sha256')), 'CA_TBS_ENCODING');
  assert.equal(caCode(() => buildTbsCertificate({ ...i, spki: Uint8Array.of(0x04, 0x00) }, 'ecdsa-sha256')), 'CA_TBS_ENCODING');
  assert.equal(caCode(() => buildTbsCertificate(i, 'ecdsa-sha256')), 'no error');
});

test('assemble/verify: algorithm mismatch, TBS mismatch, bad signature, PSS and PKCS#1 parameters', async () => {
  const tbs = buildTbsCertificate(leafInput(), 'ecdsa-sha256');
  const sig = await servers.signer.sign(tbs, 'ecdsa-sha256');
  assert.equal(caCode(() => assembleCertificate(tbs, 'ecdsa-sha384', sig)), 'CA_ALGORITHM_MISMATCH');
  const cert = assembleCertificate(tbs, 'ecdsa-sha256', sig);
  assert.equal(verifyIssuedCertificate(cert, tbs, servers.signer.publicKey()).algorithm, 'ecdsa-sha256');
  const other = buildTbsCertificate(leafInput(), 'ecdsa-sha256');
  assert.equal(caCode(() => verifyIssuedCertificate(cert, other, servers.signer.publicKey())), 'CA_TBS_MISMATCH');
  assert.equal(caCode(() => verifyIssuedCertificate(cert, tbs, root.signer.publicKey())), 'CA_SIGNATURE_INVALID');
  const flipped = cert.slice();
  flipped[flipped.length - 5] ^= 1;
  assert.equal(caCode(() => verifyIssuedCertificate(flipped, tbs, servers.signer.publicKey())), 'CA_SIGNATURE_INVALID');
  assert.equal(caCode(() => verifyIssuedCertificate(Uint8Array.from([...cert, 0]), tbs, servers.signer.publicKey())), 'CA_ISSUED_MALFORMED');
  // The TBS is not parsed again, but the whole certificate is walked strictly: a signed TBS with a
  // BER (non-minimal) length deep inside (its issuer Name) is refused even when it is the expected TBS.
  const kids = parseTree(tbs).children!.map(encodeTree);
  const issuer = kids[3]!;
  assert.ok(issuer[0] === 0x30 && issuer[1]! < 0x80);
  kids[3] = Uint8Array.from([0x30, 0x81, issuer[1]!, ...issuer.subarray(2)]);
  const berTbs = encodeTlv(0x30, concatBytes(...kids));
  const berSig = await servers.signer.sign(berTbs, 'ecdsa-sha256');
  const algId = encodeTree(parseTree(cert).children![1]!);
  const berCert = encodeTlv(0x30, concatBytes(berTbs, algId, encodeTlv(0x03, Uint8Array.from([0, ...berSig]))));
  assert.equal(caCode(() => verifyIssuedCertificate(berCert, berTbs, servers.signer.publicKey())), 'CA_ISSUED_MALFORMED');
  // RSA: PSS (RFC 4055 parameters, salt = hash length) and PKCS#1 v1.5 (NULL parameters), accepted by openssl.
  const dir = tempDir();
  const rootPem = writePem(dir, 'root.pem', root.cert, 'CERTIFICATE');
  for (const alg of ['rsa-pss-sha256', 'rsa-pss-sha384', 'rsa-pkcs1-sha384'] as const) {
    const input = certificateContent({ issuer: users.info, profile: set.leafProfile('email'), spki: ec.publicKey(), subject: [{ type: 'CN', value: 'Carol' }], csrSans: [{ type: 'email', value: 'carol@example.test' }], serial: testSerial(), now }).tbs;
    const t = buildTbsCertificate(input, alg);
    const c = assembleCertificate(t, alg, await users.signer.sign(t, alg));
    verifyIssuedCertificate(c, t, users.signer.publicKey());
    const p = writePem(dir, `${alg}.pem`, c, 'CERTIFICATE');
    const v = await openssl(['verify', '-x509_strict', '-CAfile', rootPem, '-untrusted', writePem(dir, 'users.pem', users.cert, 'CERTIFICATE'), p]);
    assert.ok(v.ok, `${alg}: ${v.output}`);
  }
  assert.equal(Buffer.from(signatureAlgorithmIdentifier('rsa-pkcs1-sha256')).toString('hex'), '300d06092a864886f70d01010b0500');
  assert.equal(Buffer.from(signatureAlgorithmIdentifier('ecdsa-sha256')).toString('hex'), '300a06082a8648ce3d040302');
});

test('chain helpers: order, PEM round trip, errors, fingerprints match openssl', async () => {
  assert.deepEqual(orderChain([root.cert, servers.cert]).map((d) => fingerprint(d)), [servers.cert, root.cert].map((d) => fingerprint(d)));
  assert.deepEqual(orderChain([]), []);
  assert.equal(caCode(() => orderChain([servers.cert, users.cert])), 'CA_CHAIN_BROKEN');
  assert.equal(caCode(() => orderChain([servers.cert, root.cert, users.cert])), 'CA_CHAIN_BROKEN');
  const pem = pemEncode(servers.cert, 'CERTIFICATE');
  assert.match(pem, /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{64}\n)+[A-Za-z0-9+/=]{1,64}\n-----END CERTIFICATE-----\n$/);
  assert.deepEqual(pemDecode(pem, 'CERTIFICATE'), servers.cert);
  assert.deepEqual(pemDecodeAll(pem.replace(/\n/g, '\r\n'), 'CERTIFICATE'), [servers.cert]);
  assert.deepEqual(pemDecodeAll(pem, 'X509 CRL'), []);
  assert.equal(caCode(() => pemDecode(pem.replace('-----END CERTIFICATE-----', '-----END X509 CRL-----'), 'CERTIFICATE')), 'CA_PEM_MALFORMED');
  assert.equal(caCode(() => pemDecode(pem.replace(/\n[A-Z]/, '\n!'), 'CERTIFICATE')), 'CA_PEM_MALFORMED');
  assert.equal(caCode(() => pemDecode(pem + pem, 'CERTIFICATE')), 'CA_PEM_MALFORMED');
  const dir = tempDir();
  const f = await openssl(['x509', '-in', writePem(dir, 's.pem', servers.cert, 'CERTIFICATE'), '-noout', '-fingerprint', '-sha256']);
  assert.ok(f.ok);
  assert.equal(f.output.trim().split('=')[1], fingerprint(servers.cert));
  const t = await openssl(['x509', '-in', join(dir, 's.pem'), '-noout', '-text']);
  assert.ok(t.ok && /CA:TRUE, pathlen:0/.test(t.output), t.output);
});

test('ECDSA signatures must be minimal DER; BER and garbage are refused', async () => {
  const tbs = buildTbsCertificate(leafInput(), 'ecdsa-sha256');
  const sig = await servers.signer.sign(tbs, 'ecdsa-sha256');
  // Pad r with a redundant leading zero (non-minimal INTEGER), fixing up the lengths.
  const f = parseTree(sig);
  const r = f.children![0]!;
  r.value = Uint8Array.from([0, ...(r.value![0]! & 0x80 ? r.value! : [0, ...r.value!])]);
  const padded = encodeTree(f);
  assert.notDeepEqual(padded, sig);
  assert.equal(caCode(() => assembleCertificate(tbs, 'ecdsa-sha256', padded)), 'CA_SIGNATURE_ENCODING');
  assert.equal(caCode(() => assembleCertificate(tbs, 'ecdsa-sha256', Uint8Array.of(1, 2, 3))), 'CA_SIGNATURE_ENCODING');
  assert.equal(caCode(() => assembleCertificate(tbs, 'ecdsa-sha256', sig)), 'no error');
});
