import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify as nodeVerify, constants } from 'node:crypto';
import { ScHsmCard } from '../../../src/card/emulator/sc-hsm-card.js';
import { InProcessTransport } from '../../../src/card/transport/in-process-transport.js';
import { DriverCardSession } from '../../../src/card/card-session-impl.js';
import { PinError } from '../../../src/card/errors.js';
import type { SignatureAlgorithm } from '../../../src/crypto/signer.js';
import { ScHsmDriver } from '../../../src/card/drivers/sc-hsm-driver.js';

const SO_PIN = Buffer.from('3537363231383830', 'hex');
const USER_PIN = Buffer.from('648219');

async function freshSession(card = new ScHsmCard()): Promise<{ card: ScHsmCard; session: DriverCardSession }> {
  const session = await DriverCardSession.open(new InProcessTransport(card, { readerName: 'unit' }));
  return { card, session };
}

async function initialisedSession(): Promise<{ card: ScHsmCard; session: DriverCardSession }> {
  const s = await freshSession();
  await s.session.initialize({ soPin: SO_PIN, userPin: USER_PIN, retries: 3, label: 'unit CA' });
  return s;
}

test('a factory-fresh card is found by the sc-hsm driver and reports not initialised', async () => {
  const { card, session } = await freshSession();
  assert.equal(session.info.driver, 'sc-hsm');
  assert.equal(session.info.serial, card.serial);
  assert.equal(session.info.initialized, false);
  assert.equal((await session.pinStatus()).state, 'not-initialized');
});

test('init sets the label, PIN tries and SO-PIN tries; status queries spend no try', async () => {
  const { card, session } = await initialisedSession();
  const reopened = await DriverCardSession.open(new InProcessTransport(card));
  assert.equal(reopened.info.initialized, true);
  assert.equal(reopened.info.label, 'unit CA');
  for (let i = 0; i < 3; i++) assert.deepEqual(await reopened.pinStatus(), { state: 'not-verified', triesLeft: 3 });
  assert.equal((await reopened.soPinStatus()).triesLeft, 15);
  await session.close();
});

test('a wrong PIN lowers tries by one and reports how many remain; the right PIN restores them', async () => {
  const { session } = await initialisedSession();
  await assert.rejects(session.verifyPin(Buffer.from('000000')), (e: unknown) => e instanceof PinError && e.triesLeft === 2 && e.code === 'PIN_INCORRECT');
  assert.deepEqual(await session.pinStatus(), { state: 'not-verified', triesLeft: 2 });
  await session.verifyPin(USER_PIN);
  assert.equal((await session.pinStatus()).state, 'verified');
});

test('a blocked PIN says so and is unblocked with the SO-PIN', async () => {
  const { session } = await initialisedSession();
  for (let i = 0; i < 3; i++) await assert.rejects(session.verifyPin(Buffer.from('000000')));
  assert.equal((await session.pinStatus()).state, 'blocked');
  await assert.rejects(session.verifyPin(USER_PIN), (e: unknown) => e instanceof PinError && e.code === 'PIN_BLOCKED');
  await session.unblockPin(SO_PIN, Buffer.from('123456'));
  await session.verifyPin(Buffer.from('123456'));
  await session.changePin(Buffer.from('123456'), USER_PIN);
  await session.verifyPin(USER_PIN);
});

const CASES: Array<[import('../../../src/crypto/signer.js').KeyAlgorithm, SignatureAlgorithm[]]> = [
  ['p256', ['ecdsa-sha256']],
  ['p384', ['ecdsa-sha384']],
  ['p521', ['ecdsa-sha512']],
  ['rsa2048', ['rsa-pkcs1-sha256', 'rsa-pss-sha256', 'rsa-pkcs1-sha512']],
  ['rsa3072', ['rsa-pkcs1-sha384', 'rsa-pss-sha384']],
  ['rsa4096', ['rsa-pkcs1-sha512', 'rsa-pss-sha512']],
];

for (const [keyAlg, sigAlgs] of CASES) {
  test(`keygen ${keyAlg}: listed with label and SHA-1 iD, signs ${sigAlgs.join(', ')} in one exchange each`, async () => {
    const { session } = await initialisedSession();
    await session.verifyPin(USER_PIN);
    const k = await session.generateKey({ label: `key-${keyAlg}`, algorithm: keyAlg });
    assert.match(k.id, /^[0-9A-F]{40}$/);
    const listed = await session.listKeys();
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.id, k.id);
    assert.equal(listed[0]!.label, `key-${keyAlg}`);
    assert.equal(listed[0]!.algorithm, keyAlg);
    assert.deepEqual(listed[0]!.publicKey, k.publicKey);
    const signer = await session.signer(k.id);
    const tbs = Buffer.from(`to be signed by ${keyAlg}`);
    for (const alg of sigAlgs) {
      const before = session.channel.exchanges;
      const sig = await signer.sign(tbs, alg);
      assert.equal(session.channel.exchanges - before, 1, 'exactly one SIGN exchange');
      const pub = createPublicKey({ key: Buffer.from(k.publicKey), format: 'der', type: 'spki' });
      const hash = alg.endsWith('256') ? 'sha256' : alg.endsWith('384') ? 'sha384' : 'sha512';
      const opts = alg.startsWith('rsa-pss')
        ? { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: hash === 'sha256' ? 32 : hash === 'sha384' ? 48 : 64 }
        : alg.startsWith('rsa')
          ? { key: pub, padding: constants.RSA_PKCS1_PADDING }
          : { key: pub, dsaEncoding: 'der' as const };
      assert.equal(nodeVerify(hash, tbs, opts, sig), true, `${alg} verifies`);
    }
  });
}

test('signing without the PIN fails with PIN_REQUIRED', async () => {
  const { card, session } = await initialisedSession();
  await session.verifyPin(USER_PIN);
  const k = await session.generateKey({ label: 'k', algorithm: 'p256' });
  const s2 = await DriverCardSession.open(new InProcessTransport(card));
  const signer = await s2.signer(k.id);
  await assert.rejects(signer.sign(Buffer.from('x'), 'ecdsa-sha256'), (e: unknown) => (e as { code?: string }).code === 'PIN_REQUIRED');
});

test('a certificate written next to a key replaces the CV request and is listed; deleteKey removes the key', async () => {
  const { session } = await initialisedSession();
  await session.verifyPin(USER_PIN);
  const k = await session.generateKey({ label: 'k', algorithm: 'p256' });
  const { selfSignedForTest } = await import('./helpers/self-signed.js');
  const cert = await selfSignedForTest(await session.signer(k.id), 'CN=unit');
  await session.writeCertificate(k.id, cert);
  const [listed] = await session.listKeys();
  assert.deepEqual(listed!.certificate, cert);
  assert.equal(listed!.id, k.id);
  await session.deleteKey(k.id);
  assert.deepEqual(await session.listKeys(), []);
  assert.ok(session.driver instanceof ScHsmDriver);
});
