import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPublicKey, createHash, X509Certificate } from 'node:crypto';
import { readPkcs15Application, readReference, trimDer, type Pkcs15FileSource } from '../../../src/card/pkcs15/pkcs15-reader.js';
import { Pkcs15Error } from '../../../src/card/pkcs15/pkcs15-error.js';
import { KeyUsageFlags, KeyAccessFlags } from '../../../src/card/pkcs15/schema/common-attributes.js';
import { PinFlags } from '../../../src/card/pkcs15/schema/auth-object.js';
import { fromHex, toHex } from '../../../src/common/hex.js';

// Fixtures: the file systems OpenSC 0.23's pkcs15-init wrote on the emulated MyEID
// (test/fixtures/myeid/capture.sh), one per profile; *.pkcs15-tool-D.txt is what OpenSC read back.
const FIX = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'test', 'fixtures', 'myeid');
interface Fixture { files: Record<string, { type: string; data?: string }> }
const load = (name: string): Fixture => JSON.parse(readFileSync(join(FIX, `${name}.json`), 'utf8')) as Fixture;

/** A file source over a fixture, with optional edits: path hex → content hex (null = delete). */
function source(f: Fixture, edits: Record<string, string | null> = {}): Pkcs15FileSource & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async readEf(path) {
      const key = toHex(path);
      reads.push(key);
      if (key in edits) return edits[key] === null ? undefined : fromHex(edits[key]!);
      const e = f.files[key];
      return e && e.type === 'ef' ? fromHex(e.data!) : undefined;
    },
  };
}

/** An xDF content: entries concatenated, padded with zeros to `size` as the fixed-size EFs are. */
function padded(hexEntries: string, size: number): string {
  return hexEntries + '00'.repeat(size - hexEntries.length / 2);
}

const pkcs15Tool = (name: string) => readFileSync(join(FIX, `${name}.pkcs15-tool-D.txt`), 'utf8');

test('onepin profile: application, TokenInfo, PINs, key, public key and certificate as OpenSC wrote them', async () => {
  const f = load('onepin');
  const app = await readPkcs15Application(source(f));
  assert.deepEqual(app.problems, []);
  assert.equal(toHex(app.path), '3F005015');
  assert.equal(toHex(app.aid!), 'A000000063504B43532D3135');
  assert.equal(app.tokenInfo!.label, 'MyEID onepin');
  assert.equal(app.tokenInfo!.manufacturer, 'Aventra Ltd.');
  assert.match(pkcs15Tool('onepin'), new RegExp(`Serial number  : ${toHex(app.tokenInfo!.serial).toLowerCase()}`));
  assert.deepEqual(
    app.directories.map((d) => `${d.kind}:${toHex(d.file.path)}`),
    ['prkdf:3F0050154402', 'pukdf:3F0050154404', 'skdf:3F0050154407', 'cdf:3F0050154403', 'trustedCdf:3F0050154405', 'dodf:3F0050154406', 'aodf:3F0050154401'],
  );
  assert.deepEqual(
    app.pins.map((p) => [p.label, toHex(p.authId), p.reference, p.so, p.minLength, p.maxLength, p.storedLength, p.padChar, p.pinType]),
    [
      ['Security Officer PIN', 'FF', 3, true, 4, 8, 8, 0xff, 1],
      ['User PIN', '01', 1, false, 4, 8, 8, 0xff, 1],
    ],
  );
  assert.ok(app.pins[1]!.flags & PinFlags.needsPadding);
  assert.equal(app.privateKeys.length, 1);
  const k = app.privateKeys[0]!;
  const text = pkcs15Tool('onepin');
  assert.equal(k.kind, 'rsa');
  assert.equal(k.size, 2048);
  assert.equal(k.keyReference, 1);
  assert.equal(toHex(k.path!), '3F0050154B01');
  assert.equal(k.pin?.label, 'User PIN');
  assert.ok(k.usage & KeyUsageFlags.sign);
  assert.ok(k.accessFlags! & KeyAccessFlags.local);
  assert.match(text, new RegExp(`Private RSA Key \\[${k.label}\\][\\s\\S]*?ID             : ${toHex(k.id).toLowerCase()}`));
  // OpenSC's native iD for an RSA key is the SHA-1 of the modulus (pkcs15-pubkey.c `sc_pkcs15_get_object_id`).
  const pub = createPublicKey(readFileSync(join(FIX, 'onepin-rsa-public.pem')));
  const rsaPublicKey = pub.export({ type: 'pkcs1', format: 'der' });
  const modulus = Buffer.from(pub.export({ format: 'jwk' }).n!, 'base64url');
  assert.equal(toHex(k.id), toHex(createHash('sha1').update(modulus).digest()));
  assert.equal(app.publicKeys.length, 1);
  const pk = app.publicKeys[0]!;
  assert.deepEqual(pk.id, k.id);
  assert.ok('file' in pk.value);
  const pkBytes = trimDer(await readReference(source(f), (pk.value as { file: never }).file, 'PuKDF', undefined));
  assert.equal(toHex(pkBytes), toHex(new Uint8Array(rsaPublicKey)));
  assert.equal(app.certificates.length, 1);
  const c = app.certificates[0]!;
  assert.equal(c.label, 'CA cert');
  assert.deepEqual(c.id, k.id);
  const der = trimDer(await readReference(source(f), (c.value as { file: never }).file, 'CDF', undefined));
  const x = new X509Certificate(der);
  assert.equal(x.publicKey.export({ type: 'pkcs1', format: 'der' }).toString('hex'), rsaPublicKey.toString('hex'));
  assert.equal(x.raw.toString('hex'), new X509Certificate(readFileSync(join(FIX, 'onepin-certificate.pem'))).raw.toString('hex'));
});

test('default profile: RSA and EC keys, EC public key as SPKI, both mapped to the user PIN', async () => {
  const app = await readPkcs15Application(source(load('default')));
  assert.deepEqual(app.problems, []);
  assert.deepEqual(
    app.privateKeys.map((k) => [k.kind, k.label, k.size, k.keyReference, toHex(k.path!), k.pin?.reference]),
    [
      ['rsa', 'RSA key', 2048, 1, '3F0050154B01', 1],
      ['ec', 'EC key', 256, 2, '3F0050154B02', 1],
    ],
  );
  const text = pkcs15Tool('default');
  for (const k of app.privateKeys) assert.ok(text.includes(`ID             : ${toHex(k.id).toLowerCase()}`));
  assert.deepEqual(app.publicKeys.map((p) => [p.kind, p.label, toHex((p.value as { file: { path: Uint8Array } }).file.path)]), [
    ['rsa', 'RSA key', '3F0050155501'],
    ['ec', 'EC key', '3F0050155502'],
  ]);
});

const PRKDF = '3F0050154402';
const ODF = '3F0050155031';

test('bad input: a dangling key path is reported against the ODF entry; the PINs stay readable', async () => {
  const f = load('onepin');
  // ODF with the PrKDF path changed to 4499, which does not exist.
  const odf = f.files[ODF]!.data!.replace('A00A300804063F0050154402', 'A00A300804063F0050154499');
  const app = await readPkcs15Application(source(f, { [ODF]: odf }));
  assert.equal(app.privateKeys.length, 0);
  assert.equal(app.pins.length, 2);
  assert.equal(app.certificates.length, 1);
  const p = app.problems.find((e) => e.code === 'CARD_PKCS15_DANGLING_PATH');
  assert.ok(p instanceof Pkcs15Error);
  assert.match(p.message, /PRKDF 3F0050154499.*3F0050154499, which does not exist/);
});

test('bad input: unknown object types in the ODF and in a PrKDF are named and skipped', async () => {
  const f = load('onepin');
  const prkdf = f.files[PRKDF]!.data!.replace(/0+$/, '');
  // A secret-key-like [4] object in the PrKDF before the real key; an ODF entry with tag AF.
  const odf = 'AF0A300804063F0050154402' + f.files[ODF]!.data!;
  const app = await readPkcs15Application(source(f, { [PRKDF]: padded('A4053003040101' + prkdf, 1530), [ODF]: odf.slice(0, 510) }));
  assert.equal(app.privateKeys.length, 1, 'the real key is still listed');
  const codes = app.problems.map((e) => [e.code, e.file, e.object]);
  assert.deepEqual(codes, [
    ['CARD_PKCS15_UNKNOWN_OBJECT', 'ODF 3F0050155031', 'entry 0 (tag AF)'],
    ['CARD_PKCS15_UNKNOWN_OBJECT', 'PRKDF 3F0050154402', 'entry 0 (tag A4)'],
  ]);
});

test('bad input: oversized and cyclic references', async () => {
  const f = load('onepin');
  // PrKDF path with index 0 and length 4000 (> the 1530-byte EF); the AODF pointing at the ODF itself.
  const odf = 'A011300F04063F005015440202010080020FA0' + 'A80A300804063F0050155031' + 'A40A300804063F0050154403';
  const app = await readPkcs15Application(source(f, { [ODF]: padded(odf, 255) }));
  assert.deepEqual(app.problems.map((e) => e.code), ['CARD_PKCS15_REFERENCE_CYCLE', 'CARD_PKCS15_REFERENCE_TOO_LARGE']);
  assert.match(app.problems[1]!.message, /bytes 0\.\.4000 but the EF holds 1530/);
  assert.equal(app.certificates.length, 1, 'the CDF is still read');
  // A length beyond any EF is refused before reading.
  await assert.rejects(
    readReference(source(f), { path: fromHex(PRKDF), index: 0, length: 0x10000 }, 'PrKDF', 'entry 0'),
    (e: Pkcs15Error) => e.code === 'CARD_PKCS15_REFERENCE_TOO_LARGE' && e.object === 'entry 0',
  );
});

test('bad input: a key whose authId matches no PIN object is listed with a typed problem', async () => {
  const f = load('onepin');
  // Drop the user PIN (authId 01) from the AODF: keep only the SO PIN entry.
  const aodf = f.files['3F0050154401']!.data!;
  const first = aodf.slice(0, (2 + parseInt(aodf.slice(2, 4), 16)) * 2);
  const app = await readPkcs15Application(source(f, { '3F0050154401': padded(first, 255) }));
  assert.equal(app.privateKeys.length, 1);
  assert.equal(app.privateKeys[0]!.pin, undefined);
  const p = app.problems.find((e) => e.code === 'CARD_PKCS15_KEY_WITHOUT_PIN')!;
  assert.equal(p.file, 'PRKDF 3F0050154402');
  assert.match(p.object!, /entry 0 \(label "CA cert", iD [0-9a-f]{40}\)/);
  assert.match(p.message, /authId 01 matches no PIN/);
});

test('bad input: truncated entries and a missing ODF are typed errors, never a crash', async () => {
  const f = load('onepin');
  const app = await readPkcs15Application(source(f, { [PRKDF]: '3082FFFF3000' }));
  assert.deepEqual(app.problems.map((e) => e.code), ['CARD_PKCS15_MALFORMED']);
  assert.equal(app.pins.length, 2);
  await assert.rejects(readPkcs15Application(source(f, { [ODF]: null })), (e: Pkcs15Error) => e.code === 'CARD_PKCS15_NO_APPLICATION');
});
