// The esbuild options every bundle of the `ca` command line shares (scripts/build-cli.mjs), in one
// place so that bench/start-up-and-batch.ts can bundle its yargs floor program (a one-command
// yargs CLI) exactly as `ca` is bundled: the floor then differs from `ca` only in what `ca` does.
import { join } from 'node:path';

/** `root`: the package root (dist/src/cli/ holds the two modules aliased below). */
export function cliBundleOptions(root) {
  return {
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // yargs, cliui and wrap-ansi measure help text with string-width, whose import and calls cost
    // more than the rest of `ca sign --help` together; src/cli/terminal-width.ts says why ours is
    // enough for help layout.
    // Likewise yargs' two identity checks from `assert` (src/cli/yargs-assert.ts): Node's assert
    // module costs ~8 ms CPU to load. Only yargs imports `assert` in the bundle (build-cli.mjs
    // fails if another bundled module starts to).
    alias: {
      'string-width': join(root, 'dist', 'src', 'cli', 'terminal-width.js'),
      assert: join(root, 'dist', 'src', 'cli', 'yargs-assert.js'),
    },
    // CommonJS dependencies bundled into ESM call require() for Node built-ins.
    banner: { js: "import { createRequire as __cardcaCreateRequire } from 'node:module'; const require = __cardcaCreateRequire(import.meta.url);" },
    legalComments: 'none',
    logLevel: 'warning',
  };
}
