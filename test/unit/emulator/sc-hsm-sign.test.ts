import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHash, publicEncrypt, verify } from 'node:crypto';
import { apdu, expectSw, gakpEc, gakpRsa, publicKeyFromRequest, readyCard, tx, AID } from './card-helpers.js';
import { readTlv } from '../../../src/card/emulator/tlv.js';

const msg = Buffer.from('to be signed by the emulated card');
const sha = (name: string, d: Uint8Array) => createHash(name).update(d).digest();
const DI256 = Buffer.from('3031300d060960864801650304020105000420', 'hex');

test('RSA-2048: generate (CV request 67/7F21 with the public key) and sign with 20, 30, 31–35, 40, 41–45', async () => {
  const card = await readyCard();
  const req = await expectSw(card, apdu(0x00, 0x46, 1, 0, gakpRsa(2048), 65536), '9000');
  assert.equal(req[0], 0x67);
  assert.equal(readTlv(readTlv(req).value).tag, 0x7f21);
  const pub = publicKeyFromRequest(req);
  assert.equal(pub.asymmetricKeyDetails?.modulusLength, 2048);
  assert.deepEqual([...(await expectSw(card, '80580000000000', '9000'))], [0xcc, 0x00, 0xcc, 0x01]);

  // 20: raw RSA over a host-padded PKCS#1 v1.5 block.
  const em = Buffer.alloc(256, 0xff);
  em[0] = 0;
  em[1] = 1;
  const t = Buffer.concat([DI256, sha('sha256', msg)]);
  em[256 - t.length - 1] = 0;
  t.copy(em, 256 - t.length);
  const raw = await expectSw(card, apdu(0x80, 0x68, 1, 0x20, em, 65536), '9000');
  assert.ok(verify('sha256', msg, pub, raw));
  assert.deepEqual(publicEncrypt({ key: pub, padding: constants.RSA_NO_PADDING }, raw), em);
  // 30: DigestInfo, card pads.
  assert.ok(verify('sha256', msg, pub, await expectSw(card, apdu(0x80, 0x68, 1, 0x30, t, 65536), '9000')));
  // 31..35: card hashes the message.
  for (const [alg, h] of [[0x31, 'sha1'], [0x33, 'sha256'], [0x34, 'sha384'], [0x35, 'sha512']] as const) {
    assert.ok(verify(h, msg, pub, await expectSw(card, apdu(0x80, 0x68, 1, alg, msg, 65536), '9000')), h);
  }
  // 40: PSS over a given hash (salt = hash length), also when a DigestInfo is given.
  const pss = { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
  assert.ok(verify('sha256', msg, pss, await expectSw(card, apdu(0x80, 0x68, 1, 0x40, sha('sha256', msg), 65536), '9000')));
  assert.ok(verify('sha256', msg, pss, await expectSw(card, apdu(0x80, 0x68, 1, 0x40, t, 65536), '9000')));
  assert.ok(verify('sha384', msg, { ...pss, saltLength: 48 }, await expectSw(card, apdu(0x80, 0x68, 1, 0x40, sha('sha384', msg), 65536), '9000')));
  for (const [alg, h, s] of [[0x41, 'sha1', 20], [0x43, 'sha256', 32], [0x44, 'sha384', 48], [0x45, 'sha512', 64]] as const) {
    assert.ok(verify(h, msg, { ...pss, saltLength: s }, await expectSw(card, apdu(0x80, 0x68, 1, alg, msg, 65536), '9000')), h);
  }
  // Wrong inputs and wrong algorithms.
  assert.equal((await tx(card, apdu(0x80, 0x68, 1, 0x20, em.subarray(1), 65536))).sw, '6A80');
  assert.equal((await tx(card, apdu(0x80, 0x68, 1, 0x70, sha('sha256', msg), 65536))).sw, '6A81');
  assert.equal((await tx(card, apdu(0x80, 0x68, 1, 0x99, sha('sha256', msg), 65536))).sw, '6A86');
  assert.equal((await tx(card, apdu(0x80, 0x68, 9, 0x40, sha('sha256', msg), 65536))).sw, '6A88');
  assert.equal((await tx(card, apdu(0x80, 0x68, 1, 0x40, Buffer.alloc(17), 65536))).sw, '6A80');
  assert.equal(card.keySignatureCount(1), 13);
  assert.equal(card.signatureCount, 13);
  // Not logged in after re-select: 6982, and nothing is counted.
  await expectSw(card, `00A4040C0B${AID}`, '9000');
  assert.equal((await tx(card, apdu(0x80, 0x68, 1, 0x40, sha('sha256', msg), 65536))).sw, '6982');
  assert.equal(card.signatureCount, 13);
});

for (const curve of ['P-256', 'P-384', 'P-521'] as const) {
  test(`EC ${curve}: generate and sign with 70 (given hash, DER output) and 71–75`, async () => {
    const card = await readyCard();
    const req = await expectSw(card, apdu(0x00, 0x46, 2, 0, gakpEc(curve), 65536), '9000');
    const pub = publicKeyFromRequest(req, curve);
    assert.equal(pub.asymmetricKeyType, 'ec');
    const field = curve === 'P-256' ? 32 : curve === 'P-384' ? 48 : 66;
    for (const h of ['sha256', 'sha384', 'sha512']) {
      const digest = sha(h, msg);
      if (digest.length > field) {
        // A real card refuses plain-ECDSA input longer than the field: the host must truncate
        // (FIPS 186-4 §6.4). The leftmost field bytes then verify as ECDSA over the full hash.
        assert.equal((await tx(card, apdu(0x80, 0x68, 2, 0x70, digest, 65536))).sw, '6A80', `${curve} 70/${h} untruncated`);
      }
      const sig = await expectSw(card, apdu(0x80, 0x68, 2, 0x70, digest.subarray(0, field), 65536), '9000');
      assert.equal(sig[0], 0x30, 'DER SEQUENCE');
      assert.ok(verify(h, msg, pub, sig), `${curve} 70/${h}`);
    }
    for (const [alg, h] of [[0x71, 'sha1'], [0x72, 'sha224'], [0x73, 'sha256'], [0x74, 'sha384'], [0x75, 'sha512']] as const) {
      assert.ok(verify(h, msg, pub, await expectSw(card, apdu(0x80, 0x68, 2, alg, msg, 65536), '9000')), `${curve} ${h}`);
    }
    assert.equal((await tx(card, apdu(0x80, 0x68, 2, 0x20, Buffer.alloc(32), 65536))).sw, '6A81');
    assert.equal(card.keySignatureCount(2), 8);
  });
}

test('GAKP: key-use counter (90) gives 6984 when spent; algorithm list (91) gives 6A81; bad templates 6A80', async () => {
  const card = await readyCard();
  const gakp = Buffer.concat([gakpEc('P-256'), Buffer.from('900400000002' + '910170', 'hex')]);
  await expectSw(card, apdu(0x00, 0x46, 3, 0, gakp, 65536), '9000');
  const h = sha('sha256', msg);
  await expectSw(card, apdu(0x80, 0x68, 3, 0x70, h, 65536), '9000');
  assert.equal((await tx(card, apdu(0x80, 0x68, 3, 0x73, msg, 65536))).sw, '6A81');
  await expectSw(card, apdu(0x80, 0x68, 3, 0x70, h, 65536), '9000');
  assert.equal((await tx(card, apdu(0x80, 0x68, 3, 0x70, h, 65536))).sw, '6984');
  assert.equal((await tx(card, apdu(0x00, 0x46, 4, 0, Buffer.from('5F290100', 'hex'), 65536))).sw, '6A80');
  assert.equal((await tx(card, apdu(0x00, 0x46, 4, 0, gakpRsa(1000), 65536))).sw, '6A80');
  assert.equal((await tx(card, apdu(0x00, 0x46, 0, 0, gakpEc('P-256'), 65536))).sw, '6A86');
});

test('RSA-3072: generate and sign with PSS (40) over SHA-384', async () => {
  const card = await readyCard();
  const req = await expectSw(card, apdu(0x00, 0x46, 5, 0, gakpRsa(3072), 65536), '9000');
  const pub = publicKeyFromRequest(req);
  assert.equal(pub.asymmetricKeyDetails?.modulusLength, 3072);
  const sig = await expectSw(card, apdu(0x80, 0x68, 5, 0x40, sha('sha384', msg), 65536), '9000');
  assert.equal(sig.length, 384);
  assert.ok(verify('sha384', msg, { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }, sig));
});
