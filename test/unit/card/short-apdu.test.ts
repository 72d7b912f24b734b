/** Issue 18 item 6: readers without extended length, and T=0-style response limits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScHsmCard } from '../../../src/card/emulator/sc-hsm-card.js';
import { CardcaError } from '../../../src/common/cardca-error.js';
import { selfSignedForTest } from './helpers/self-signed.js';
import { ScHsmDriver } from '../../../src/card/drivers/sc-hsm-driver.js';
import * as cmd from '../../../src/card/drivers/sc-hsm/sc-hsm-commands.js';
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

test('without extended length: reads loop over short READ BINARY, writes go in short chunks; ENUMERATE and RSA-2048 SIGN name the limit', async () => {
  const { state, ec, rsa, cert } = await preparedState();
  let extendedSeen = 0;
  let shortReads = 0;
  const card = new RewritingCard(new ScHsmCard({ state, extendedLength: false }), (c, r) => {
    if (c.length > 5 && c[4] === 0x00) extendedSeen++;
    else if (c[1] === 0xb1) shortReads++;
    return r;
  });
  // Opening reads the device certificate chain (EF 2F02, several hundred bytes) with short APDUs.
  const s = await open(card);
  assert.equal(s.info.serial, state.serial);
  assert.ok(shortReads >= 2, `2F02 read in ${shortReads} short chunks`);
  // The card itself requires extended Le for ENUMERATE OBJECTS: the error says so.
  await assert.rejects(s.listKeys(), (e: unknown) => e instanceof CardcaError && e.code === 'READER_NO_EXTENDED_LENGTH' && /ENUMERATE OBJECTS/.test(e.message));
  const driver = s.driver as ScHsmDriver;
  assert.deepEqual(await driver.readFile((cmd.FID_PREFIX.eeCertificate << 8) | ec.keyRef), cert, 'the long certificate is read completely');
  await s.verifyPin(USER_PIN);
  const sig = await driver.sign(ec.keyRef, { kind: 'ecdsa' }, new Uint8Array(32).fill(7));
  assert.equal(sig[0], 0x30);
  await assert.rejects(driver.sign(rsa.keyRef, { kind: 'rsa-raw' }, new Uint8Array(256).fill(1)), (e: unknown) =>
    e instanceof CardcaError && e.code === 'READER_NO_EXTENDED_LENGTH' && /256 data bytes; a short APDU carries at most 255/.test(e.message),
  );
  // A 700-byte file written in short chunks and read back in short chunks.
  const blob = Uint8Array.from({ length: 700 }, (_, i) => i & 0xff);
  await driver.writeFile(0xcf01, blob);
  assert.deepEqual(await driver.readFile(0xcf01), blob);
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
