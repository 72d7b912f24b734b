/**
 * Issue 12 emulator gaps, against the PIV driver in-process: a touch that never comes (a key
 * with touch policy always/cached and nobody at the token) fails as a YubiKey does, with 6982
 * after its wait, which the driver reports as PIV_TOUCH_TIMEOUT, not as a PIN problem; a wait
 * longer than the host's limit is CARD_TIMEOUT; RSA-3072/4096 are refused before firmware 5.7
 * (as YubiKey 5.4.3 refuses them) and generated from 5.7 on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PivCard } from '../../../src/card/emulator/piv-card.js';
import { factoryPivState } from '../../../src/card/emulator/piv-state.js';
import { InProcessTransport } from '../../../src/card/transport/in-process-transport.js';
import { DriverCardSession } from '../../../src/card/card-session-impl.js';
import { CardcaError } from '../../../src/common/cardca-error.js';
import { FACTORY } from '../../../src/card/piv/piv-constants.js';

const MGMT = () => Buffer.from(FACTORY.managementKey, 'hex');
const PIN = () => Buffer.from(FACTORY.pin);
const code = (c: string) => (e: unknown) => e instanceof CardcaError && e.code === c;

async function ready(card: PivCard, timeoutMs?: number): Promise<DriverCardSession> {
  const s = await DriverCardSession.open(new InProcessTransport(card, { readerName: 'unit' }), timeoutMs === undefined ? {} : { timeoutMs });
  await s.authenticateAdmin(MGMT());
  await s.verifyPin(PIN());
  return s;
}

test('touch policy always and nobody touches: PIV_TOUCH_TIMEOUT; the same key signs once touched; touch never is unaffected', async () => {
  const card = new PivCard({ touch: 'timeout' });
  const s = await ready(card);
  const touchy = await s.generateKey({ label: 'x', algorithm: 'p256', slot: 0x9a, touchPolicy: 'always', pinPolicy: 'once' });
  const cached = await s.generateKey({ label: 'x', algorithm: 'p256', slot: 0x9d, touchPolicy: 'cached', pinPolicy: 'once' });
  const calm = await s.generateKey({ label: 'x', algorithm: 'p256', slot: 0x9e, touchPolicy: 'never' });
  const digest = new Uint8Array(32).fill(7);
  for (const k of [touchy, cached]) await assert.rejects((await s.signer(k.id)).sign(digest, 'ecdsa-sha256'), code('PIV_TOUCH_TIMEOUT'));
  assert.ok((await (await s.signer(calm.id)).sign(digest, 'ecdsa-sha256')).length > 0, 'touch policy never signs without a touch');
  assert.equal(card.signatureCount, 1, 'the refused signatures were not made');
  card.touch = 'granted';
  assert.ok((await (await s.signer(touchy.id)).sign(digest, 'ecdsa-sha256')).length > 0);
  assert.equal((await s.pinStatus()).state, 'verified', 'no PIN try was spent or lost on the touch timeouts');
});

test('a touch wait longer than the host allows is CARD_TIMEOUT, naming what it waited for', async () => {
  const card = new PivCard({ touch: 'timeout', touchTimeoutMs: 600 });
  const setup = await ready(card);
  const k = await setup.generateKey({ label: 'x', algorithm: 'p256', slot: 0x9a, touchPolicy: 'always', pinPolicy: 'once' });
  await setup.close();
  const s = await ready(card, 150);
  await assert.rejects((await s.signer(k.id)).sign(new Uint8Array(32).fill(1), 'ecdsa-sha256'), code('CARD_TIMEOUT'));
  await new Promise((r) => setTimeout(r, 700));
});

test('RSA-3072/4096 are refused on firmware 5.4.3 and generated on 5.7.1', async () => {
  const old = await ready(new PivCard());
  for (const algorithm of ['rsa3072', 'rsa4096'] as const) {
    await assert.rejects(old.generateKey({ label: 'x', algorithm, slot: 0x9c }), code('CARD_ALGORITHM_UNSUPPORTED'));
  }
  assert.deepEqual(await old.listKeys(), [], 'nothing generated');
  const state = factoryPivState();
  state.version = [5, 7, 1];
  const fresh = await ready(new PivCard({ state }));
  const k = await fresh.generateKey({ label: 'x', algorithm: 'rsa4096', slot: 0x9c });
  assert.equal(k.algorithm, 'rsa4096');
});

test('IMPORT ASYMMETRIC KEY (yubico-piv-tool -a import-key): RSA CRT parts and an EC scalar; the driver lists and signs with them', async () => {
  const { generateKeyPairSync, verify } = await import('node:crypto');
  const { tlv } = await import('../../../src/card/tlv.js');
  const card = new PivCard();
  const s = await ready(card);
  const b = (x: string): Buffer => Buffer.from(x, 'base64url');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const j = rsa.privateKey.export({ format: 'jwk' });
  const rsaData = Buffer.concat([tlv(0x01, b(j.p!)), tlv(0x02, b(j.q!)), tlv(0x03, b(j.dp!)), tlv(0x04, b(j.dq!)), tlv(0x05, b(j.qi!)), tlv(0xaa, [0x02])]);
  const ok = await s.channel.transmit({ cla: 0x00, ins: 0xfe, p1: 0x07, p2: 0x9e, data: rsaData });
  assert.equal(ok.sw, 0x9000);
  // Parts that do not belong together are refused, and the slot stays as it was.
  const bad = Buffer.concat([tlv(0x01, b(j.p!)), tlv(0x02, b(j.q!)), tlv(0x03, b(j.dq!)), tlv(0x04, b(j.dp!)), tlv(0x05, b(j.qi!))]);
  assert.equal((await s.channel.transmit({ cla: 0x00, ins: 0xfe, p1: 0x07, p2: 0x9d, data: bad })).sw, 0x6a80);
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecData = tlv(0x06, b(ec.privateKey.export({ format: 'jwk' }).d!));
  assert.equal((await s.channel.transmit({ cla: 0x00, ins: 0xfe, p1: 0x11, p2: 0x9a, data: ecData })).sw, 0x9000);
  const keys = await s.listKeys();
  assert.deepEqual(keys.map((k) => [k.id, k.algorithm]), [['9A', 'p256'], ['9E', 'rsa2048']]);
  const spki = (k: typeof rsa.publicKey) => Buffer.from(k.export({ type: 'spki', format: 'der' }));
  assert.deepEqual(Buffer.from(keys[1]!.publicKey), spki(rsa.publicKey));
  assert.deepEqual(Buffer.from(keys[0]!.publicKey), spki(ec.publicKey));
  const tbs = Buffer.from('signed by an imported key');
  assert.ok(verify('sha256', tbs, rsa.publicKey, await (await s.signer('9E')).sign(tbs, 'rsa-pkcs1-sha256')));
  assert.ok(verify('sha256', tbs, { key: ec.publicKey, dsaEncoding: 'der' }, await (await s.signer('9A')).sign(tbs, 'ecdsa-sha256')));
  // Attestation refuses an imported key (only generated keys can be proven).
  await assert.rejects(s.attest('9E'), code('PIV_NOT_ATTESTABLE'));
});
