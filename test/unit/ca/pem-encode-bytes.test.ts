/**
 * pemEncodeBytes (chain.ts) writes each chunk's base64 into place and spreads its lines apart:
 * the result must be RFC 7468 §2 text, 64 characters a line, at every boundary of lines and chunks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { pemEncodeBytes, pemEncodePieces } from '../../../src/ca/chain.js';

const reference = (der: Buffer): string => `-----BEGIN X509 CRL-----\n${(der.toString('base64').match(/.{1,64}/g) ?? ['']).join('\n')}\n-----END X509 CRL-----\n`;

test('pemEncodeBytes equals the one-string encoding at every line and chunk boundary', () => {
  for (const n of [0, 1, 2, 3, 47, 48, 49, 96, 48 * 1024 - 1, 48 * 1024, 48 * 1024 + 1, 48 * 1024 + 48, 3 * 48 * 1024 + 17]) {
    const der = randomBytes(n);
    assert.equal(pemEncodeBytes(der, 'X509 CRL').toString('latin1'), reference(der), `${n} octets`);
  }
});

test('pemEncodePieces, written out piece by piece, is pemEncodeBytes byte for byte at every piece boundary', () => {
  const PIECE = 48 * 16_384;
  for (const n of [0, 1, 47, 48, 49, PIECE - 1, PIECE, PIECE + 1, PIECE + 48, 2 * PIECE + 5]) {
    const der = randomBytes(n);
    // Each piece is copied before the next is asked for: the generator reuses its buffer.
    const written = Buffer.concat([...(function* () {
      for (const piece of pemEncodePieces(der, 'X509 CRL')) yield Buffer.from(piece);
    })()]);
    assert.ok(written.equals(pemEncodeBytes(der, 'X509 CRL')), `${n} octets`);
  }
});
