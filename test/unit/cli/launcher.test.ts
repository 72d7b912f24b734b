/**
 * bin/ca.cjs, the `ca` of package.json, runs the CLI from the single-file bundle with V8's code
 * cache (scripts/build-cli.mjs, docs/benchmarks.md "Code cache"); `node dist/src/cli/bin.js` is
 * what the tests and the offline bundle run. The two must be the same program: same stdout,
 * stderr and exit status, with the cache, with a cache V8 rejects, and without a bundle (then the
 * launcher runs bin.js). And nothing of the build may be frozen into what the launcher runs: the
 * environment and the working directory are the process's own.
 *
 * Needs `npm run build` (the bundle and cache are build products); fails when they are missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/unit/cli/ → the package root.
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const binJs = join(root, 'dist', 'src', 'cli', 'bin.js');
const launcher = join(root, 'bin', 'ca.cjs');
const bundle = join(root, 'dist', 'src', 'cli', 'ca-bundle.cjs');
const cache = join(root, 'dist', 'src', 'cli', 'ca-bundle.cache');

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(argv: readonly string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Run {
  const env: Record<string, string | undefined> = { ...process.env, NODE_OPTIONS: '', CA_HOME: undefined, CA_DEBUG: undefined, CARDCA_NO_CODE_CACHE: undefined, COLUMNS: '100', ...opts.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const r = spawnSync(process.execPath, argv, { cwd: opts.cwd ?? root, env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Which way the launcher took (its CA_DEBUG line), and the run without that line. */
function viaLauncher(path: string, args: readonly string[], opts: { cwd?: string; env?: Record<string, string> } = {}): { way: string; run: Run } {
  const r = run([path, ...args], { ...opts, env: { ...opts.env, CA_DEBUG: '1' } });
  const m = /^ca launcher: (.*)\n/.exec(r.stderr);
  assert.ok(m, `no launcher line in stderr: ${r.stderr.slice(0, 300)}`);
  return { way: m[1]!, run: { ...r, stderr: r.stderr.slice(m[0].length) } };
}

const COMMAND_LINES: readonly (readonly string[])[] = [
  ['--help'],
  ['sign', '--help'],
  ['card', '--help'],
  ['status', '--help'],
  ['ceremony', 'root', '--help'],
  ['export', '--help'],
  ['no-such-command'],
  ['sign'],
  ['sign', '--no-such-option', 'x.csr'],
];

/** A copy of the launcher beside a dist/src/cli/ holding bin.js (linked) and what `files` adds. */
function launcherTree(files: (cli: string) => void): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cardca-launcher-'));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(launcher, join(dir, 'bin', 'ca.cjs'));
  const cli = join(dir, 'dist', 'src', 'cli');
  mkdirSync(cli, { recursive: true });
  // ES module resolution follows the link, so bin.js finds its chunks where they are.
  symlinkSync(binJs, join(cli, 'bin.js'));
  files(cli);
  // The package root is found by walking up to a package.json (src/common/package-root.ts).
  copyFileSync(join(root, 'package.json'), join(dir, 'package.json'));
  return { dir, path: join(dir, 'bin', 'ca.cjs') };
}

test('the build wrote the bundle and its code cache', () => {
  assert.ok(existsSync(bundle), `${bundle} missing: run npm run build`);
  assert.ok(existsSync(cache), `${cache} missing: run npm run build`);
});

test('ca through the launcher with its code cache: same output and exit status as bin.js', () => {
  for (const args of COMMAND_LINES) {
    const { way, run: l } = viaLauncher(launcher, args);
    assert.equal(way, 'bundle with code cache', args.join(' '));
    assert.deepEqual(l, run([binJs, ...args]), args.join(' '));
  }
});

test('a code cache V8 rejects: the bundle is compiled from source, same output and exit status', () => {
  const t = launcherTree((cli) => {
    copyFileSync(bundle, join(cli, 'ca-bundle.cjs'));
    writeFileSync(join(cli, 'ca-bundle.cache'), Buffer.alloc(4096, 0x5a));
  });
  try {
    for (const args of COMMAND_LINES.slice(0, 4)) {
      const { way, run: l } = viaLauncher(t.path, args);
      assert.equal(way, 'bundle, code cache rejected', args.join(' '));
      assert.deepEqual(l, run([binJs, ...args]), args.join(' '));
    }
  } finally {
    rmSync(t.dir, { recursive: true, force: true });
  }
});

test('no bundle, or CARDCA_NO_CODE_CACHE: the launcher runs bin.js, same output and exit status', () => {
  const t = launcherTree(() => undefined);
  try {
    for (const args of COMMAND_LINES.slice(0, 4)) {
      const { way, run: l } = viaLauncher(t.path, args);
      assert.equal(way, 'running bin.js (no current bundle)', args.join(' '));
      assert.deepEqual(l, run([binJs, ...args]), args.join(' '));
    }
    const { way } = viaLauncher(launcher, ['--help'], { env: { CARDCA_NO_CODE_CACHE: '1' } });
    assert.equal(way, 'running bin.js (no current bundle)');
  } finally {
    rmSync(t.dir, { recursive: true, force: true });
  }
});

test('environment and working directory are read when ca runs, not when the cache was built', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardca-launcher-cwd-'));
  try {
    // No CA_HOME: the default home is ./ca-data of the working directory.
    const here = viaLauncher(launcher, ['status'], { cwd: dir });
    assert.equal(here.way, 'bundle with code cache');
    assert.equal(here.run.status, 8, here.run.stderr);
    assert.match(here.run.stderr, new RegExp(`no CA database at ${join(dir, 'ca-data', 'ca.db').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.deepEqual(here.run, run([binJs, 'status'], { cwd: dir }));
    // CA_HOME set for this run only.
    const home = join(dir, 'from-env');
    const fromEnv = viaLauncher(launcher, ['status'], { cwd: dir, env: { CA_HOME: home } });
    assert.match(fromEnv.run.stderr, new RegExp(`no CA database at ${join(home, 'ca.db').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.deepEqual(fromEnv.run, run([binJs, 'status'], { cwd: dir, env: { CA_HOME: home } }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
