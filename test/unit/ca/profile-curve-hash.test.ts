import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadProfiles, ProfileError } from '../../../src/ca/index.js';
import { PROFILES_DIR, tempDir } from './ca-test-kit.js';

/** Issue 18 item 4: only the BR curve/hash pairs (P-256+SHA-256, P-384+SHA-384, P-521+SHA-512;
 * P-521 CA keys are refused earlier by the key list). */
test('the profile loader refuses an ECDSA CA profile whose hash does not match its curve, naming the BR rule', () => {
  for (const [key, bad, good] of [
    ['p384', 'ecdsa-sha256', 'ecdsa-sha384'],
    ['p256', 'ecdsa-sha384', 'ecdsa-sha256'],
  ] as const) {
    const dir = tempDir('cardca-br-');
    cpSync(PROFILES_DIR, dir, { recursive: true });
    const p = join(dir, 'root.yaml');
    const text = readFileSync(p, 'utf8').replace(/^key: .*$/m, `key: ${key}`).replace(/^signatureAlgorithm: .*$/m, `signatureAlgorithm: ${bad}`);
    writeFileSync(p, text);
    assert.throws(
      () => loadProfiles(dir),
      (e: unknown) => e instanceof ProfileError && /BR §7\.1\.3\.2\.2/.test(e.message) && e.message.includes(good),
      `${key} + ${bad}`,
    );
    writeFileSync(p, text.replace(`signatureAlgorithm: ${bad}`, `signatureAlgorithm: ${good}`));
    assert.equal(loadProfiles(dir).caProfile('root').key, key);
  }
});
