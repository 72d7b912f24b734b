/**
 * Issue 18 items 1, 2, 5 (listing), 9: keys made by other tools, keys on curves cardca does not
 * sign with, incomplete keys, and a card that lists only the CC entries in ENUMERATE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { ScHsmCard } from '../../../src/card/emulator/sc-hsm-card.js';
import { curveByName } from '../../../src/crypto/ec-curves.js';
import { ScHsmDriver } from '../../../src/card/drivers/sc-hsm-driver.js';
import * as cmd from '../../../src/card/drivers/sc-hsm/sc-hsm-commands.js';
import { parseCvc } from '../../../src/card/drivers/sc-hsm/cv-request.js';
import { CardcaError } from '../../../src/common/cardca-error.js';
import { foreignKey, open, readySession, RewritingCard, USER_PIN } from './card-truth-helpers.js';

const curve = (n: string) => curveByName(n)!;

test('foreign keys are listed with their real type; cardca keys on the same card keep working', async () => {
  const { session } = await readySession();
  await foreignKey(session, 1, { kind: 'rsa', bits: 1024 }, 'rsa1024 by another tool');
  await foreignKey(session, 2, { kind: 'ec', curve: curve('brainpoolP256r1') }, 'brainpool 256');
  await foreignKey(session, 3, { kind: 'ec', curve: curve('secp256k1') }, 'k1');
  await foreignKey(session, 4, { kind: 'ec', curve: curve('brainpoolP384r1') }, 'brainpool 384');
  await foreignKey(session, 5, { kind: 'ec', curve: curve('P-521') }, 'p521 by another tool');
  const mine = await session.generateKey({ label: 'root', algorithm: 'p384' });
  assert.equal(mine.keyRef, 6, 'keygen picks the first free slot');

  const inv = await session.inventory();
  assert.deepEqual(
    inv.map((k) => [k.keyRef, k.type, k.bits, k.usable, k.state]),
    [
      [1, 'rsa1024', 1024, false, 'complete'],
      [2, 'brainpoolP256r1', 256, false, 'complete'],
      [3, 'secp256k1', 256, false, 'complete'],
      [4, 'brainpoolP384r1', 384, false, 'complete'],
      [5, 'p521', 521, true, 'complete'],
      [6, 'p384', 384, true, 'complete'],
    ],
  );
  // The SPKI names the real curve (brainpool is not P-256 although both have 32-byte points).
  assert.equal(createPublicKey({ key: Buffer.from(inv[1]!.publicKey!), format: 'der', type: 'spki' }).asymmetricKeyDetails?.namedCurve, 'brainpoolP256r1');
  assert.match(inv[0]!.problems.join(' '), /rsa1024 keys are not used by cardca/);
  assert.deepEqual((await session.listKeys()).map((k) => k.algorithm), ['p521', 'p384']);

  const signer = await session.signer(mine.id);
  const sig = await signer.sign(Buffer.from('tbs'), 'ecdsa-sha384');
  assert.ok(sig.length > 0);
  await assert.rejects(session.signer(inv[1]!.id), (e: unknown) => e instanceof CardcaError && e.code === 'KEY_NOT_USABLE');
});

test('a key whose generation was interrupted is listed as "incomplete key in slot N" and can be deleted', async () => {
  const { card, session } = await readySession();
  await foreignKey(session, 1, { kind: 'ec', curve: curve('P-256') }, 'never finished', false);
  await session.generateKey({ label: 'ok', algorithm: 'p256' });
  const inv = await session.inventory();
  assert.equal(inv.length, 2);
  assert.equal(inv[0]!.state, 'incomplete');
  assert.equal(inv[0]!.usable, false);
  assert.match(inv[0]!.problems[0]!, /^incomplete key in slot 1: no readable public key \(EF CE01 missing\)/);
  assert.equal((await session.listKeys()).length, 1);
  await session.deleteKeySlot(1);
  assert.deepEqual((card as ScHsmCard).keyIds(), [2]);
  assert.deepEqual((await session.inventory()).map((k) => k.keyRef), [2]);
});

test('a PrKDF entry that does not parse and a damaged CE leave the rest of the card usable', async () => {
  const { session } = await readySession();
  await foreignKey(session, 1, { kind: 'rsa', bits: 2048 }, 'x');
  await foreignKey(session, 2, { kind: 'ec', curve: curve('P-256') }, 'y');
  const good = await session.generateKey({ label: 'good', algorithm: 'p256' });
  const driver = session.driver as ScHsmDriver;
  await driver.writeFile((cmd.FID_PREFIX.prkd << 8) | 1, Uint8Array.of(0xa0, 0x05, 0x30, 0x03, 0x0c, 0x01));
  const ce2 = (cmd.FID_PREFIX.eeCertificate << 8) | 2;
  const req = (await driver.readFile(ce2))!;
  await session.channel.expectOk(cmd.deleteFile(ce2), 'DELETE');
  await driver.writeFile(ce2, req.subarray(0, req.length - 7)); // truncated CV request
  const inv = await session.inventory();
  assert.equal(inv[0]!.type, 'rsa2048');
  assert.equal(inv[0]!.usable, true, 'the key itself is fine; only its label/iD come from the fallback');
  assert.match(inv[0]!.problems.join(' '), /PrKDF entry EF C401 does not parse/);
  assert.equal(inv[0]!.label, 'key 1');
  assert.equal(inv[1]!.state, 'incomplete');
  assert.match(inv[1]!.problems.join(' '), /EF CE02 does not hold a certificate or CV request/);
  await (await session.signer(good.id)).sign(Buffer.from('x'), 'ecdsa-sha256');
});

test('a card that lists only CC entries in ENUMERATE: C4/CE are read directly (as OpenSC does)', async () => {
  const inner = new ScHsmCard();
  const { session } = await readySession(inner);
  const k = await session.generateKey({ label: 'only-cc', algorithm: 'p256' });
  await session.close();
  const onlyCc = new RewritingCard(inner, (c, r) => {
    if (c[1] !== 0x58 || r.length < 2) return r;
    const body = r.subarray(0, r.length - 2);
    const kept: number[] = [];
    for (let i = 0; i + 1 < body.length; i += 2) if (body[i] === 0xcc) kept.push(body[i]!, body[i + 1]!);
    return Uint8Array.from([...kept, r[r.length - 2]!, r[r.length - 1]!]);
  });
  const s2 = await open(onlyCc);
  const keys = await s2.listKeys();
  assert.equal(keys.length, 1);
  assert.equal(keys[0]!.label, 'only-cc');
  assert.equal(keys[0]!.id, k.id);
  await s2.verifyPin(USER_PIN);
  await (await s2.signer(k.id)).sign(Buffer.from('x'), 'ecdsa-sha256');
});

test('key iD is OpenSC\'s intrinsic iD (pkcs15init mozilla style): SHA-1 of the modulus, SHA-1 of X for EC', async () => {
  const { session } = await readySession();
  const ec = await session.generateKey({ label: 'ec', algorithm: 'p256' });
  const rsa = await session.generateKey({ label: 'rsa', algorithm: 'rsa2048' });
  const x = Buffer.from(createPublicKey({ key: Buffer.from(ec.publicKey), format: 'der', type: 'spki' }).export({ format: 'jwk' }).x!, 'base64url');
  assert.equal(ec.id, createHash('sha1').update(x).digest('hex').toUpperCase());
  const n = Buffer.from(createPublicKey({ key: Buffer.from(rsa.publicKey), format: 'der', type: 'spki' }).export({ format: 'jwk' }).n!, 'base64url');
  assert.equal(rsa.id, createHash('sha1').update(n).digest('hex').toUpperCase());
});

test('CV request curves are identified by domain parameters, not by length; unknown ones are typed errors', async () => {
  const { session } = await readySession();
  const req = await foreignKey(session, 1, { kind: 'ec', curve: curve('brainpoolP256r1') }, 'bp', false);
  assert.equal(parseCvc(req).keyType.type, 'brainpoolP256r1');
  // Change one byte of the prime (tag 81): no known curve has it.
  const bad = Uint8Array.from(req);
  const at = Buffer.from(bad).indexOf(Buffer.from([0x81, 0x20]));
  bad[at + 2 + 31] ^= 0x01;
  assert.throws(() => parseCvc(bad), (e: unknown) => e instanceof CardcaError && e.code === 'CARD_BAD_CVC' && /does not know/.test(e.message));
});
