// `npm run build`, after tsc: bundle the `ca` command line into dist/src/cli/bin.js (package.json
// "bin"), replacing tsc's one-line entry module, so that `ca` loads a few files instead of ~600.
//
// Why (docs/benchmarks.md, "Where the time goes"): a CPU profile of one `ca sign` spent about
// half its time in Node's ESM loader resolving, reading and linking modules one file at a time
// (our ~100 modules, yargs' ~30, the @peculiar/asn1 family, pkijs, yaml…). esbuild puts them in
// one module graph with code splitting: every `import()` of a command (cli/commands/index.ts) and
// of a handler stays a separate chunk, loaded only by the command that runs, so `ca sign --help`
// loads yargs and the option definitions, not the ASN.1 schemas.
//
// Kept as they are: better-sqlite3 and pcsclite (native modules, resolved from node_modules at
// run time); every other dist/src/ module (tests and bench import them one by one). The chunks
// sit next to bin.js in dist/src/cli/, so code that finds the package root from import.meta.url
// walks up (src/common/package-root.ts). The offline ceremony bundle (scripts/bundle.sh) runs
// tsc only and ships the unbundled modules: this step is not part of it.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'src', 'cli');
const CHUNK_PREFIX = 'bundle-';
// Chunks of an earlier build: hashed names would otherwise pile up.
for (const f of readdirSync(out)) if (f.startsWith(CHUNK_PREFIX) && f.endsWith('.js')) rmSync(join(out, f));

await build({
  entryPoints: { bin: join(out, 'bin.js') },
  outdir: out,
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  chunkNames: `${CHUNK_PREFIX}[name]-[hash]`,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'pcsclite'],
  // yargs, cliui and wrap-ansi measure help text with string-width, whose import and calls cost
  // more than the rest of `ca sign --help` together; src/cli/terminal-width.ts says why ours is
  // enough for help layout.
  alias: { 'string-width': join(root, 'dist', 'src', 'cli', 'terminal-width.js') },
  // CommonJS dependencies bundled into ESM call require() for Node built-ins.
  banner: { js: "import { createRequire as __cardcaCreateRequire } from 'node:module'; const require = __cardcaCreateRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});

// ---------------------------------------------------------------------------------------------
// The same CLI as one CommonJS script and V8's code cache for it, for bin/ca.cjs (the `ca` of
// package.json; docs/benchmarks.md, "Code cache"): Node 20 caches no ES module compilation, and
// compiling the bundle was most of `ca <cmd> --help` after Node's own start. esbuild splits ES
// modules only, so this one is a single file: every command's code is in it, compiled lazily by
// V8 when first called, or taken from the cache. The file is one function expression (banner and
// footer) that bin/ca.cjs calls with CommonJS's names and the URL import.meta.url stands for
// (bin.js's, so the package root is found the same way).
//
// The cache is V8-build specific, so it is recorded here, on the machine, by a child process
// running this node (scripts/record-code-cache.cjs). A cache V8 does not accept is rejected at
// run time and bin/ca.cjs compiles from source; a failure here leaves no cache, and no bundle if
// the bundle itself failed (then bin/ca.cjs runs bin.js).
{
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const bundlePath = join(out, 'ca-bundle.cjs');
  const cachePath = join(out, 'ca-bundle.cache');
  for (const f of [bundlePath, cachePath]) rmSync(f, { force: true });
  const bundle = await build({
    entryPoints: [join(out, 'run-bin.js')],
    outfile: bundlePath,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['better-sqlite3', 'pcsclite'],
    alias: { 'string-width': join(root, 'dist', 'src', 'cli', 'terminal-width.js') },
    define: { 'import.meta.url': '__cardcaImportMetaUrl' },
    banner: { js: '(function (exports, require, module, __filename, __dirname, __cardcaImportMetaUrl) {' },
    footer: { js: '})' },
    // Reading the source is paid on every start, cache or not (≈ 10 ms per MB here): minified
    // (2.8 → 1.95 MB), function and class names kept for CA_DEBUG stack traces and error names.
    minify: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    write: false,
  });
  // One non-ASCII character makes V8 hold the whole source as two-byte string (twice the bytes
  // to decode and hash per start); esbuild leaves some in regular expressions (a `…` in a
  // character class). \uXXXX means the same code unit in strings, templates and regexps.
  writeFileSync(bundlePath, bundle.outputFiles[0].text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  const work = mkdtempSync(join(tmpdir(), 'cardca-code-cache-'));
  try {
    execFileSync(process.execPath, [join(root, 'scripts', 'record-code-cache.cjs'), bundlePath, cachePath, work], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
      timeout: 120_000,
    });
  } catch (err) {
    rmSync(cachePath, { force: true });
    process.stderr.write(`build-cli: no code cache (bin/ca.cjs compiles the bundle from source): ${err instanceof Error ? err.message : String(err)}\n${err?.stderr ?? ""}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
