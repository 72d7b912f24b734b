import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { MyeidCard } from '../../../src/card/emulator/myeid-card.js';
import { factoryMyeidState, type MyeidStateData } from '../../../src/card/emulator/myeid-state.js';
import { pinRecord } from '../../../src/card/emulator/card-state.js';
import { InProcessTransport } from '../../../src/card/transport/in-process-transport.js';
import { DriverCardSession } from '../../../src/card/card-session-impl.js';
import { ApduChannel } from '../../../src/card/apdu/apdu-channel.js';
import { MyeidDriver, historicalBytes, myeidDriverFactory } from '../../../src/card/drivers/myeid/myeid-driver.js';
import { readPkcs15Application } from '../../../src/card/pkcs15/pkcs15-reader.js';
import { encodeMyeidCertificateEntry, encodeMyeidPrivateKeyEntry, encodeMyeidPublicKeyEntry } from '../../../src/card/drivers/myeid/myeid-pkcs15-entries.js';
import { fromHex, toHex } from '../../../src/common/hex.js';
import type { SignatureAlgorithm } from '../../../src/crypto/signer.js';

const FIX = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'test', 'fixtures', 'myeid');
const fixture = (name: string) => JSON.parse(readFileSync(join(FIX, `${name}.json`), 'utf8')) as { files: MyeidStateData['files'] };
const PIN = Buffer.from('123456');
const padded = (s: string) => Uint8Array.from([...Buffer.from(s), ...new Array(8 - s.length).fill(0xff)]);

/** The onepin fixture's file system without its key, public key and certificate: pkcs15-init's structure, keys still to make. */
function personalisedState(): MyeidStateData {
  const s = factoryMyeidState(new Date('2026-01-01T00:00:00Z'));
  const files = structuredClone(fixture('onepin').files);
  for (const p of ['3F0050154B01', '3F0050155501', '3F0050154301']) delete files[p];
  for (const p of ['3F0050154402', '3F0050154404', '3F0050154403']) files[p]!.data = '00'.repeat(files[p]!.size);
  s.files = files;
  s.lifeCycle = 'operational';
  s.pins = { '1': { pin: pinRecord(padded('123456'), 3), puk: pinRecord(padded('12345678'), 10) }, '3': { pin: pinRecord(padded('87654321'), 3), puk: pinRecord(padded('12345678'), 10) } };
  return s;
}

async function session(card: MyeidCard): Promise<DriverCardSession> {
  return DriverCardSession.open(new InProcessTransport(card, { readerName: 'unit' }));
}

test('ATR: historical bytes and driver match; the emulator is reported emulated', async () => {
  const card = new MyeidCard({ state: personalisedState() });
  assert.equal(Buffer.from(historicalBytes(card.atr())).toString(), 'cardcaEMUMyEID');
  assert.equal(myeidDriverFactory.matchAtr(card.atr()), true);
  // A real MyEID ATR (3B F5 18 00 00 81 31 FE 45 "MyEID" 9A) matches too but is not emulated.
  assert.equal(myeidDriverFactory.matchAtr(fromHex('3BF518000081 31FE454D7945494 49A'.replace(/ /g, ''))), true);
  const s = await session(card);
  assert.equal(s.info.driver, 'myeid');
  assert.equal(s.info.serial, card.serial);
  assert.equal(s.info.version, '4.5');
  assert.equal(s.info.label, 'MyEID onepin');
  assert.equal(s.info.manufacturer, 'Aventra Ltd.');
  assert.match(s.info.emulated ?? '', /cardcaEMUMyEID/);
  await s.close();
});

test('PINs: tries-left query, wrong PIN costs a try, logout, blocked', async () => {
  const card = new MyeidCard({ state: personalisedState() });
  const s = await session(card);
  assert.deepEqual(await s.pinStatus(), { state: 'not-verified', triesLeft: 3 });
  // The unblock credential is the PIN record's PUK: no query spends no try, so tries unknown
  // (not the SO-PIN's, which unblocks nothing).
  assert.deepEqual(await s.soPinStatus(), { state: 'not-verified', triesLeft: undefined });
  await assert.rejects(s.verifyPin(Buffer.from('000000')), (e: { code: string; triesLeft?: number }) => e.code === 'PIN_INCORRECT' && e.triesLeft === 2);
  await s.verifyPin(PIN);
  assert.equal((await s.pinStatus()).state, 'verified');
  const driver = new MyeidDriver(new ApduChannel(new InProcessTransport(card)));
  await driver.logout();
  assert.deepEqual(await driver.pinStatus(), { state: 'not-verified', triesLeft: 3 });
  await s.close();
});

test('keygen writes PrKDF/PuKDF like pkcs15-init; signing needs the PIN; RSA PKCS#1, PSS and ECDSA verify', async () => {
  const card = new MyeidCard({ state: personalisedState() });
  const s = await session(card);
  await s.verifyPin(PIN);
  const rsa = await s.generateKey({ label: 'servers CA', algorithm: 'rsa2048' });
  const ec = await s.generateKey({ label: 'users CA', algorithm: 'p256' });
  // OpenSC's native iDs: SHA-1 of the modulus / of the EC point.
  const jwk = createPublicKey({ key: Buffer.from(rsa.publicKey), format: 'der', type: 'spki' }).export({ format: 'jwk' });
  assert.equal(rsa.id, toHex(createHash('sha1').update(Buffer.from(jwk.n!, 'base64url')).digest()));
  const snap = card.snapshot();
  assert.ok(snap.files['3F0050154B01']?.key && snap.files['3F0050154B02']?.key);
  assert.equal(snap.files['3F0050154B01']!.acl, '1111FF');
  assert.equal(snap.files['3F0050155501']!.acl, '011FFF');
  // The PrKDF/PuKDF entries are exactly what the encoder gives for these fields (checked against OpenSC's bytes below).
  const app = await readPkcs15Application({ readEf: async (p) => { const f = card.snapshot().files[toHex(p)]; return f?.data ? fromHex(f.data) : undefined; } });
  assert.deepEqual(app.problems, []);
  assert.deepEqual(app.privateKeys.map((k) => [k.label, k.kind, toHex(k.path!), k.keyReference, k.pin?.reference]), [
    ['servers CA', 'rsa', '3F0050154B01', 1, 1],
    ['users CA', 'ec', '3F0050154B02', 2, 1],
  ]);
  const keys = await s.listKeys();
  assert.deepEqual(keys.map((k) => [k.id, k.label, k.algorithm]), [[rsa.id, 'servers CA', 'rsa2048'], [ec.id, 'users CA', 'p256']]);
  const tbs = Buffer.from('to be signed');
  for (const [id, alg] of [[rsa.id, 'rsa-pkcs1-sha256'], [rsa.id, 'rsa-pss-sha256'], [ec.id, 'ecdsa-sha256']] as const) {
    const signer = await s.signer(id);
    const sig = await signer.sign(tbs, alg as SignatureAlgorithm);
    const pub = createPublicKey({ key: Buffer.from(keys.find((k) => k.id === id)!.publicKey), format: 'der', type: 'spki' });
    const ok = alg === 'rsa-pss-sha256' ? nodeVerify('sha256', tbs, { key: pub, padding: 6, saltLength: 32 }, sig) : nodeVerify('sha256', tbs, pub, sig);
    assert.ok(ok, `${alg} verifies`);
  }
  assert.equal(card.signatureCount, 3);
  await s.close();
  // A new session without VERIFY: the key EF's CRYPTO ACL refuses (6982).
  const s2 = await session(card);
  const signer = await s2.signer(rsa.id);
  await assert.rejects(signer.sign(tbs, 'rsa-pkcs1-sha256'), /6982/);
  await s2.close();
});

test('before v4.5 a 2048-bit raw signature goes as two DECIPHER halves; chaining is refused', async () => {
  const state = personalisedState();
  state.version = [4, 0, 1];
  const card = new MyeidCard({ state });
  const s = await session(card);
  await s.verifyPin(PIN);
  const k = await s.generateKey({ label: 'old card', algorithm: 'rsa2048' });
  const sig = await (await s.signer(k.id)).sign(Buffer.from('x'), 'rsa-pkcs1-sha256');
  assert.ok(nodeVerify('sha256', Buffer.from('x'), createPublicKey({ key: Buffer.from(k.publicKey), format: 'der', type: 'spki' }), sig));
  assert.deepEqual([...(await card.process(fromHex('102A9E9A0100')))], [0x68, 0x84]);
  await s.close();
});

test('certificate write-back adds a CDF entry and an EF 43xx; a foreign certificate is refused', async () => {
  const card = new MyeidCard({ state: personalisedState() });
  const s = await session(card);
  await s.verifyPin(PIN);
  const k = await s.generateKey({ label: 'CA cert', algorithm: 'rsa2048' });
  const foreign = readFileSync(join(FIX, 'onepin-certificate.pem'), 'utf8');
  const der = Buffer.from(foreign.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  await assert.rejects(s.writeCertificate(k.id, der), (e: { code: string }) => e.code === 'CARD_CERT_KEY_MISMATCH');
  assert.equal(card.snapshot().files['3F0050154301'], undefined, 'nothing written');
  await s.close();
});

test('entry encoders reproduce the bytes OpenSC pkcs15-init wrote (default profile fixture)', async () => {
  const f = fixture('default').files;
  const entries = (p: string) => {
    const d = fromHex(f[p]!.data!);
    const out: string[] = [];
    let off = 0;
    while (off < d.length && d[off] !== 0) {
      const len = d[off + 1]! & 0x80 ? (d[off + 2]! ) + 3 : d[off + 1]! + 2;
      out.push(toHex(d.subarray(off, off + len)));
      off += len;
    }
    return out;
  };
  const app = await readPkcs15Application({ readEf: async (p) => { const e = f[toHex(p)]; return e?.data ? fromHex(e.data) : undefined; } });
  const prk = app.privateKeys.map((k) => toHex(encodeMyeidPrivateKeyEntry({ kind: k.kind, label: k.label!, id: k.id, path: k.path!, size: k.size!, authId: k.authId!, keyReference: k.keyReference! })));
  assert.deepEqual(prk, entries('3F0050154402'));
  const puk = app.publicKeys.map((k, i) => toHex(encodeMyeidPublicKeyEntry({ kind: k.kind, label: k.label!, id: k.id, path: (k.value as { file: { path: Uint8Array } }).file.path, size: app.privateKeys[i]!.size! })));
  assert.deepEqual(puk, entries('3F0050154404'));
  const onepin = fixture('onepin').files;
  const cdf = fromHex(onepin['3F0050154403']!.data!);
  const c = (await readPkcs15Application({ readEf: async (p) => { const e = onepin[toHex(p)]; return e?.data ? fromHex(e.data) : undefined; } })).certificates[0]!;
  const enc = encodeMyeidCertificateEntry({ label: c.label!, id: c.id, path: (c.value as { file: { path: Uint8Array } }).file.path });
  assert.equal(toHex(enc), toHex(cdf.subarray(0, enc.length)));
});

test('P-384 keys sign ECDSA-SHA384; a key file whose ACL never allows use is listed as not usable, other keys stay usable', async () => {
  const card = new MyeidCard({ state: personalisedState() });
  const s = await session(card);
  await s.verifyPin(PIN);
  const k384 = await s.generateKey({ label: 'p384 CA', algorithm: 'p384' });
  const k256 = await s.generateKey({ label: 'p256 CA', algorithm: 'p256' });
  const sig = await (await s.signer(k384.id)).sign(Buffer.from('x'), 'ecdsa-sha384');
  assert.ok(nodeVerify('sha384', Buffer.from('x'), createPublicKey({ key: Buffer.from(k384.publicKey), format: 'der', type: 'spki' }), sig));
  await s.close();
  const state = card.snapshot();
  state.files['3F0050154B01']!.acl = 'F111FF'; // CRYPTO = never
  const locked = new MyeidCard({ state });
  const driver = new MyeidDriver(new ApduChannel(new InProcessTransport(locked)));
  const entries = await driver.listKeyEntries();
  assert.deepEqual(entries.map((e) => [e.label, e.usable]), [['p384 CA', false], ['p256 CA', true]]);
  assert.match(entries[0]!.problems.join(' '), /PKCS#15 PRKDF 3F0050154402 entry 0 \(label "p384 CA"\): the access rules of key file 3F0050154B01 never allow its use/);
  assert.deepEqual((await driver.listKeys()).map((k) => k.id), [k256.id]);
});

/** What OpenSC 0.23's `pkcs15-init --store-data F --auth-id 01 --label "cardca checkpoint" --application-name cardca` wrote into DODF 4406 on the emulator. */
const OPENSC_DODF_ENTRY = '3032301A0C1163617264636120636865636B706F696E74030206C004010130080C06636172646361A10A300804063F0050154501';

test('data objects: written as pkcs15-init --store-data writes them (DODF entry byte for byte, EF 45xx READ=$PIN), rewritten without losing the old value first', async () => {
  const card = new MyeidCard({ state: personalisedState() });
  const s = await session(card);
  assert.equal(await s.readDataObject(0xca, 'cardca checkpoint'), undefined);
  await s.verifyPin(PIN);
  await s.writeDataObject(0xca, Buffer.from('first checkpoint'), 'cardca checkpoint');
  let snap = card.snapshot();
  assert.equal(snap.files['3F0050154406']!.data!.slice(0, OPENSC_DODF_ENTRY.length), OPENSC_DODF_ENTRY);
  assert.equal(snap.files['3F0050154501']!.acl, '111FFF');
  assert.equal(snap.files['3F0050154501']!.size, 16);
  assert.equal(Buffer.from(fromHex(snap.files['3F0050154501']!.data!)).toString(), 'first checkpoint');
  // The reader parses what OpenSC wrote.
  const app = await readPkcs15Application({ readEf: async (p) => { const e = snap.files[toHex(p)]; return e?.data ? fromHex(e.data) : undefined; } });
  assert.deepEqual(app.dataObjects.map((d) => [d.label, d.applicationName, toHex(d.authId!), toHex((d.value as { file: { path: Uint8Array } }).file.path)]), [['cardca checkpoint', 'cardca', '01', '3F0050154501']]);

  await s.writeDataObject(0xca, Buffer.from('the second, longer checkpoint'), 'cardca checkpoint');
  snap = card.snapshot();
  assert.equal(snap.files['3F0050154501'], undefined, 'the old EF is gone');
  assert.equal(snap.files['3F0050154502']!.size, 29);
  assert.equal(Buffer.from((await s.readDataObject(0xca, 'cardca checkpoint'))!).toString(), 'the second, longer checkpoint');
  const again = await readPkcs15Application({ readEf: async (p) => { const e = snap.files[toHex(p)]; return e?.data ? fromHex(e.data) : undefined; } });
  assert.equal(again.dataObjects.length, 1, 'one DODF entry, rewritten in place');
  // Another label is another object; a label nobody wrote reads as none.
  assert.equal(await s.readDataObject(0xca, 'something else'), undefined);
  await s.close();

  // Without the PIN the card refuses to read it (the EF's READ right is the user PIN).
  const fresh = await session(card);
  await assert.rejects(fresh.readDataObject(0xca, 'cardca checkpoint'), (e: { code?: string }) => typeof e.code === 'string');
  await fresh.close();
});

test('unblock: a PUK outside 4–8 characters (a SmartCard-HSM SO-PIN typed by mistake) is a typed error before the card is asked, and spends no PUK try', async () => {
  const card = new MyeidCard({ state: personalisedState() });
  const s = await session(card);
  const before = card.snapshot().pins['1']!.puk.retries;
  await assert.rejects(s.unblockPin(Buffer.from('3537363231383830'), Buffer.from('123456')), (e: { code?: string; message: string }) => e.code === 'PIN_LENGTH' && /PUK/.test(e.message) && !e.message.includes('3537'));
  await assert.rejects(s.unblockPin(Buffer.from('123'), Buffer.from('123456')), (e: { code?: string }) => e.code === 'PIN_LENGTH');
  assert.equal(card.snapshot().pins['1']!.puk.retries, before);
  await s.unblockPin(Buffer.from('12345678'), Buffer.from('654321'));
  await s.verifyPin(Buffer.from('654321'));
  await s.close();
});

test('applet capabilities (GET DATA 01 AA) bound key generation before any file is made; before 4.0 EC stops at 256 bits as in OpenSC', async () => {
  // A 4.x applet that says ECC up to 256 only.
  const small = personalisedState();
  small.capabilities = '0100090800000000000100';
  const card = new MyeidCard({ state: small });
  const s = await session(card);
  await s.verifyPin(PIN);
  await assert.rejects(s.generateKey({ label: 'big', algorithm: 'p384' }), (e: { code?: string; message: string }) => e.code === 'CARD_ALGORITHM_UNSUPPORTED' && /up to 256 bits/.test(e.message));
  assert.equal(card.snapshot().files['3F0050154B01'], undefined, 'no key EF left behind');
  assert.equal((await s.generateKey({ label: 'ok', algorithm: 'p256' })).algorithm, 'p256');
  await s.close();
  // A 3.5 applet: no capabilities query (the emulator refuses it), defaults RSA 2048 and EC 256.
  const old = personalisedState();
  old.version = [3, 5, 0];
  const oldCard = new MyeidCard({ state: old });
  const o = await session(oldCard);
  await o.verifyPin(PIN);
  await assert.rejects(o.generateKey({ label: 'big', algorithm: 'p384' }), (e: { code?: string }) => e.code === 'CARD_ALGORITHM_UNSUPPORTED');
  assert.equal((await o.generateKey({ label: 'ok', algorithm: 'p256' })).algorithm, 'p256');
  await o.close();
  // The default emulated 4.5 applet (ECC 384) makes P-384 keys.
  const full = new MyeidCard({ state: personalisedState() });
  const f = await session(full);
  await f.verifyPin(PIN);
  assert.equal((await f.generateKey({ label: 'p384', algorithm: 'p384' })).algorithm, 'p384');
  await f.close();
});
