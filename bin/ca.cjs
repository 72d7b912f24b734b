#!/usr/bin/env node
'use strict';
// `ca` as operators run it (package.json "bin"). Same command line, output and exit codes as
// `node dist/src/cli/bin.js`, which it falls back to; only faster to start.
//
// Why (docs/benchmarks.md, "Code cache"): after bundling, most of what `ca <cmd> --help` costs
// beyond Node's own start is compiling the bundle (yargs alone is ≈ 210 KB), and Node 20 keeps
// no compile cache for ES modules. `npm run build` (scripts/build-cli.mjs) therefore also writes
// the CLI as one CommonJS script, dist/src/cli/ca-bundle.cjs, and V8's code cache for it,
// ca-bundle.cache, recorded after running a few help screens on this machine's node. Here the
// script is compiled with that cache: V8 checks that the cache fits (its version, flags and the
// source) and, when it does not, compiles from source instead — slower, same behaviour.
// Nothing of the build's process is in a code cache (it holds compiled functions, no values), so
// environment, arguments, cwd, clock and locale are this process's.
//
// bin.js runs instead when the bundle is missing or older than bin.js (a tsc-only build, the
// offline ceremony bundle, which ships tsc's output) or CARDCA_NO_CODE_CACHE is set. With CA_DEBUG
// set, one line on stderr says which way was taken.
const { readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

const cli = join(__dirname, '..', 'dist', 'src', 'cli');
const binJs = join(cli, 'bin.js');
const bundlePath = join(cli, 'ca-bundle.cjs');
const cachePath = join(cli, 'ca-bundle.cache');
const debug = (line) => {
  if (process.env.CA_DEBUG) process.stderr.write(`ca launcher: ${line}\n`);
};

/** The bundle's source when it is there and not older than bin.js, else undefined. */
function bundleSource() {
  if (process.env.CARDCA_NO_CODE_CACHE) return undefined;
  try {
    if (statSync(bundlePath).mtimeMs < statSync(binJs).mtimeMs) return undefined;
    // Pure ASCII (build-cli.mjs escapes the rest), so latin1 is the same text, and Node hands V8
    // a large latin1 string without decoding it (utf8 cost ≈ 40 ms more here for 2.7 MB).
    return readFileSync(bundlePath).toString('latin1');
  } catch {
    return undefined;
  }
}

const source = bundleSource();
if (source === undefined) {
  debug('running bin.js (no current bundle)');
  import(pathToFileURL(binJs).href).catch((err) => {
    process.stderr.write(`fatal: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
} else {
  const vm = require('node:vm');
  let cachedData;
  try {
    cachedData = readFileSync(cachePath);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(source, {
    filename: bundlePath,
    cachedData,
    // The bundle's own import() of Node built-ins (myeid-driver's node:crypto).
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  debug(cachedData === undefined ? 'bundle without code cache (none)' : script.cachedDataRejected ? 'bundle, code cache rejected' : 'bundle with code cache');
  const mod = { exports: {} };
  // The bundle is one function (scripts/build-cli.mjs): CommonJS's five names, then the URL its
  // import.meta.url stands for. It is bin.js's, so the package root is found as from bin.js.
  script.runInThisContext()(mod.exports, require('node:module').createRequire(binJs), mod, binJs, cli, pathToFileURL(binJs).href);
  mod.exports.runBin(process.argv.slice(2));
}
