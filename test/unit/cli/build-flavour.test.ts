/**
 * The ceremony-build marker (src/common/build-flavour.ts): a package root with CEREMONY-BUILD is
 * the ceremony build, which refuses rehearsal-only actions with USAGE_CEREMONY_BUILD (exit 2);
 * a root without it (every git checkout) is the development build and refuses nothing. The
 * installed bundle's `ca emulator` refusal is tested end to end in test/integration/bundle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CardcaError } from '../../../src/common/cardca-error.js';
import { CEREMONY_BUILD_MARKER, buildFlavour, refuseInCeremonyBuild } from '../../../src/common/build-flavour.js';
import { EXIT, exitCodeFor } from '../../../src/cli/exit-codes.js';

test('this checkout is the development build', () => {
  assert.equal(buildFlavour(), 'development');
  refuseInCeremonyBuild('`ca emulator`'); // does not throw
});

test('a package root with the marker is the ceremony build and refuses rehearsal actions', () => {
  const root = mkdtempSync(join(tmpdir(), 'cardca-flavour-'));
  try {
    assert.equal(buildFlavour(root), 'development');
    writeFileSync(join(root, CEREMONY_BUILD_MARKER), 'ceremony\n');
    assert.equal(buildFlavour(root), 'ceremony');
    assert.throws(
      () => refuseInCeremonyBuild('a rehearsal home', root),
      (e: unknown) =>
        e instanceof CardcaError &&
        e.code === 'USAGE_CEREMONY_BUILD' &&
        e.message === 'a rehearsal home is not available in the ceremony build of cardca' &&
        exitCodeFor(e) === EXIT.usage &&
        /rehearsal machine/.test(e.hint ?? ''),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
