import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The cardca package root (the directory holding package.json, profiles/ and templates/), found
 * by walking up from `fromUrl`. Walking up rather than counting `..` keeps it right wherever the
 * compiled code sits: one module per file under dist/src/, or the bundled CLI (scripts/build-cli.mjs)
 * whose chunks all live in dist/src/cli/. Undefined when no ancestor has a package.json.
 */
export function findPackageRoot(fromUrl: string = import.meta.url): string | undefined {
  let dir = dirname(fileURLToPath(fromUrl));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
