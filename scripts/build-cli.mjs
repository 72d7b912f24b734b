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
// walks up (src/common/package-root.ts).
//
// `--ceremony`: the build for the offline ceremony bundle (scripts/bundle.sh), which ships
// without the card emulator (src/common/build-flavour.ts). The one guarded `import()` of the
// emulator command in cli/commands/index.ts is left as an import of a file that is not shipped
// (that branch never runs in the ceremony build: refused-command.ts answers instead), and the
// build fails if any emulator module still ends up in the bundle.
import { build } from 'esbuild';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliBundleOptions } from './cli-bundle-options.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'src', 'cli');
const CHUNK_PREFIX = 'bundle-';
// The entry is tsc's bin.js, which this build replaces: a second run without tsc in between
// would bundle the bundle (whose chunks it has just removed).
if (readFileSync(join(out, 'bin.js'), 'utf8').includes('__cardcaCreateRequire')) {
  throw new Error('dist/src/cli/bin.js is already the bundle: run tsc -p tsconfig.json first (npm run build does both)');
}
// Chunks of an earlier build: hashed names would otherwise pile up.
for (const f of readdirSync(out)) if (f.startsWith(CHUNK_PREFIX) && f.endsWith('.js')) rmSync(join(out, f));

const ceremony = process.argv.includes('--ceremony');
const EMULATOR_MODULE = /\/dist\/src\/(card\/emulator\/|cli\/commands\/emulator(-run)?\.js$)/;
const leaveOutEmulator = {
  name: 'ceremony-build-leaves-out-the-emulator',
  setup(b) {
    b.onResolve({ filter: /^\.\/emulator\.js$/ }, (args) =>
      args.importer.endsWith(join('dist', 'src', 'cli', 'commands', 'index.js')) ? { path: args.path, external: true } : undefined);
  },
};

const result = await build({
  plugins: ceremony ? [leaveOutEmulator] : [],
  entryPoints: { bin: join(out, 'bin.js') },
  outdir: out,
  allowOverwrite: true,
  ...cliBundleOptions(root),
  splitting: true,
  chunkNames: `${CHUNK_PREFIX}[name]-[hash]`,
  external: ['better-sqlite3', 'pcsclite'],
  metafile: true,
});

const bundled = Object.keys(result.metafile.inputs);
if (ceremony) {
  const emulator = bundled.filter((f) => EMULATOR_MODULE.test('/' + f));
  if (emulator.length > 0) throw new Error(`the ceremony build bundled emulator modules: ${emulator.join(', ')}`);
}

// The assert alias (cli-bundle-options.mjs) is only sound for yargs' two identity checks: refuse any other importer.
for (const [file, input] of Object.entries(result.metafile.inputs)) {
  const usesShim = input.imports.some((i) => i.path.endsWith('dist/src/cli/yargs-assert.js'));
  if (usesShim && !/node_modules\/yargs\//.test(file)) throw new Error(`${file} imports 'assert', which the CLI bundle maps to src/cli/yargs-assert.ts (two functions only)`);
}

// The yaml package is loaded at run time, only when a profile is outside plain-yaml.ts's subset
// or an error needs its line (src/ca/profile/yaml-source.ts): bundled, every `ca` process would
// compile and evaluate it again. Refuse a build into which a static import brought it back.
const yamlInputs = bundled.filter((f) => /node_modules\/yaml\//.test(f));
if (yamlInputs.length > 0) throw new Error(`the CLI bundle contains the yaml package (${yamlInputs[0]}, ${yamlInputs.length} files): import it only through yaml-source.ts's yamlPackageOnDemand()`);
