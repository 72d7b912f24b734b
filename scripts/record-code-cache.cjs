'use strict';
// Run by scripts/build-cli.mjs, in a child process with its output discarded:
//   node scripts/record-code-cache.cjs BUNDLE CACHE WORKDIR
// Compiles the single-file CLI bundle as bin/ca.cjs does, runs a few command lines through it
// (every command's --help, the top-level listing, and a `ca sign` that stops at its missing CA
// home, so that the sign path's modules are compiled too), then writes V8's code cache for the
// script. A code cache taken after running holds the functions compiled so far, not only the top
// level; it holds code, no values, so nothing of this process (env, cwd, argv, clock) is kept.
// WORKDIR is an empty directory: cwd and CA home of the runs, so that nothing is written
// anywhere else.
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const vm = require('node:vm');
const { createRequire } = require('node:module');

const [bundlePath, cachePath, work] = process.argv.slice(2);
const binJs = join(bundlePath, '..', 'bin.js');

async function record() {
  process.chdir(work);
  for (const k of Object.keys(process.env)) if (k.startsWith('CA_') || k.startsWith('CARDCA_')) delete process.env[k];
  const script = new vm.Script(readFileSync(bundlePath).toString('latin1'), {
    filename: bundlePath,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, createRequire(binJs), mod, binJs, join(bundlePath, '..'), pathToFileURL(binJs).href);
  const { main } = mod.exports;
  const home = join(work, 'no-such-home');
  const runs = [['--help'], ['sign', join(work, 'none.csr'), '--issuer', 'servers', '--home', home]];
  for (const name of ['adopt', 'audit', 'card', 'ceremony', 'crl', 'csr', 'db', 'emulator', 'enroll', 'export', 'init', 'key', 'list', 'openvpn', 'profiles', 'revoke', 'show', 'sign', 'status', 'verify']) {
    runs.push([name, '--help']);
  }
  for (const argv of runs) await main(argv);
  process.exitCode = 0;
  writeFileSync(cachePath, script.createCachedData());
}

record().catch((err) => {
  process.stderr.write(`record-code-cache: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
