import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { ScHsmCard } from '../../../src/card/emulator/sc-hsm-card.js';
import { aesCmac } from '../../../src/card/emulator/aes-cmac.js';
import { tlv } from '../../../src/card/emulator/tlv.js';
import { AID, apdu, ecPointFromRequest, expectSw, gakpEc, gakpRsa, hex, publicKeyFromRequest, SO_PIN, toHex, tx, USER_PIN } from './card-helpers.js';
import { curveByName } from '../../../src/card/emulator/ec-curves.js';

const SHARE_A = randomBytes(32);
const SHARE_B = randomBytes(32);
const DKEK = Buffer.alloc(32).map((_, i) => SHARE_A[i]! ^ SHARE_B[i]!);
const KCV = createHash('sha256').update(DKEK).digest().subarray(0, 8);

function initWithShares(n: number): Uint8Array {
  return new Uint8Array(
    Buffer.concat([tlv(0x80, Uint8Array.of(0, 1)), tlv(0x81, USER_PIN), tlv(0x82, SO_PIN), tlv(0x91, Uint8Array.of(3)), tlv(0x92, Uint8Array.of(n))]),
  );
}

async function dkekCard(shares: Buffer[], total = 2): Promise<ScHsmCard> {
  const card = new ScHsmCard();
  card.powerOn();
  await expectSw(card, `00A4040C0B${AID}`, '9000');
  await expectSw(card, apdu(0x80, 0x50, 0, 0, initWithShares(total)), '9000');
  await expectSw(card, `00A4040C0B${AID}`, '9000'); // logout: share import needs no PIN
  for (const s of shares) await expectSw(card, apdu(0x80, 0x52, 0, 0, s, 256), '9000');
  await expectSw(card, apdu(0x00, 0x20, 0, 0x81, USER_PIN), '9000');
  return card;
}

const sign = async (card: ScHsmCard, id: number, alg: number, input: Uint8Array) => expectSw(card, apdu(0x80, 0x68, id, alg, input, 65536), '9000');

test('DKEK share status: total, outstanding, KCV = SHA-256(XOR of shares)[0..8]', async () => {
  const card = await dkekCard([]);
  assert.equal(toHex(await expectSw(card, '8052000000', '9000')), '0202' + '00'.repeat(8));
  const one = await expectSw(card, apdu(0x80, 0x52, 0, 0, SHARE_A, 256), '9000');
  assert.equal(toHex(one.subarray(0, 2)), '0201');
  const two = await expectSw(card, apdu(0x80, 0x52, 0, 0, SHARE_B, 256), '9000');
  assert.equal(toHex(two), '0200' + toHex(KCV));
  // All shares in: a further share is refused and the KCV stays.
  assert.equal((await tx(card, apdu(0x80, 0x52, 0, 0, SHARE_A, 256))).sw, '6986');
  assert.equal(toHex(await expectSw(card, '8052000000', '9000')), '0200' + toHex(KCV));
  assert.equal((await tx(card, apdu(0x80, 0x52, 0, 0, SHARE_A.subarray(0, 31), 256))).sw, '6700');
  assert.equal((await tx(card, apdu(0x80, 0x52, 1, 0, SHARE_A, 256))).sw, '6A86');
});

test('a card initialised without shares refuses a share (6A88) and WRAP (6A88)', async () => {
  const card = new ScHsmCard();
  card.powerOn();
  await expectSw(card, `00A4040C0B${AID}`, '9000');
  await expectSw(card, apdu(0x80, 0x50, 0, 0, initWithShares(0)), '9000');
  assert.equal((await tx(card, apdu(0x80, 0x52, 0, 0, SHARE_A, 256))).sw, '6A88');
  // After INITIALIZE nobody is logged in (as on a real card): GENERATE needs the PIN first.
  await expectSw(card, apdu(0x00, 0x20, 0, 0x81, USER_PIN), '9000');
  await expectSw(card, apdu(0x00, 0x46, 1, 0, gakpEc('P-256'), 65536), '9000');
  assert.equal((await tx(card, '8072019200')).sw, '6A88');
});

for (const [name, gakp, alg, input] of [
  ['RSA-2048', gakpRsa(2048), 0x33, Buffer.from('message')],
  ['P-256', gakpEc('P-256'), 0x73, Buffer.from('message')],
  ['P-384', gakpEc('P-384'), 0x74, Buffer.from('message')],
] as const) {
  test(`${name}: WRAP on card A, UNWRAP on card B (inline and staged in 2F10); both sign for the same public key`, async () => {
    const a = await dkekCard([SHARE_A, SHARE_B]);
    const b = await dkekCard([SHARE_B, SHARE_A]);
    const req = await expectSw(a, apdu(0x00, 0x46, 3, 0, gakp, 65536), '9000');
    const pub = publicKeyFromRequest(req, name === 'P-384' ? 'P-384' : 'P-256');
    const blob = await expectSw(a, apdu(0x80, 0x72, 3, 0x92, undefined, 65536), '9000');
    assert.equal(toHex(blob.subarray(0, 8)), toHex(KCV), 'blob starts with the KCV');
    assert.equal(blob[8], name.startsWith('RSA') ? 6 : 12, 'key type');
    assert.equal((blob.length - 16 - 9 - 12 - 6) % 16, 0, 'encrypted part is whole AES blocks');

    // Inline.
    await expectSw(b, apdu(0x80, 0x74, 7, 0x93, blob, 256), '9000');
    // Staged in EF 2F10, as OpenSC does (case 1 UNWRAP).
    const staged = new Uint8Array(Buffer.concat([tlv(0x54, Uint8Array.of(0, 0)), tlv(0x53, blob)]));
    await expectSw(b, apdu(0x00, 0xd7, 0x2f, 0x10, staged), '9000');
    await expectSw(b, '80740893', '9000');
    for (const id of [7, 8]) {
      const sig = await sign(b, id, alg, input);
      assert.ok(verify(alg === 0x74 ? 'sha384' : 'sha256', input, pub, sig), `key ${id} signs for the original public key`);
    }
    // An unwrapped key may be wrapped again (it came from the DKEK).
    await expectSw(b, apdu(0x80, 0x72, 7, 0x92, undefined, 65536), '9000');
  });
}

for (const [name, alg, hash] of [
  ['secp256k1', 0x73, 'sha256'],
  ['brainpoolP256r1', 0x73, 'sha256'],
  ['brainpoolP384r1', 0x74, 'sha384'],
] as const) {
  test(`${name}: WRAP on card A, UNWRAP on card B; the unwrapped key signs for the original public key`, async () => {
    const a = await dkekCard([SHARE_A, SHARE_B]);
    const b = await dkekCard([SHARE_B, SHARE_A]);
    const req = await expectSw(a, apdu(0x00, 0x46, 3, 0, gakpEc(name), 65536), '9000');
    const q = ecPointFromRequest(req);
    const blob = await expectSw(a, apdu(0x80, 0x72, 3, 0x92, undefined, 65536), '9000');
    assert.equal(blob[8], 12, 'EC key type');
    await expectSw(b, apdu(0x80, 0x74, 7, 0x93, blob, 256), '9000');
    const input = Buffer.from('signed after a restore');
    const sig = await sign(b, 7, alg, input);
    const digest = createHash(hash).update(input).digest();
    assert.ok(curveByName(name)!.verify(sig, digest, q), 'the restored key signs for the public key of card A');
    // Signed by the rebuilt key, not a look-alike: a different message does not verify.
    assert.equal(curveByName(name)!.verify(sig, createHash(hash).update('other').digest(), q), false);
    // And it can leave card B again under the same DKEK.
    await expectSw(b, apdu(0x80, 0x72, 7, 0x92, undefined, 65536), '9000');
  });
}

test('refusals: PIN, occupied slot, wrong DKEK, bad CMAC, truncated, key made before the DKEK was complete; card unchanged', async () => {
  const a = await dkekCard([SHARE_A, SHARE_B]);
  await expectSw(a, apdu(0x00, 0x46, 1, 0, gakpEc('P-256'), 65536), '9000');
  const blob = await expectSw(a, apdu(0x80, 0x72, 1, 0x92, undefined, 65536), '9000');
  assert.equal((await tx(a, '8072029200')).sw, '6A82', 'no key 2');
  assert.equal((await tx(a, '8072019300')).sw, '6A86', 'P2 must be 92');

  const other = await dkekCard([SHARE_A, randomBytes(32)]);
  const before = JSON.stringify(other.snapshot());
  assert.equal((await tx(other, apdu(0x80, 0x74, 1, 0x93, blob, 256))).sw, '6A80', 'different DKEK');
  const b = await dkekCard([SHARE_A, SHARE_B]);
  const bad = Uint8Array.from(blob);
  bad[bad.length - 20]! ^= 1;
  assert.equal((await tx(b, apdu(0x80, 0x74, 1, 0x93, bad, 256))).sw, '6A80', 'bad CMAC');
  assert.equal((await tx(b, apdu(0x80, 0x74, 1, 0x93, blob.subarray(0, blob.length - 5), 256))).sw, '6A80', 'truncated');
  assert.equal((await tx(b, apdu(0x80, 0x74, 1, 0x93, blob.subarray(0, 20), 256))).sw, '6A80', 'very short');
  assert.deepEqual(b.keyIds(), []);
  assert.equal(JSON.stringify(other.snapshot()), before, 'refused unwrap leaves the card as it was');

  await expectSw(b, apdu(0x00, 0x46, 4, 0, gakpEc('P-256'), 65536), '9000');
  assert.equal((await tx(b, apdu(0x80, 0x74, 4, 0x93, blob, 256))).sw, '6A89', 'slot in use');
  await expectSw(b, `00A4040C0B${AID}`, '9000');
  assert.equal((await tx(b, apdu(0x80, 0x74, 5, 0x93, blob, 256))).sw, '6982', 'no PIN');
  assert.equal((await tx(b, '8072049200')).sw, '6982', 'no PIN');

  // A key generated while a share was outstanding can never leave the card.
  const pending = await dkekCard([SHARE_A]);
  await expectSw(pending, apdu(0x00, 0x46, 1, 0, gakpEc('P-256'), 65536), '9000');
  assert.equal((await tx(pending, '8072019200')).sw, '6A88', 'DKEK incomplete');
  await expectSw(pending, apdu(0x80, 0x52, 0, 0, SHARE_B, 256), '9000');
  assert.equal((await tx(pending, '8072019200')).sw, '6985', 'key predates the complete DKEK');
});

test('UNWRAP accepts an RSA blob of key type 5 (d, n, e), as other SmartCard-HSM software writes', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const j = privateKey.export({ format: 'jwk' });
  const bytes = (s: string | undefined) => Buffer.from(s!, 'base64url');
  const lv = (b: Buffer) => Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  const body = Buffer.concat([randomBytes(8), Buffer.from([0x08, 0x00]), lv(bytes(j.d)), lv(bytes(j.n)), lv(bytes(j.e))]);
  const padded = Buffer.alloc(Math.ceil((body.length + 1) / 16) * 16);
  body.copy(padded);
  padded[body.length] = 0x80;
  const kdf = (c: number) => createHash('sha256').update(DKEK).update(Buffer.from([0, 0, 0, c])).digest();
  const enc = createCipheriv('aes-256-cbc', kdf(1), Buffer.alloc(16)).setAutoPadding(false);
  const header = Buffer.concat([KCV, Buffer.from([5]), lv(Buffer.from(hex('04007F00070202020102'))), lv(Buffer.alloc(0)), lv(Buffer.alloc(0)), lv(Buffer.alloc(0))]);
  const macd = Buffer.concat([header, enc.update(padded), enc.final()]);
  const blob = Buffer.concat([macd, aesCmac(kdf(2), macd)]);
  const card = await dkekCard([SHARE_A, SHARE_B]);
  await expectSw(card, apdu(0x80, 0x74, 9, 0x93, blob, 256), '9000');
  const sig = await sign(card, 9, 0x31, Buffer.from('m'));
  assert.ok(verify('sha1', Buffer.from('m'), publicKey, sig));
});
