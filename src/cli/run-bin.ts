import { main } from './main.js';

// `main` again for scripts/build-cli.mjs, which runs a few help screens through the single-file
// bundle of this module to record V8's code cache for them (bin/ca.cjs).
export { main };

/**
 * What the `ca` executable does with its command line, shared by its two ways in: `bin.ts`
 * (`node dist/src/cli/bin.js …`, the ES module bundle) and bin/ca.cjs (the `ca` of package.json,
 * which runs the single-file CommonJS bundle of this module with V8's code cache). Sets
 * `process.exitCode`.
 */
export function runBin(argv: readonly string[]): void {
  // `ca list | head` closes the pipe early: that is the reader's choice, not an error of ours.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }

  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`fatal: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
