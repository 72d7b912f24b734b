/**
 * pemEncodeBytes (chain.ts) writes each chunk's base64 into place and spreads its lines apart:
 * the result must be RFC 7468 §2 text, 64 characters a line, at every boundary of lines and chunks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { pemEncodeBytes } from '../../../src/ca/chain.js';

const reference = (der: Buffer): string => `-----BEGIN X509 CRL-----\n${(der.toString('base64').match(/.{1,64}/g) ?? ['']).join('\n')}\n-----END X509 CRL-----\n`;

test('pemEncodeBytes equals the one-string encoding at every line and chunk boundary', () => {
  for (const n of [0, 1, 2, 3, 47, 48, 49, 96, 48 * 1024 - 1, 48 * 1024, 48 * 1024 + 1, 48 * 1024 + 48, 3 * 48 * 1024 + 17]) {
    const der = randomBytes(n);
    assert.equal(pemEncodeBytes(der, 'X509 CRL').toString('latin1'), reference(der), `${n} octets`);
  }
});
