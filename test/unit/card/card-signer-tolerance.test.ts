/**
 * Issue 18 items 4 and 7: what the host does so a real card's answers are accepted as OpenSC
 * accepts them, and the card gets what a real card accepts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScHsmCard } from '../../../src/card/emulator/sc-hsm-card.js';
import { lenientEcdsaDerToRaw, canonicalCardEcdsa } from '../../../src/card/ecdsa-card-signature.js';
import { leftPad } from '../../../src/card/card-signer.js';
import { truncateDigestForCurve, curveByName } from '../../../src/crypto/ec-curves.js';
import { verifySignature } from '../../../src/crypto/algorithms.js';
import { readySession, RewritingCard } from './card-truth-helpers.js';

test('ECDSA: a digest longer than the curve order is truncated on the host (P-256 + SHA-384/512, P-384 + SHA-512)', async () => {
  const { session } = await readySession();
  const p256 = await session.generateKey({ label: 'p256', algorithm: 'p256' });
  const p384 = await session.generateKey({ label: 'p384', algorithm: 'p384' });
  const tbs = Buffer.from('to be signed');
  for (const [k, alg] of [[p256, 'ecdsa-sha384'], [p256, 'ecdsa-sha512'], [p384, 'ecdsa-sha512']] as const) {
    // The emulator answers 6A80 to input longer than the field (as a real SmartCard-HSM), so this
    // only succeeds when the host truncates.
    const sig = await (await session.signer(k.id)).sign(tbs, alg);
    assert.ok(verifySignature(k.publicKey, alg, tbs, sig), `${k.algorithm} ${alg}`);
  }
  assert.equal(truncateDigestForCurve(new Uint8Array(64), curveByName('P-521')!).length, 64, 'SHA-512 fits P-521 (521-bit order)');
  assert.equal(truncateDigestForCurve(new Uint8Array(64), curveByName('P-256')!).length, 32);
});

test('RSA: a signature the card returns without its leading zero byte is left-padded to the modulus length', async () => {
  let stripped = 0;
  const inner = new ScHsmCard();
  const card = new RewritingCard(inner, (c, r) => {
    // A card that drops leading zero bytes of SIGN results (I2OSP done sloppily).
    if (c[1] !== 0x68 || r.length < 3 || r[0] !== 0x00 || r[r.length - 2] !== 0x90) return r;
    stripped++;
    let i = 0;
    while (r[i] === 0 && i < r.length - 3) i++;
    return r.slice(i);
  });
  const { session } = await readySession(card);
  const k = await session.generateKey({ label: 'rsa', algorithm: 'rsa2048' });
  const signer = await session.signer(k.id);
  for (let i = 0; stripped === 0 && i < 3000; i++) {
    // PSS signatures are randomised, so about one in 256 starts with 00.
    const sig = await signer.sign(Buffer.from(`tbs ${i}`), 'rsa-pss-sha256');
    assert.equal(sig.length, 256);
  }
  assert.ok(stripped > 0, 'the card stripped at least one leading zero');
  assert.deepEqual(leftPad(Uint8Array.of(1, 2), 4), Uint8Array.of(0, 0, 1, 2));
  assert.throws(() => leftPad(new Uint8Array(5), 4), /5 bytes for a 4-byte modulus/);
});

test('ECDSA DER from the card is read as leniently as OpenSC asn1.c and re-encoded canonically', () => {
  const r = Buffer.alloc(32, 0x11);
  const s = Buffer.alloc(32, 0x22);
  const canonical = Buffer.concat([Buffer.from([0x30, 0x44, 0x02, 0x20]), r, Buffer.from([0x02, 0x20]), s]);
  const raw = Buffer.concat([r, s]);
  const variants: [string, Buffer][] = [
    ['canonical', canonical],
    ['long-form lengths', Buffer.concat([Buffer.from([0x30, 0x81, 0x46, 0x02, 0x81, 0x20]), r, Buffer.from([0x02, 0x81, 0x20]), s])],
    ['extra leading zeros', Buffer.concat([Buffer.from([0x30, 0x46, 0x02, 0x21, 0x00]), r, Buffer.from([0x02, 0x21, 0x00]), s])],
    ['trailing bytes after the SEQUENCE', Buffer.concat([canonical, Buffer.from([0x90, 0x00])])],
  ];
  for (const [name, der] of variants) {
    assert.deepEqual(Buffer.from(lenientEcdsaDerToRaw(der, 32)), raw, name);
    assert.deepEqual(Buffer.from(canonicalCardEcdsa(der, 32)), canonical, name);
  }
  // High bit set without the 00 (unsigned, as OpenSC's SC_ASN1_UNSIGNED reads it) → canonical gets the 00.
  const hi = Buffer.alloc(32, 0x80);
  const unsigned = Buffer.concat([Buffer.from([0x30, 0x44, 0x02, 0x20]), hi, Buffer.from([0x02, 0x20]), s]);
  assert.deepEqual(Buffer.from(canonicalCardEcdsa(unsigned, 32)), Buffer.concat([Buffer.from([0x30, 0x45, 0x02, 0x21, 0x00]), hi, Buffer.from([0x02, 0x20]), s]));
  for (const [name, der] of [
    ['truncated', canonical.subarray(0, 40)],
    ['not a SEQUENCE', Buffer.concat([Buffer.from([0x31]), canonical.subarray(1)])],
    ['r longer than the field', Buffer.concat([Buffer.from([0x30, 0x45, 0x02, 0x21, 0x01]), r, Buffer.from([0x02, 0x20]), s])],
    ['zero s', Buffer.from([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x00])],
  ] as const) {
    assert.throws(() => lenientEcdsaDerToRaw(der, 32), RangeError, name);
  }
});
