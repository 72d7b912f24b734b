/**
 * Issue #14 item 3: the CRL cycle hashes the TBS once as it is written, passes that digest to the
 * signer and to the store, and writes the signed CRL around the TBS in place. These tests hold
 * what that must not weaken: the digest is the SHA-256 of the TBS bytes stored with the intent,
 * the released CRL's TBS octets are hashed again after signing (a changed byte is CA_TBS_MISMATCH),
 * and a signature over anything else is CA_SIGNATURE_INVALID — each before `issued`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase } from '../../../src/db/database.js';
import { SqliteStore } from '../../../src/db/sqlite-store.js';
import { issueCrl } from '../../../src/ca/crl-cycle.js';
import { assembleCrl, assembleCrlInFrame } from '../../../src/ca/crl/assemble-crl.js';
import type { Clock } from '../../../src/ca/clock.js';
import type { Signer } from '../../../src/crypto/signer.js';
import { verifySignatureOfDigest } from '../../../src/crypto/verify-digest.js';
import { CardcaError } from '../../../src/common/cardca-error.js';
import { revokedSubCa } from '../../helpers/revoked-sub-ca.js';

const code = (c: string) => (e: unknown) => e instanceof CardcaError && e.code === c;
const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

let now = new Date('2026-11-20T09:00:00.000Z');
const clock: Clock = { now: () => (now = new Date(now.getTime() + 1000)) };

/** A sub-CA `servers` with two revoked certificates. */
const rig = () => revokedSubCa('cardca-crl-digest-', clock, ['a.example.test', 'b.example.test']);

test('the one digest the signer and the store get is the SHA-256 of the TBS stored with the intent, and the CRL verifies', async () => {
  const r = await rig();
  const seen: (Uint8Array | undefined)[] = [];
  const recording: Signer = { algorithms: () => r.signer.algorithms(), publicKey: () => r.signer.publicKey(), sign: (tbs, alg, d) => (seen.push(d), r.signer.sign(tbs, alg, d)) };
  const crl = await issueCrl({ store: r.store, clock, signer: recording, issuerName: 'servers', issuer: r.info });
  // Read back from the disk itself, not from the record this process kept: the TBS file the
  // intent named (migration 11), under the name its row gives.
  const row = r.store.db.prepare('SELECT f.length, l.tbs_sha256 FROM crl_tbs_files f JOIN crls l ON l.id = f.crl_id WHERE l.id = ?').get(crl.record.id) as { length: number; tbs_sha256: Buffer };
  const stored = { tbs: readFileSync(join(r.dir, 'crl-tbs', `${crl.record.id}-${row.tbs_sha256.toString('hex')}.tbs`)), tbs_sha256: row.tbs_sha256 };
  assert.equal(stored.tbs.length, row.length);
  assert.equal(seen.length, 1);
  assert.ok(seen[0], 'the signer was given the digest');
  assert.deepEqual(Buffer.from(seen[0]!), sha256(stored.tbs));
  assert.deepEqual(Buffer.from(stored.tbs_sha256), sha256(stored.tbs));
  assert.deepEqual(Buffer.from(crl.record.tbsSha256), sha256(stored.tbs));
  assert.deepEqual(Buffer.from(crl.derSha256), sha256(crl.der));
  // The released DER is header ‖ the stored TBS ‖ signature, and the stored DER is the same bytes.
  assert.ok(Buffer.from(crl.der).includes(stored.tbs));
  const fresh = new SqliteStore(openDatabase(join(r.dir, 'ca.db')));
  assert.deepEqual(Buffer.from(fresh.latestCrl('servers', 'issued')!.der!), Buffer.from(crl.der));
  fresh.db.close();
  const text = execFileSync('openssl', ['crl', '-inform', 'DER', '-noout', '-text'], { input: crl.der }).toString();
  assert.equal((text.match(/Serial Number:/g) ?? []).length, 2);
});

test('a TBS byte changed after signing is CA_TBS_MISMATCH, and the CRL is not issued', async () => {
  const r = await rig();
  const flipping: Signer = {
    algorithms: () => r.signer.algorithms(),
    publicKey: () => r.signer.publicKey(),
    sign: async (tbs, alg, d) => {
      const sig = await r.signer.sign(tbs, alg, d);
      tbs[tbs.length - 1]! ^= 1; // the in-memory TBS, after the card signed its digest
      return sig;
    },
  };
  await assert.rejects(issueCrl({ store: r.store, clock, signer: flipping, issuerName: 'servers', issuer: r.info }), code('CA_TBS_MISMATCH'));
  assert.equal(r.store.latestCrl('servers')!.status, 'outcome_unknown');
});

test('a signature over other bytes than the TBS is CA_SIGNATURE_INVALID, and the CRL is not issued', async () => {
  const r = await rig();
  const other: Signer = { algorithms: () => r.signer.algorithms(), publicKey: () => r.signer.publicKey(), sign: (_tbs, alg) => r.signer.sign(Uint8Array.of(0x30, 0x00), alg) };
  await assert.rejects(issueCrl({ store: r.store, clock, signer: other, issuerName: 'servers', issuer: r.info }), code('CA_SIGNATURE_INVALID'));
  assert.equal(r.store.latestCrl('servers')!.status, 'outcome_unknown');
});

test('a store handed a digest that is not its TBS refuses the CRL (STORE_CRL_TBS_MISMATCH)', async () => {
  const r = await rig();
  const crl = await issueCrl({ store: r.store, clock, signer: r.signer, issuerName: 'servers', issuer: r.info });
  const again = r.store.reserveCrl('servers', () => ({ tbs: r.store.latestCrl('servers')!.tbs, tbsSha256: crl.record.tbsSha256, thisUpdate: now, nextUpdate: new Date(now.getTime() + 86_400_000), entries: 2 }), () => ({ event: 'crl.intent', ca: 'servers', data: {} }), clock.now());
  assert.throws(() => r.store.markCrlIssued(again.id, crl.der, { event: 'crl.issued', ca: 'servers', data: {} }, clock.now(), new Uint8Array(32)), code('STORE_CRL_TBS_MISMATCH'));
});

test('assembleCrlInFrame writes the same DER as assembleCrl, in place when the frame has room, by copy otherwise', () => {
  const tbsBody = Uint8Array.of(0x02, 0x01, 0x01, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02);
  const tbs = Uint8Array.of(0x30, tbsBody.length, ...tbsBody);
  const sig = Uint8Array.of(0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01);
  const want = assembleCrl(tbs, 'ecdsa-sha256', sig);
  const frame = new Uint8Array(6 + tbs.length + 1024);
  frame.set(tbs, 6);
  const inFrame = frame.subarray(6, 6 + tbs.length);
  const got = assembleCrlInFrame(frame, inFrame, 'ecdsa-sha256', sig);
  assert.deepEqual(Buffer.from(got), Buffer.from(want));
  assert.equal(got.buffer, frame.buffer, 'written in place');
  assert.deepEqual(Buffer.from(inFrame), Buffer.from(tbs), 'the TBS octets are not written');
  // No room before the TBS: a copy, the frame untouched around it.
  const tight = new Uint8Array(tbs.length + 1024);
  tight.set(tbs, 0);
  const copied = assembleCrlInFrame(tight, tight.subarray(0, tbs.length), 'ecdsa-sha256', sig);
  assert.deepEqual(Buffer.from(copied), Buffer.from(want));
  assert.notEqual(copied.buffer, tight.buffer);
  assert.ok(tight.subarray(tbs.length).every((b) => b === 0));
});

test('verifySignatureOfDigest: the verdict of verifySignature, on the digest (ECDSA P-256/P-384, RSA PKCS#1 v1.5), on the data for RSA-PSS', () => {
  const data = Buffer.from('a TBS of some length '.repeat(100));
  const cases = [
    { alg: 'ecdsa-sha256', key: generateKeyPairSync('ec', { namedCurve: 'P-256' }), md: 'sha256', opts: { dsaEncoding: 'der' as const } },
    { alg: 'ecdsa-sha256', key: generateKeyPairSync('ec', { namedCurve: 'P-384' }), md: 'sha256', opts: { dsaEncoding: 'der' as const } },
    { alg: 'rsa-pkcs1-sha256', key: generateKeyPairSync('rsa', { modulusLength: 2048 }), md: 'sha256', opts: {} },
  ] as const;
  for (const c of cases) {
    const spki = new Uint8Array(c.key.publicKey.export({ format: 'der', type: 'spki' }));
    const sig = new Uint8Array(nodeSign(c.md, data, { key: c.key.privateKey, ...c.opts }));
    assert.equal(verifySignatureOfDigest(spki, c.alg, sha256(data), sig), true, c.alg);
    assert.equal(verifySignatureOfDigest(spki, c.alg, sha256(Buffer.from('other')), sig), false, `${c.alg} other digest`);
    const bad = sig.slice();
    bad[bad.length - 1]! ^= 1;
    assert.equal(verifySignatureOfDigest(spki, c.alg, sha256(data), bad), false, `${c.alg} bad signature`);
    assert.equal(verifySignatureOfDigest(spki, c.alg, new Uint8Array(31), sig), false, `${c.alg} digest of the wrong length`);
  }
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = new Uint8Array(rsa.publicKey.export({ format: 'der', type: 'spki' }));
  const pss = new Uint8Array(nodeSign('sha256', data, { key: rsa.privateKey, padding: 6, saltLength: 32 }));
  assert.equal(verifySignatureOfDigest(spki, 'rsa-pss-sha256', sha256(data), pss, data), true);
  assert.equal(verifySignatureOfDigest(spki, 'rsa-pss-sha256', sha256(data), pss), false, 'PSS needs the data');
});
