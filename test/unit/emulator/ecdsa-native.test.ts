/**
 * The emulators sign ECDSA with kG from node:crypto's ECDH and the rest on bigint
 * (src/card/emulator/ecdsa-native.ts). Every signature must verify, on every curve the card
 * generates, with an independent verifier: OpenSSL (node:crypto.verify, which hashes: so the
 * input is a real digest of the message) and @noble/curves over the given hash (which also
 * covers inputs longer than the order, truncated to its leftmost bits).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { ecdsaSignRaw } from '../../../src/card/emulator/ecdsa-native.js';
import { curves } from '../../../src/card/emulator/ec-curves.js';
import { ecParts } from '../../../src/card/emulator/card-crypto.js';
import { namedCurves } from '../../../src/crypto/ec-curves.js';
import { ecdsaRawToDer } from '../../../src/crypto/algorithms.js';
import { bytesToBigint } from '../../../src/common/bigint-math.js';

const HASH_FOR: Record<number, string> = { 32: 'sha256', 48: 'sha384', 64: 'sha512', 66: 'sha512' };

test('ecdsaSignRaw: signatures over a digest verify with OpenSSL on every curve, r and s in [1, n-1], k fresh each time', () => {
  for (const c of curves()) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: c.nodeName });
    const pkcs8 = new Uint8Array(privateKey.export({ type: 'pkcs8', format: 'der' }));
    const { d } = ecParts(pkcs8, c.name);
    const hashName = HASH_FOR[Math.min(c.size, 64)]!;
    const orderBytes = Math.ceil(c.bits / 8);
    for (let i = 0; i < 20; i++) {
      const msg = randomBytes(40);
      const h = createHash(hashName).update(msg).digest();
      const raw = ecdsaSignRaw(c, h, d);
      assert.equal(raw.length, 2 * orderBytes, c.name);
      const r = bytesToBigint(raw.subarray(0, orderBytes));
      const s = bytesToBigint(raw.subarray(orderBytes));
      assert.ok(r > 0n && r < c.n && s > 0n && s < c.n, `${c.name}: r, s in range`);
      assert.ok(verify(hashName, msg, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw), `${c.name} #${i}: OpenSSL verifies`);
      assert.ok(verify(hashName, msg, { key: publicKey, dsaEncoding: 'der' }, ecdsaRawToDer(raw)), `${c.name}: DER form verifies`);
    }
    const h = createHash(hashName).update('same').digest();
    assert.notDeepEqual(ecdsaSignRaw(c, h, d), ecdsaSignRaw(c, h, d), `${c.name}: a fresh k per signature`);
  }
});

test('ecdsaSignRaw: a hash longer or shorter than the order is taken by its leftmost bits, as @noble/curves verifies it', () => {
  for (const c of curves()) {
    const noble = namedCurves().find((x) => x.name === c.name)!.noble;
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: c.nodeName });
    const { d, q } = ecParts(new Uint8Array(privateKey.export({ type: 'pkcs8', format: 'der' })), c.name);
    for (const len of [20, c.size, Math.ceil(c.bits / 8) + 1]) {
      const h = randomBytes(len);
      const raw = ecdsaSignRaw(c, h, d);
      assert.ok(noble.verify(raw, h, q, { prehash: false, format: 'compact', lowS: false }), `${c.name}, ${len}-byte hash`);
      const other = Buffer.from(h);
      other[0]! ^= 0x80;
      assert.equal(noble.verify(raw, other, q, { prehash: false, format: 'compact', lowS: false }), false, `${c.name}: another hash does not verify`);
    }
  }
});

test('ecdsaSignRaw refuses a private scalar outside [1, n-1]', () => {
  const c = curves().find((x) => x.name === 'P-256')!;
  assert.throws(() => ecdsaSignRaw(c, new Uint8Array(32), new Uint8Array(32)), RangeError);
  assert.throws(() => ecdsaSignRaw(c, new Uint8Array(32), Uint8Array.from(Buffer.from(c.n.toString(16), 'hex'))), RangeError);
});
