import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createPublicKey, createPrivateKey, generatePrimeSync, checkPrimeSync, randomBytes, sign as nodeSign } from 'node:crypto';
import { encodeTlv } from '../../../src/ca/x509/der.js';
import { concatBytes } from '../../../src/common/hex.js';
import { parseCsr, checkCsrKeyPolicy, checkKeyPolicy, checkKeyNotReused, CsrError, MAX_CSR_BYTES, pemDecode } from '../../../src/ca/index.js';
import { fermatFactor, hasRocaFingerprint, rocaMarker, ROCA_PRIMES, isqrt, smallPrimeFactor } from '../../../src/ca/csr/rsa-weak-key-tests.js';
import { encodeTree, openssl, parseTree, tempDir } from './ca-test-kit.js';

const dir = tempDir('cardca-csr-');

async function makeCsr(name: string, args: string[]): Promise<string> {
  const r = await openssl(['req', '-new', '-nodes', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.csr`), ...args]);
  assert.ok(r.ok, r.output);
  return readFileSync(join(dir, `${name}.csr`), 'utf8');
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CsrError, `expected CsrError, got ${String(e)}`);
    assert.ok(e.hint === undefined || e.hint.length > 0);
    return e.code;
  }
  return 'no error';
}

/** SPKI for an RSA public key given n and e (the private key is not needed to test key policy). */
function rsaSpki(n: bigint, e = 65537n): Uint8Array {
  const b64 = (x: bigint) => Buffer.from(x.toString(16).padStart(Math.ceil(x.toString(16).length / 2) * 2, '0'), 'hex').toString('base64url');
  return new Uint8Array(createPublicKey({ key: { kty: 'RSA', n: b64(n), e: b64(e) }, format: 'jwk' }).export({ type: 'spki', format: 'der' }));
}

/** A random odd integer of exactly `bits` bits. */
function randomOdd(bits: number): bigint {
  const b = randomBytes(Math.ceil(bits / 8));
  const v = BigInt('0x' + b.toString('hex')) & ((1n << BigInt(bits)) - 1n);
  return v | (1n << BigInt(bits - 1)) | 1n;
}

test('good CSRs: RSA 2048/3072, P-256, P-384 parse, verify and pass key policy', async () => {
  const cases: [string, string[], string][] = [
    ['rsa2048', ['-newkey', 'rsa:2048'], 'rsa2048'],
    ['rsa3072', ['-newkey', 'rsa:3072'], 'rsa3072'],
    ['p256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'p256'],
    ['p384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], 'p384'],
  ];
  for (const [name, args, alg] of cases) {
    const pem = await makeCsr(name, [...args, '-subj', '/C=DE/CN=host.example.test', '-addext', 'subjectAltName=DNS:host.example.test,IP:10.0.0.1,email:a@example.test']);
    const csr = parseCsr(pem);
    assert.equal(checkCsrKeyPolicy(csr).algorithm, alg);
    assert.deepEqual(csr.subject, [{ type: 'C', value: 'DE' }, { type: 'CN', value: 'host.example.test' }]);
    assert.deepEqual(csr.sans, [{ type: 'dns', value: 'host.example.test' }, { type: 'ip', value: '10.0.0.1' }, { type: 'email', value: 'a@example.test' }]);
    assert.equal(csr.spkiSha256.length, 32);
    // DER input gives the same result.
    assert.deepEqual(parseCsr(pemDecode(pem, 'CERTIFICATE REQUEST')).spki, csr.spki);
  }
});

test('bad CSRs made by openssl are rejected with their specific codes', async () => {
  assert.equal(code(() => checkCsrKeyPolicy(parseCsr(readFileSync(join(dir, 'rsa2048.csr'), 'utf8')))), 'no error');
  const rsa1024 = await makeCsr('rsa1024', ['-newkey', 'rsa:1024', '-subj', '/CN=x']);
  assert.equal(code(() => checkCsrKeyPolicy(parseCsr(rsa1024))), 'KEY_RSA_TOO_SMALL');
  const rsa8192Spki = rsaSpki(randomOdd(8192) | 1n);
  assert.equal(code(() => checkKeyPolicy(rsa8192Spki)), 'KEY_RSA_TOO_LARGE');
  const e3 = await makeCsr('e3', ['-newkey', 'rsa:2048', '-pkeyopt', 'rsa_keygen_pubexp:3', '-subj', '/CN=x']);
  assert.equal(code(() => checkCsrKeyPolicy(parseCsr(e3))), 'KEY_RSA_EXPONENT');
  const p521 = await makeCsr('p521', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-521', '-subj', '/CN=x']);
  assert.equal(code(() => checkCsrKeyPolicy(parseCsr(p521))), 'KEY_EC_CURVE');
  const sha1 = await makeCsr('sha1', ['-newkey', 'rsa:2048', '-sha1', '-subj', '/CN=x']);
  assert.equal(code(() => parseCsr(sha1)), 'CSR_WEAK_SIGNATURE');
  const caTrue = await makeCsr('catrue', ['-newkey', 'rsa:2048', '-subj', '/CN=x', '-addext', 'basicConstraints=critical,CA:TRUE']);
  assert.equal(code(() => parseCsr(caTrue)), 'CSR_CA_REQUESTED');
  const certSign = await makeCsr('certsign', ['-newkey', 'rsa:2048', '-subj', '/CN=x', '-addext', 'keyUsage=keyCertSign']);
  assert.equal(code(() => parseCsr(certSign)), 'CSR_CA_REQUESTED');
  const caFalse = await makeCsr('cafalse', ['-newkey', 'rsa:2048', '-subj', '/CN=x', '-addext', 'basicConstraints=CA:FALSE']);
  assert.equal(code(() => parseCsr(caFalse)), 'no error');
  const pss = await makeCsr('pssmax', ['-newkey', 'rsa:2048', '-sigopt', 'rsa_padding_mode:pss', '-subj', '/CN=x']);
  assert.equal(code(() => parseCsr(pss)), 'CSR_UNSUPPORTED_ALGORITHM');
  const pssOk = await makeCsr('pssdigest', ['-newkey', 'rsa:2048', '-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest', '-subj', '/CN=x']);
  assert.equal(parseCsr(pssOk).signatureAlgorithm, 'rsa-pss-sha256');
});

test('tampering, trailing data, bad armour, size and non-DER are rejected', () => {
  const pem = readFileSync(join(dir, 'p256.csr'), 'utf8');
  const der = pemDecode(pem, 'CERTIFICATE REQUEST');
  // Flip a bit in the subject: signature no longer verifies.
  const tampered = der.slice();
  const idx = Buffer.from(tampered).indexOf(Buffer.from('host.example.test'));
  tampered[idx] ^= 0x01;
  assert.equal(code(() => parseCsr(tampered)), 'CSR_BAD_SIGNATURE');
  // Flip a bit in the signature value.
  const badSig = der.slice();
  badSig[badSig.length - 3] ^= 0x01;
  assert.equal(code(() => parseCsr(badSig)), 'CSR_BAD_SIGNATURE');
  assert.equal(code(() => parseCsr(Uint8Array.from([...der, 0x00]))), 'CSR_TRAILING_DATA');
  assert.equal(code(() => parseCsr(pem + 'garbage\n')), 'CSR_TRAILING_DATA');
  assert.equal(code(() => parseCsr(pem.replace('-----END CERTIFICATE REQUEST-----', '-----END CERTIFICATE-----'))), 'CSR_BAD_PEM');
  assert.equal(code(() => parseCsr(pem.replace(/\n([A-Za-z0-9+/]{10})/, '\n$1*'))), 'CSR_BAD_PEM');
  assert.equal(code(() => parseCsr(pem + pem)), 'CSR_BAD_PEM');
  assert.equal(code(() => parseCsr(new Uint8Array(MAX_CSR_BYTES + 1))), 'CSR_TOO_LARGE');
  assert.equal(code(() => parseCsr(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00))), 'CSR_MALFORMED');
  assert.equal(code(() => parseCsr(Uint8Array.of(0x30, 0x80, 0x00, 0x00))), 'CSR_MALFORMED');
  // Non-minimal length on the outer SEQUENCE (BER, not DER).
  assert.ok(der[1]! > 0x80, 'fixture: long-form length');
  const nonMinimal = Uint8Array.from([0x30, der[1]! + 1, 0x00, ...der.subarray(2)]);
  assert.equal(code(() => parseCsr(nonMinimal)), 'CSR_MALFORMED');
});

test('non-DER CSR with a valid signature (explicit critical FALSE) is CSR_NOT_DER', async () => {
  const pem = readFileSync(join(dir, 'rsa2048.csr'), 'utf8');
  const der = pemDecode(pem, 'CERTIFICATE REQUEST');
  const csr = parseTree(der);
  const info = csr.children![0]!;
  // info: version, subject, spki, [0] { Attribute { OID, SET { Extensions { Extension… } } } }
  const exts = info.children![3]!.children![0]!.children![1]!.children![0]!;
  const san = exts.children![0]!;
  // DER forbids encoding a DEFAULT value (X.690 §11.5): insert critical BOOLEAN FALSE.
  san.children!.splice(1, 0, { tag: 0x01, value: Uint8Array.of(0x00) });
  const infoDer = encodeTree(info);
  const key = createPrivateKey(readFileSync(join(dir, 'rsa2048.key')));
  const sig = nodeSign('sha256', infoDer, key);
  const bad = encodeTlv(0x30, concatBytes(infoDer, encodeTree(csr.children![1]!), encodeTlv(0x03, concatBytes(Uint8Array.of(0), sig))));
  assert.equal(code(() => parseCsr(bad)), 'CSR_NOT_DER');
  // Control: the same re-signing path without the change is accepted.
  const info2 = encodeTree(parseTree(der).children![0]!);
  const good = encodeTlv(0x30, concatBytes(info2, encodeTree(csr.children![1]!), encodeTlv(0x03, concatBytes(Uint8Array.of(0), nodeSign('sha256', info2, key)))));
  assert.equal(code(() => parseCsr(good)), 'no error');
});

test('small prime factor ≤ 751 is KEY_SMALL_FACTOR', () => {
  let n: bigint;
  do n = randomOdd(2048 - 10) * 751n; while (n.toString(2).length !== 2048 || smallPrimeFactor(n) !== 751);
  // 757 is the first prime above the limit: not flagged.
  let m: bigint;
  do m = randomOdd(2048 - 10) * 757n; while (m.toString(2).length !== 2048 || smallPrimeFactor(m) !== undefined);
  assert.equal(smallPrimeFactor(m), undefined);
  assert.equal(code(() => checkKeyPolicy(rsaSpki(n))), 'KEY_SMALL_FACTOR');
});

test('Fermat-weak modulus (two close primes) is KEY_FERMAT', () => {
  const p = generatePrimeSync(1024, { bigint: true });
  let q = p + 2n;
  while (!checkPrimeSync(q)) q += 2n;
  const n = p * q;
  assert.deepEqual(fermatFactor(n), [p, q]);
  assert.equal(code(() => checkKeyPolicy(rsaSpki(n))), 'KEY_FERMAT');
  // A normal key is not factored.
  const r = generatePrimeSync(1024, { bigint: true }) * generatePrimeSync(1024, { bigint: true });
  assert.equal(fermatFactor(r), undefined);
  assert.equal(isqrt(10n ** 40n), 10n ** 20n);
});

test('ROCA: markers match the published detector, a ROCA-form modulus is KEY_ROCA', () => {
  // First markers of the reference detector (crocs-muni/roca): 6, 30, 126, 1026 for 3, 5, 7, 11.
  assert.deepEqual(ROCA_PRIMES.slice(0, 4), [3, 5, 7, 11]);
  assert.deepEqual(ROCA_PRIMES.slice(0, 4).map(rocaMarker), [6n, 30n, 126n, 1026n]);
  assert.equal(ROCA_PRIMES.at(-1), 167);
  // Construct N ≡ 65537^c (mod M) with M = ∏ ROCA_PRIMES, the shape of RSALib moduli
  // (p, q = k·M + 65537^a mod M ⇒ N ≡ 65537^(a+b) mod M).
  const M = ROCA_PRIMES.reduce((a, p) => a * BigInt(p), 1n);
  const modpow = (b: bigint, e: bigint, m: bigint) => { let r = 1n; b %= m; while (e > 0n) { if (e & 1n) r = (r * b) % m; b = (b * b) % m; e >>= 1n; } return r; };
  let n: bigint;
  for (;;) {
    const c = BigInt(1 + (randomBytes(2).readUInt16BE(0) % 5000));
    n = modpow(65537n, c, M) + M * randomOdd(2048 - M.toString(2).length);
    if (n.toString(2).length === 2048 && n % 2n === 1n && smallPrimeFactor(n) === undefined) break;
  }
  assert.equal(hasRocaFingerprint(n), true);
  assert.equal(code(() => checkKeyPolicy(rsaSpki(n))), 'KEY_ROCA');
  // Real keys are not flagged.
  const p = generatePrimeSync(1024, { bigint: true });
  const q = generatePrimeSync(1024, { bigint: true });
  assert.equal(hasRocaFingerprint(p * q), false);
});

test('EC point validation: off-curve, out of range, compressed, infinity', () => {
  const pem = readFileSync(join(dir, 'p256.csr'), 'utf8');
  const spki = parseCsr(pem).spki;
  const pointStart = spki.length - 65;
  assert.equal(spki[pointStart], 0x04);
  const offCurve = spki.slice();
  offCurve[spki.length - 1] ^= 0x01;
  assert.equal(code(() => checkKeyPolicy(offCurve)), 'KEY_EC_POINT');
  const outOfRange = spki.slice();
  outOfRange.fill(0xff, pointStart + 1, pointStart + 33);
  assert.equal(code(() => checkKeyPolicy(outOfRange)), 'KEY_EC_POINT');
  const compressed = spki.slice();
  compressed[pointStart] = 0x02;
  assert.equal(code(() => checkKeyPolicy(compressed)), 'KEY_EC_POINT');
  const zero = spki.slice();
  zero.fill(0, pointStart + 1);
  assert.equal(code(() => checkKeyPolicy(zero)), 'KEY_EC_POINT');
  assert.equal(code(() => checkKeyPolicy(spki)), 'no error');
});

test('SPKI structure is read strictly: malformed encodings are KEY_MALFORMED, missing/NULL curve KEY_EC_CURVE', () => {
  const spki = parseCsr(readFileSync(join(dir, 'p256.csr'), 'utf8')).spki;
  const hex = Buffer.from(spki).toString('hex');
  const from = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
  // P-256 SPKI: 3059 3013 0607<id-ecPublicKey> 0608<prime256v1> 0342 00 04…
  assert.match(hex, /^3059301306072a8648ce3d020106082a8648ce3d030107034200/);
  const point = hex.slice(hex.indexOf('034200') + 6);
  assert.equal(code(() => checkKeyPolicy(from(hex + '00'))), 'KEY_MALFORMED', 'trailing byte');
  assert.equal(code(() => checkKeyPolicy(from('3081' + '59' + hex.slice(4)))), 'KEY_MALFORMED', 'non-minimal length');
  assert.equal(code(() => checkKeyPolicy(from(hex.replace(/^3059/, '3159')))), 'KEY_MALFORMED', 'SET, not SEQUENCE');
  assert.equal(code(() => checkKeyPolicy(from(hex.replace('034200', '034201')))), 'KEY_MALFORMED', 'unused bits in the key BIT STRING');
  assert.equal(code(() => checkKeyPolicy(from(hex.replace('034200', '044200')))), 'KEY_MALFORMED', 'OCTET STRING, not BIT STRING');
  const nullParams = from('3051' + '300b' + '06072a8648ce3d0201' + '0500' + '034200' + point);
  assert.equal(code(() => checkKeyPolicy(from('3053' + '300d' + '06072a8648ce3d0201' + '0500' + '0100' + '034200' + point))), 'KEY_MALFORMED', 'three AlgorithmIdentifier fields');
  assert.equal(code(() => checkKeyPolicy(nullParams.subarray(0, nullParams.length - 1))), 'KEY_MALFORMED', 'truncated');
  assert.equal(code(() => checkKeyPolicy(from('304f' + '3009' + '06072a8648ce3d0201' + '034200' + point))), 'KEY_EC_CURVE', 'no parameters');
  assert.equal(code(() => checkKeyPolicy(nullParams)), 'KEY_EC_CURVE', 'NULL parameters');
});

test('key reuse: CA key, duplicate, revoked duplicate, blocklist', () => {
  const fp = new Uint8Array(32).fill(7);
  assert.equal(code(() => checkKeyNotReused(fp, () => ({ kind: 'none' }))), 'no error');
  assert.equal(code(() => checkKeyNotReused(fp, () => ({ kind: 'ca', caName: 'root' }))), 'KEY_IS_CA_KEY');
  assert.equal(code(() => checkKeyNotReused(fp, () => ({ kind: 'issued', serialHex: '01', revoked: false }))), 'KEY_DUPLICATE');
  assert.equal(code(() => checkKeyNotReused(fp, () => ({ kind: 'issued', serialHex: '01', revoked: false }), { allowReuse: true })), 'no error');
  assert.equal(code(() => checkKeyNotReused(fp, () => ({ kind: 'issued', serialHex: '01', revoked: true }), { allowReuse: true })), 'KEY_DUPLICATE');
  assert.equal(code(() => checkKeyNotReused(fp, () => [{ kind: 'none' }, { kind: 'blocked', reason: 'debian weak key' }])), 'KEY_BLOCKED');
  let seen: Uint8Array | undefined;
  checkKeyNotReused(fp, (x) => ((seen = x), { kind: 'none' }));
  assert.deepEqual(seen, fp);
});

test('RSA size and exponent edges', () => {
  const ok = generatePrimeSync(1024, { bigint: true }) * generatePrimeSync(1024, { bigint: true });
  assert.equal(code(() => checkKeyPolicy(rsaSpki(ok))), 'no error');
  assert.equal(code(() => checkKeyPolicy(rsaSpki(ok, 3n))), 'KEY_RSA_EXPONENT');
  assert.equal(code(() => checkKeyPolicy(rsaSpki(ok, 65536n))), 'KEY_RSA_EXPONENT');
  assert.equal(code(() => checkKeyPolicy(rsaSpki(ok, (1n << 256n) + 1n))), 'KEY_RSA_EXPONENT');
  assert.equal(code(() => checkKeyPolicy(rsaSpki(ok, 65539n))), 'no error');
  let odd: bigint;
  do odd = randomOdd(2049); while (smallPrimeFactor(odd) !== undefined);
  assert.equal(code(() => checkKeyPolicy(rsaSpki(odd))), 'KEY_RSA_SIZE');
});

test('mutated CSRs only ever fail with CsrError (no crashes, no other exceptions)', () => {
  const seeds = ['rsa2048', 'p256', 'p384'].map((n) => pemDecode(readFileSync(join(dir, `${n}.csr`), 'utf8'), 'CERTIFICATE REQUEST'));
  let accepted = 0;
  for (let i = 0; i < 3000; i++) {
    const d = seeds[i % seeds.length]!.slice();
    const r = randomBytes(4);
    const pos = r.readUInt16BE(0) % d.length;
    const mode = r[2]! % 3;
    if (mode === 0) d[pos] ^= r[3]! || 0xff; // replace with a different byte
    else if (mode === 1) d[pos] ^= 1 << (r[3]! % 8); // flip one bit
    const input = mode === 2 ? d.subarray(0, pos) : d; // truncate
    try {
      parseCsr(input);
      accepted++;
    } catch (e) {
      assert.ok(e instanceof CsrError, `mutation ${i} at ${pos} threw ${String(e)}`);
    }
  }
  // Every byte of a CSR is covered by the signature or checked for DER: nothing mutated passes.
  assert.equal(accepted, 0);
});
