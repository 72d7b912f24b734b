/**
 * verifySignature (src/crypto/algorithms.ts) remembers the last signature that verified, by value,
 * so the CA's check of an issued certificate does not redo the card layer's check of the same
 * bytes. The memo must never turn a different input into a success: any changed byte of key,
 * data or signature, another algorithm, or a caller's buffer changed after the first call.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { verifySignature } from '../../../src/crypto/algorithms.js';

test('verifySignature: the same bytes again verify; any other byte, algorithm or later change of the caller\'s buffer does not', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  const data = new Uint8Array(Buffer.from('a TBSCertificate, more or less'));
  const sig = new Uint8Array(sign('sha256', data, privateKey));
  assert.equal(verifySignature(spki, 'ecdsa-sha256', data, sig), true);
  assert.equal(verifySignature(spki.slice(), 'ecdsa-sha256', data.slice(), sig.slice()), true, 'equal copies verify');
  for (let i = 0; i < data.length; i++) {
    const d = data.slice();
    d[i]! ^= 1;
    assert.equal(verifySignature(spki, 'ecdsa-sha256', d, sig), false, `data byte ${i} changed`);
  }
  for (let i = 0; i < sig.length; i++) {
    const s = sig.slice();
    s[i]! ^= 1;
    assert.equal(verifySignature(spki, 'ecdsa-sha256', data, s), false, `signature byte ${i} changed`);
  }
  const other = new Uint8Array(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' }));
  assert.equal(verifySignature(other, 'ecdsa-sha256', data, sig), false, 'another key');
  assert.equal(verifySignature(spki, 'ecdsa-sha384', data, sig), false, 'another hash');
  // The first success again, then the caller changes its own buffers in place.
  assert.equal(verifySignature(spki, 'ecdsa-sha256', data, sig), true);
  data[0]! ^= 1;
  assert.equal(verifySignature(spki, 'ecdsa-sha256', data, sig), false, 'the memo holds a copy of the data');
  data[0]! ^= 1;
  sig[sig.length - 1]! ^= 1;
  assert.equal(verifySignature(spki, 'ecdsa-sha256', data, sig), false, 'the memo holds a copy of the signature');
});

test('verifySignature: a large signed input (a CRL\'s TBS) is not copied into the memo', () => {
  // The memo keeps copies; over a million-entry CRL's 40 MB TBS that copy would stay held for
  // the rest of the process. Measured on ArrayBuffer memory after a full collection.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  const size = 16 * 1024 * 1024;
  const verifyLarge = (): void => {
    const data = new Uint8Array(size).fill(0x5a);
    const sig = new Uint8Array(sign('sha256', data, privateKey));
    assert.equal(verifySignature(spki, 'ecdsa-sha256', data, sig), true);
    assert.equal(verifySignature(spki, 'ecdsa-sha256', data, sig), true, 'the same bytes again');
  };
  gc();
  const before = process.memoryUsage().arrayBuffers;
  verifyLarge();
  gc();
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < size / 2, `ArrayBuffer memory grew by ${grown} bytes after verifying ${size} bytes: the memo kept a copy`);
});
