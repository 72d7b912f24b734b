/**
 * Issue 18 item 3: a certificate write-back never strands a key. A fault at every APDU index of
 * the write-back (power lost right after the card processed it, or the card refusing it): each
 * case ends with the key still listed, and a re-run of the write completes it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScHsmCard } from '../../../src/card/emulator/sc-hsm-card.js';
import { InstrumentedCard } from '../../../src/card/emulator/instrumented-card.js';
import { CardcaError } from '../../../src/common/cardca-error.js';
import { selfSignedForTest } from './helpers/self-signed.js';
import { open, readySession, USER_PIN } from './card-truth-helpers.js';
import type { DriverCardSession } from '../../../src/card/card-session-impl.js';

async function setup(): Promise<{ card: InstrumentedCard; session: DriverCardSession; id: string; cert: Uint8Array; other: Uint8Array }> {
  const card = new InstrumentedCard(new ScHsmCard());
  const { session } = await readySession(card);
  const k = await session.generateKey({ label: 'ca', algorithm: 'p256' });
  const k2 = await session.generateKey({ label: 'other', algorithm: 'p256' });
  const cert = await selfSignedForTest(await session.signer(k.id), 'CN=write-back');
  const other = await selfSignedForTest(await session.signer(k2.id), 'CN=other key');
  return { card, session, id: k.id, cert, other };
}

test('a certificate for another key is refused before the card is touched', async () => {
  const { card, session, id, other } = await setup();
  const before = (card.inner as ScHsmCard).snapshot();
  await assert.rejects(session.writeCertificate(id, other), (e: unknown) => e instanceof CardcaError && e.code === 'CARD_CERT_KEY_MISMATCH');
  await assert.rejects(session.writeCertificate(id, Uint8Array.of(0x30, 0x03, 0x02, 0x01)), (e: unknown) => e instanceof CardcaError && e.code === 'CARD_BAD_CERTIFICATE');
  assert.deepEqual((card.inner as ScHsmCard).snapshot().files, before.files);
});

test('the write-back replaces the CV request, reads back, removes the staging copy; a re-run is a no-op', async () => {
  const { card, session, id, cert } = await setup();
  await session.writeCertificate(id, cert);
  const k = (await session.listKeys()).find((x) => x.id === id)!;
  assert.deepEqual(k.certificate, cert);
  const files = Object.keys((card.inner as ScHsmCard).snapshot().files);
  assert.ok(!files.includes('CA01'), `staging copy removed (${files.join(' ')})`);
  const n = card.apduCount;
  await session.writeCertificate(id, cert);
  assert.ok(card.apduCount - n < 12, 'an already written certificate is only checked');
});

for (const mode of ['power-off-after', 'sw'] as const) {
  test(`a fault (${mode}) at every APDU index of the write-back: key still listed, re-run completes`, async () => {
    // Count the APDUs of an undisturbed write-back first.
    const probe = await setup();
    await probe.session.listKeys(); // warm the key cache exactly as the faulted runs do
    const start = probe.card.apduCount;
    await probe.session.writeCertificate(probe.id, probe.cert);
    const total = probe.card.apduCount - start;
    assert.ok(total >= 8, `write-back takes ${total} APDUs`);
    for (let i = 1; i <= total; i++) {
      const { card, session, id, cert } = await setup();
      await session.listKeys();
      const seq = card.apduCount + i;
      card.faults.add(mode === 'sw' ? `sw=${seq}:6F00` : `power-off-after=${seq}`);
      const r = await session.writeCertificate(id, cert).then(() => 'ok', (e: unknown) => e);
      card.faults.clear();
      // A fault on the very last APDU may leave only the staging copy behind; either way:
      const s2 = await open(card);
      const listed = (await s2.inventory()).find((k) => k.id === id);
      assert.ok(listed, `index ${i}: key listed (${String(r)})`);
      assert.equal(listed.state, 'complete', `index ${i}: public key still readable`);
      assert.equal(listed.usable, true, `index ${i}`);
      await s2.verifyPin(USER_PIN);
      await s2.writeCertificate(id, cert);
      const after = (await s2.listKeys()).find((k) => k.id === id)!;
      assert.deepEqual(after.certificate, cert, `index ${i}: re-run wrote the certificate`);
      assert.ok(!Object.keys((card.inner as ScHsmCard).snapshot().files).includes('CA01'), `index ${i}: no staging copy left`);
      assert.deepEqual(after.publicKey, listed.publicKey);
    }
  });
}
