/**
 * The emulator's signing reads the EC private scalar straight from the key's PKCS#8 DER
 * (card-crypto.ts `ecPrivateScalar`) instead of importing the key into node:crypto twice per
 * signature. It must be the very scalar node:crypto sees (`ecParts`), on every curve the card
 * generates, including keys whose d has leading zero octets, and the signature must verify
 * against the key's public point.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { ecdsaSignHash, ecParts, ecPrivateScalar } from '../../../src/card/emulator/card-crypto.js';
import { curves } from '../../../src/card/emulator/ec-curves.js';

test('ecPrivateScalar equals the d node:crypto exports, on every curve, and ecdsaSignHash verifies with the public point', () => {
  const h = createHash('sha256').update('tbs').digest();
  for (const c of curves()) {
    const hc = h.subarray(0, Math.min(h.length, c.size));
    for (let i = 0; i < 3; i++) {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: c.nodeName });
      const pkcs8 = new Uint8Array(privateKey.export({ type: 'pkcs8', format: 'der' }));
      const want = ecParts(pkcs8, c.name);
      assert.deepEqual(ecPrivateScalar(pkcs8, c), want.d, `${c.name}: same scalar`);
      assert.ok(c.verify(ecdsaSignHash(pkcs8, c.name, hc), hc, want.q), `${c.name}: signature verifies`);
    }
  }
  // A P-256 d with a leading zero octet (1 key in 256; 4000 tries miss with odds e^-15).
  const p256 = curves().find((c) => c.name === 'P-256')!;
  let found = false;
  for (let i = 0; i < 4000 && !found; i++) {
    const pkcs8 = new Uint8Array(generateKeyPairSync('ec', { namedCurve: p256.nodeName }).privateKey.export({ type: 'pkcs8', format: 'der' }));
    const d = ecPrivateScalar(pkcs8, p256);
    if (d[0] !== 0) continue;
    found = true;
    assert.equal(d.length, 32);
    assert.deepEqual(d, ecParts(pkcs8, 'P-256').d);
  }
  assert.ok(found, 'a key with a leading zero octet in d was tried');
});

test('ecPrivateScalar refuses what is not an EC PKCS#8 key', () => {
  const c = curves()[0]!;
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: c.nodeName });
  const pkcs8 = new Uint8Array(privateKey.export({ type: 'pkcs8', format: 'der' }));
  assert.throws(() => ecPrivateScalar(pkcs8.subarray(0, pkcs8.length - 1), c));
  assert.throws(() => ecPrivateScalar(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00), c));
});
