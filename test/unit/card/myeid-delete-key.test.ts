/**
 * Key deletion on a MyEID (issue 13 item 3): the key's PrKDF and PuKDF entries, its public-key EF
 * and its key EF go, as `pkcs15-init --delete-objects privkey,pubkey --id` leaves the card
 * (pkcs15-lib.c `sc_pkcs15init_delete_object`: the directory entry, then the file); the other
 * key and its entries stay byte for byte. On the in-process emulator, personalised by the
 * driver's own `ca card init` path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { MyeidCard } from '../../../src/card/emulator/myeid-card.js';
import { factoryMyeidState } from '../../../src/card/emulator/myeid-state.js';
import { InProcessTransport } from '../../../src/card/transport/in-process-transport.js';
import { DriverCardSession } from '../../../src/card/card-session-impl.js';

const PIN = '123456';
const NOW = new Date('2026-12-02T00:00:00Z');

async function session(card: MyeidCard): Promise<DriverCardSession> {
  return DriverCardSession.open(new InProcessTransport(card, { readerName: 'unit' }));
}

test('deleting one MyEID key removes its entries and files and leaves the other key usable', async () => {
  const card = new MyeidCard({ state: factoryMyeidState(NOW, Buffer.from('1A2B3C4D5E6F70819203', 'hex')) });
  const s0 = await session(card);
  await s0.initialize({ soPin: Buffer.from('12345678'), userPin: Buffer.from(PIN), retries: 3, label: 'Delete test', now: NOW });
  await s0.close();

  const s = await session(card);
  await s.verifyPin(Buffer.from(PIN));
  const keep = await s.generateKey({ label: 'keep', algorithm: 'p256' });
  const drop = await s.generateKey({ label: 'drop', algorithm: 'p256' });
  const filesWithKeys = Object.keys(card.snapshot().files).sort();
  assert.deepEqual((await s.listKeys()).map((k) => k.label).sort(), ['drop', 'keep']);

  await s.deleteKey(drop.id);
  const after = Object.keys(card.snapshot().files).sort();
  const gone = filesWithKeys.filter((f) => !after.includes(f));
  assert.equal(gone.length, 2, `the key EF and its public-key EF go, nothing else: ${gone.join(', ')}`);
  assert.equal(after.length, filesWithKeys.length - 2, 'no file is created by a delete');
  await s.close();

  // A fresh session reads the structure from the card: one key, still signing.
  const t = await session(card);
  const keys = await t.listKeys();
  assert.deepEqual(keys.map((k) => [k.id, k.label]), [[keep.id, 'keep']]);
  await assert.rejects(t.deleteKey(drop.id), (e: { code: string }) => /KEY_NOT_FOUND/.test(e.code));
  await t.verifyPin(Buffer.from(PIN));
  const tbs = new Uint8Array(64).fill(7);
  const sig = await (await t.signer(keep.id)).sign(tbs, 'ecdsa-sha256');
  const spki = createPublicKey({ key: Buffer.from(keep.publicKey), format: 'der', type: 'spki' });
  assert.ok(verify('sha256', tbs, spki, sig), 'the kept key still signs');
  await t.close();
});
