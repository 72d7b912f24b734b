import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CardcaError } from './cardca-error.js';
import { findPackageRoot } from './package-root.js';

/**
 * Which build of cardca is running. The offline bundle that goes onto the air-gapped ceremony
 * machine (scripts/bundle.sh, docs/air-gapped-box.md) carries a marker file next to its
 * package.json; development and rehearsal checkouts never do. The ceremony build leaves out the
 * card emulator and refuses everything that belongs to rehearsals, so a TEST card cannot end up
 * in a real ceremony by accident. The marker is listed in the bundle manifest like every other
 * file: removing it is tampering that `install.sh` and `scripts/verify-bundle` detect.
 */
export type BuildFlavour = 'ceremony' | 'development';

/** Name of the marker file, at the package root (the directory holding package.json). */
export const CEREMONY_BUILD_MARKER = 'CEREMONY-BUILD';

/** The package root: this file compiles to <root>/dist/src/common/build-flavour.js (or into the bundled CLI under dist/src/cli/). */
function defaultPackageRoot(): string {
  return findPackageRoot(import.meta.url) ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

export function buildFlavour(packageRoot: string = defaultPackageRoot()): BuildFlavour {
  return existsSync(join(packageRoot, CEREMONY_BUILD_MARKER)) ? 'ceremony' : 'development';
}

/**
 * Throws when running as the ceremony build. Call it first thing in every action that belongs to
 * rehearsals only (`ca emulator`, rehearsal CA homes). `what` names the action for the operator.
 */
export function refuseInCeremonyBuild(what: string, packageRoot?: string): void {
  if (buildFlavour(packageRoot) !== 'ceremony') return;
  throw new CardcaError('USAGE_CEREMONY_BUILD', `${what} is not available in the ceremony build of cardca`, {
    hint: 'Emulated cards and rehearsal homes belong on a rehearsal machine (a git checkout: `npm run rehearsal`), never on the ceremony machine.',
  });
}
