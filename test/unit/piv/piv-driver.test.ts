import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { PivCard } from '../../../src/card/emulator/piv-card.js';
import { InProcessTransport } from '../../../src/card/transport/in-process-transport.js';
import { DriverCardSession } from '../../../src/card/card-session-impl.js';
import { CardError, PinError } from '../../../src/card/errors.js';
import { verifySignature } from '../../../src/crypto/algorithms.js';
import type { KeyAlgorithm, SignatureAlgorithm } from '../../../src/crypto/signer.js';
import { FACTORY } from '../../../src/card/piv/piv-constants.js';
import { factoryPivState } from '../../../src/card/emulator/piv-state.js';

const MGMT = () => Buffer.from(FACTORY.managementKey, 'hex');
const PIN = () => Buffer.from(FACTORY.pin);

async function open(card = new PivCard()): Promise<{ card: PivCard; s: DriverCardSession }> {
  return { card, s: await DriverCardSession.open(new InProcessTransport(card, { readerName: 'unit' })) };
}

test('a factory PIV token is found by the piv driver with its YubiKey serial and firmware', async () => {
  const { card, s } = await open();
  assert.equal(s.info.driver, 'piv');
  assert.equal(s.info.serial, card.serial);
  assert.equal(s.info.version, '5.4.3');
  assert.equal(s.info.initialized, false);
  assert.deepEqual(await s.pinStatus(), { state: 'not-verified', triesLeft: 3 });
  assert.deepEqual(await s.soPinStatus(), { state: 'not-verified', triesLeft: 3 });
  assert.deepEqual(await s.listKeys(), []);
});

test('wrong PIN costs exactly one try; the status query spends none; the right PIN restores the count', async () => {
  const { card, s } = await open();
  for (let i = 0; i < 3; i++) assert.equal((await s.pinStatus()).triesLeft, 3);
  await assert.rejects(s.verifyPin(Buffer.from('000000')), (e: unknown) => e instanceof PinError && e.triesLeft === 2);
  assert.equal((await s.pinStatus()).triesLeft, 2);
  assert.equal(card.pinTriesLeft(), 2);
  await s.verifyPin(PIN());
  assert.equal((await s.pinStatus()).state, 'verified');
  assert.equal(card.pinTriesLeft(), 3);
});

test('a wrong management key is refused and generation stays impossible', async () => {
  const { card, s } = await open();
  const before = JSON.stringify(card.snapshot());
  const wrong = MGMT();
  wrong[0] ^= 0x10; // not the DES parity bit (bit 0), which 3DES ignores
  await assert.rejects(s.authenticateAdmin(wrong), (e: unknown) => e instanceof CardError && e.code === 'PIV_MGMT_KEY_WRONG');
  await assert.rejects(s.generateKey({ label: 'x', algorithm: 'p256' }), (e: unknown) => e instanceof CardError && e.code === 'PIV_MGMT_KEY_REQUIRED');
  assert.equal(JSON.stringify(card.snapshot()), before);
});

for (const [alg, sigs] of [
  ['p256', ['ecdsa-sha256', 'ecdsa-sha384']],
  ['p384', ['ecdsa-sha384', 'ecdsa-sha256']],
  ['rsa2048', ['rsa-pkcs1-sha256', 'rsa-pss-sha256', 'rsa-pss-sha512']],
] as [KeyAlgorithm, SignatureAlgorithm[]][]) {
  test(`${alg}: generated in slot 9c (PIN policy once), listed, signs ${sigs.join(', ')}`, async () => {
    const { s } = await open();
    await s.authenticateAdmin(MGMT());
    const k = await s.generateKey({ label: 'ignored', algorithm: alg, slot: 0x9c, pinPolicy: 'once' });
    assert.equal(k.id, '9C');
    assert.equal(k.algorithm, alg);
    const listed = await s.listKeys();
    assert.deepEqual(listed.map((x) => [x.id, x.algorithm]), [['9C', alg]]);
    assert.deepEqual(Buffer.from(listed[0]!.publicKey), Buffer.from(k.publicKey));
    await s.verifyPin(PIN());
    const signer = await s.signer('9c');
    for (const a of sigs) {
      const tbs = new TextEncoder().encode(`to be signed ${a}`);
      const sig = await signer.sign(tbs, a);
      assert.ok(verifySignature(k.publicKey, a, tbs, sig), a);
    }
  });
}

test('slot 9C with the YubiKey default PIN policy "always" needs a VERIFY before every signature', async () => {
  const { s } = await open();
  await s.authenticateAdmin(MGMT());
  await s.generateKey({ label: 'x', algorithm: 'p256', slot: 0x9c });
  await s.verifyPin(PIN());
  const signer = await s.signer('9C');
  await signer.sign(Uint8Array.of(1), 'ecdsa-sha256');
  await assert.rejects(signer.sign(Uint8Array.of(2), 'ecdsa-sha256'), (e: unknown) => e instanceof PinError && e.code === 'PIN_REQUIRED');
});

test('an occupied slot is not overwritten without overwrite; P-521 is refused as unsupported', async () => {
  const { s } = await open();
  await s.authenticateAdmin(MGMT());
  const first = await s.generateKey({ label: 'x', algorithm: 'p256', slot: 0x9a });
  await assert.rejects(s.generateKey({ label: 'x', algorithm: 'p384', slot: 0x9a }), (e: unknown) => e instanceof CardError && e.code === 'PIV_SLOT_OCCUPIED');
  assert.deepEqual(Buffer.from((await s.listKeys())[0]!.publicKey), Buffer.from(first.publicKey));
  await assert.rejects(s.generateKey({ label: 'x', algorithm: 'p521', slot: 0x9d }), (e: unknown) => e instanceof CardError && e.code === 'CARD_ALGORITHM_UNSUPPORTED');
  const again = await s.generateKey({ label: 'x', algorithm: 'p384', slot: 0x9a, overwrite: true });
  assert.equal(again.algorithm, 'p384');
});

test('a certificate written to a slot is read back, and an RSA-3072 key in a retired slot lists', async () => {
  // RSA-3072 needs YubiKey firmware 5.7 (the emulator refuses it on its default 5.4.3).
  const state = factoryPivState();
  state.version = [5, 7, 1];
  const { s } = await open(new PivCard({ state }));
  await s.authenticateAdmin(MGMT());
  const k = await s.generateKey({ label: 'x', algorithm: 'rsa3072', slot: 0x82 });
  assert.equal(k.id, '82');
  const att = await s.attest('82');
  const cert = new X509Certificate(att.certificate);
  const f9 = new X509Certificate(att.intermediate);
  assert.ok(cert.verify(f9.publicKey), 'attestation signed by F9');
  await s.writeCertificate('82', att.certificate);
  const listed = await s.listKeys();
  assert.deepEqual(Buffer.from(listed[0]!.certificate!), Buffer.from(att.certificate));
});

test('PUK: wrong PUK costs a try; RESET RETRY COUNTER with the PUK sets a new PIN; PIN change works', async () => {
  const { s } = await open();
  await assert.rejects(s.verifyPin(Buffer.from('999999')));
  await assert.rejects(s.unblockPin(Buffer.from('87654321'), Buffer.from('654321')), (e: unknown) => e instanceof PinError && e.code === 'PUK_INCORRECT' && e.triesLeft === 2);
  assert.equal((await s.soPinStatus()).triesLeft, 2);
  await s.unblockPin(Buffer.from(FACTORY.puk), Buffer.from('654321'));
  assert.equal((await s.pinStatus()).triesLeft, 3);
  await s.changePin(Buffer.from('654321'), Buffer.from('11223344'));
  await s.verifyPin(Buffer.from('11223344'));
});

test('init on PIV: new PIN, PUK and retries, CHUID written; a second init is refused', async () => {
  const { card, s } = await open();
  await s.authenticateAdmin(MGMT());
  await s.initialize({ soPin: Buffer.from('87654321'), userPin: Buffer.from('246810'), retries: 5, label: 'ignored' });
  const { s: again } = await open(card);
  assert.equal(again.info.initialized, true);
  assert.equal(again.info.serial, card.serial);
  assert.deepEqual(await again.pinStatus(), { state: 'not-verified', triesLeft: 5 });
  await again.verifyPin(Buffer.from('246810'));
  await again.authenticateAdmin(MGMT());
  await assert.rejects(again.initialize({ soPin: Buffer.from('87654321'), userPin: Buffer.from('246810'), retries: 5, label: 'x' }), (e: unknown) => e instanceof CardError && e.code === 'PIV_ALREADY_PERSONALISED');
});

test('PIV sends short APDUs with command chaining (CLA 10), never extended lengths: RSA-2048 signature and certificate write', async () => {
  const card = new PivCard();
  const sent: string[] = [];
  const s = await DriverCardSession.open(new InProcessTransport(card), { tracer: (dir, hex) => dir === '=>' && sent.push(hex) });
  await s.authenticateAdmin(MGMT());
  const k = await s.generateKey({ label: '', algorithm: 'rsa2048', slot: 0x9a });
  await s.verifyPin(PIN());
  const signer = await s.signer('9A');
  const tbs = Uint8Array.of(1, 2, 3);
  assert.ok(verifySignature(k.publicKey, 'rsa-pkcs1-sha256', tbs, await signer.sign(tbs, 'rsa-pkcs1-sha256')));
  assert.ok(sent.some((h) => h.startsWith('10 87 07 9A FF')), 'first part of the chained GENERAL AUTHENTICATE');
  // An extended APDU has 00 as its fifth byte and more bytes after it (ISO 7816-4 §5.1).
  const extended = sent.filter((h) => {
    const b = h.split(' ');
    return b.length > 5 && b[4] === '00';
  });
  assert.deepEqual(extended, [], 'no extended APDU');
});

test('the management key can be changed (to AES-128 here); afterwards the factory key is refused', async () => {
  const { card, s } = await open();
  await s.authenticateAdmin(MGMT());
  const aes = Buffer.from('00112233445566778899AABBCCDDEEFF', 'hex');
  await s.changeAdminKey(aes);
  const { s: again } = await open(card);
  await assert.rejects(again.authenticateAdmin(MGMT()), (e: unknown) => e instanceof CardError && e.code === 'PIV_MGMT_KEY_LENGTH');
  await assert.rejects(again.authenticateAdmin(Buffer.from('00112233445566778899AABBCCDDEEFE'.replace(/E$/, '0'), 'hex')), (e: unknown) => e instanceof CardError && e.code === 'PIV_MGMT_KEY_WRONG');
  await again.authenticateAdmin(aes);
  await again.generateKey({ label: '', algorithm: 'p256', slot: 0x9d });
});

test('SET MANAGEMENT KEY is redacted in --trace-apdu output and in the emulator APDU log', async () => {
  const { redactedCommandHex } = await import('../../../src/card/emulator/apdu-log.js');
  const card = new PivCard();
  const sent: string[] = [];
  const s = await DriverCardSession.open(new InProcessTransport(card), { tracer: (dir, hex) => dir === '=>' && sent.push(hex) });
  await s.authenticateAdmin(MGMT());
  const secret = Buffer.from('5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A', 'hex');
  await s.changeAdminKey(secret);
  const set = sent.find((h) => h.startsWith('00 FF FF FF'));
  assert.ok(set && /redacted/.test(set) && !set.includes('5A 5A'), set);
  assert.equal(redactedCommandHex(Uint8Array.from([0x00, 0xff, 0xff, 0xff, 0x13, 0x08, 0x9b, 0x10, ...secret])), '00FFFFFF<redacted>');
});
