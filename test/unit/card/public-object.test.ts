// src/card/drivers/sc-hsm/key-discovery.ts: the public half of a key read from `CE xx` — the
// certificate's subjectPublicKeyInfo exactly as openssl extracts it; a torn write (trailing or
// missing bytes) or something that is not a certificate refused; OpenSC's intrinsic key iD
// (pkcs15-lib.c select_intrinsic_id, "mozilla" style: SHA-1 of the EC point's X coordinate).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { intrinsicKeyId, parsePublicObject } from '../../../src/card/drivers/sc-hsm/key-discovery.js';

function made(dir: string, key: string[]): { cert: Uint8Array; spki: Uint8Array } {
  const pem = join(dir, 'c.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', ...key, '-nodes', '-keyout', join(dir, 'k.pem'), '-subj', '/CN=card key', '-days', '30', '-out', pem], { stdio: 'ignore' });
  return {
    cert: new Uint8Array(execFileSync('openssl', ['x509', '-in', pem, '-outform', 'DER'])),
    spki: new Uint8Array(execFileSync('sh', ['-c', `openssl x509 -in '${pem}' -noout -pubkey | openssl pkey -pubin -outform DER`])),
  };
}

test('parsePublicObject: the SPKI of EC and RSA certificates as openssl extracts it; torn or foreign bytes refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardca-public-object-'));
  try {
    for (const key of [['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], ['rsa:2048']]) {
      const { cert, spki } = made(dir, key);
      const p = parsePublicObject(cert);
      assert.deepEqual(Buffer.from(p.spki), Buffer.from(spki));
      assert.deepEqual(p.certificate, cert);
      assert.equal(p.keyType.type, key[0] === 'ec' ? 'p256' : 'rsa2048');
      assert.throws(() => parsePublicObject(Uint8Array.from([...cert, 0x00])), 'trailing byte');
      assert.throws(() => parsePublicObject(cert.subarray(0, cert.length - 1)), 'truncated');
    }
    assert.throws(() => parsePublicObject(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01)), 'a SEQUENCE that is not a certificate');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('intrinsicKeyId: SHA-1 of the EC point X coordinate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardca-public-object-'));
  try {
    const { spki } = made(dir, ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    // P-256 SPKI: the last 65 octets are the uncompressed point 04 ‖ X ‖ Y (RFC 5480 §2.2).
    const x = spki.subarray(spki.length - 64, spki.length - 32);
    assert.equal(spki[spki.length - 65], 0x04);
    assert.deepEqual(Buffer.from(intrinsicKeyId(spki)), createHash('sha1').update(x).digest());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
