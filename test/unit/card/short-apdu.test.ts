/** Issue 18 item 6: readers without extended length, and T=0-style response limits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScHsmCard } from '../../../src/card/emulator/sc-hsm-card.js';
import { CardcaError } from '../../../src/common/cardca-error.js';
import { selfSignedForTest } from './helpers/self-signed.js';
import { open, readySession, RewritingCard, USER_PIN } from './card-truth-helpers.js';

async function preparedState() {
  const card = new ScHsmCard();
  const { session } = await readySession(card);
  const ec = await session.generateKey({ label: 'ec', algorithm: 'p256' });
  const rsa = await session.generateKey({ label: 'rsa', algorithm: 'rsa2048' });
  // A certificate longer than one short response (256 bytes) and one short write (248 bytes).
  const cert = await selfSignedForTest(await session.signer(ec.id), `CN=${'long subject '.repeat(40)}`);
  assert.ok(cert.length > 600, `certificate is ${cert.length} bytes`);
  await session.writeCertificate(ec.id, cert);
  return { state: card.snapshot(), ec, rsa, cert };
}

test('without extended length: reads loop over short READ BINARY, writes go in short chunks, RSA-2048 SIGN names the limit', async () => {
  const { state, ec, rsa, cert } = await preparedState();
  let extendedSeen = 0;
  const card = new RewritingCard(new ScHsmCard({ state, extendedLength: false }), (c, r) => {
    if (c.length > 5 && c[4] === 0x00) extendedSeen++;
    return r;
  });
  const s = await open(card);
  const keys = await s.listKeys();
  assert.deepEqual(keys.map((k) => k.label), ['ec', 'rsa']);
  assert.deepEqual(keys[0]!.certificate, cert, 'the long certificate is read completely with short APDUs');
  await s.verifyPin(USER_PIN);
  await (await s.signer(ec.id)).sign(Buffer.from('x'), 'ecdsa-sha256');
  await assert.rejects((await s.signer(rsa.id)).sign(Buffer.from('x'), 'rsa-pkcs1-sha256'), (e: unknown) =>
    e instanceof CardcaError && e.code === 'READER_NO_EXTENDED_LENGTH' && /256 data bytes; a short APDU carries at most 255/.test(e.message),
  );
  // A certificate write in short chunks, read back and verified by the write-back itself.
  const again = await selfSignedForTest(await s.signer(ec.id), `CN=${'other subject '.repeat(40)}`);
  await s.writeCertificate(ec.id, again);
  assert.deepEqual((await s.listKeys())[0]!.certificate, again);
  assert.ok(extendedSeen > 0, 'the driver tried extended first');
});

test('T=0-style card (--max-response): long answers come through 61xx / GET RESPONSE', async () => {
  const { state, ec, cert } = await preparedState();
  let getResponses = 0;
  const card = new RewritingCard(new ScHsmCard({ state, maxResponseSize: 100 }), (c, r) => {
    if (c[1] === 0xc0) getResponses++;
    return r;
  });
  const s = await open(card);
  const keys = await s.listKeys();
  assert.deepEqual(keys[0]!.certificate, cert);
  await s.verifyPin(USER_PIN);
  await (await s.signer(ec.id)).sign(Buffer.from('x'), 'ecdsa-sha256');
  assert.ok(getResponses > 5, `GET RESPONSE used (${getResponses})`);
});
