#!/usr/bin/env node
// The test command (`npm test`):
//   0. builds with tsc (`--no-build` skips). Type errors do not stop the run — tsc still emits
//      JavaScript — they are reported as the failing test "the repository type-checks" in
//      test/unit/lint-imports (via the result file named by CARDCA_TYPECHECK_RESULT), so the
//      suite summary always appears and always counts them;
//   1. makes sure the PC/SC rig is up (scripts/rig.sh start: reuses a pcscd that already shows
//      our 8 vpcd readers, otherwise starts one), and stops it afterwards only if it started it;
//   2. runs ONE `node --test` over every compiled test file, so node's summary (`# pass N`,
//      `# fail N`) covers the whole suite; lint is part of the suite (test/unit/lint-imports);
//   3. exits with the test run's exit code.
// It sets OPENSC_CONF=test/rig/opensc.conf (unless set) so OpenSC's PKCS#11 module has a slot
// for each of the 8 readers.
//
// Usage: node scripts/run-tests.mjs [--only unit|integration|<path substring>]... [--no-rig] [--no-build]
//
// Only dist/test/**/*.test.js files whose test/**/*.test.ts source still exists are run, so stale
// output of a deleted test in dist/ does not haunt the suite.
//
// Concurrency: 1 file at a time. Integration suites own distinct vpcd ports per group
// (35963/4, 35965/6, 35967/8, 35969/70) but files of one group share them, so running files in
// parallel would need per-group scheduling; correctness first.
//
// Output: node's spec reporter on stdout for humans, plus the TAP reporter into
// dist/test-results.tap; its summary block (# tests/# pass/# fail/...) is printed last.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const opts = { only: [], rig: true, build: true, passthrough: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--only') opts.only.push(argv[++i] ?? '');
    else if (a === '--no-rig') opts.rig = false;
    else if (a === '--no-build') opts.build = false;
    else if (a === '--') opts.passthrough.push(...argv.slice(i + 1)), (i = argv.length);
    else opts.only.push(a);
  }
  return opts;
}

function findTests(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTests(p));
    else if (entry.isFile() && entry.name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

function rig(cmd) {
  const r = spawnSync('bash', [join(repo, 'scripts', 'rig.sh'), cmd], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  return { status: r.status ?? 1, last };
}

function printSummary(tapFile) {
  if (!existsSync(tapFile)) return;
  const lines = readFileSync(tapFile, 'utf8').split('\n');
  const summary = lines.filter((l) =>
    /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /.test(l),
  );
  if (summary.length > 0) {
    process.stdout.write('\n# --- suite summary (node --test, TAP) ---\n' + summary.join('\n') + '\n');
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const typecheckFile = join(repo, 'dist', 'typecheck-result.json');
  if (opts.build) {
    console.log('run-tests: building (tsc -p tsconfig.json)');
    const tsc = spawnSync(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
      { cwd: repo, encoding: 'utf8' });
    const output = `${tsc.stdout ?? ''}${tsc.stderr ?? ''}${tsc.error ? String(tsc.error) : ''}`;
    process.stdout.write(output);
    mkdirSync(join(repo, 'dist'), { recursive: true });
    writeFileSync(typecheckFile, JSON.stringify({ status: tsc.status ?? 1, output }) + '\n');
    if (tsc.status !== 0) console.log('run-tests: tsc reported errors; running the suite anyway (they fail the typecheck test)');
  } else {
    rmSync(typecheckFile, { force: true }); // stale result must not speak for this tree
  }
  const distTests = join(repo, 'dist', 'test');
  let files = findTests(distTests).filter((js) => {
    const rel = relative(join(repo, 'dist'), js).replace(/\.js$/, '.ts');
    return existsSync(join(repo, rel));
  });
  if (opts.only.length > 0) {
    files = files.filter((f) => {
      const rel = relative(distTests, f).split(sep).join('/');
      return opts.only.some((o) => rel.startsWith(o + '/') || rel.includes(o));
    });
  }
  if (files.length === 0) {
    console.error('run-tests: no compiled test files found under dist/test (run `npm run build`).');
    return 1;
  }

  let startedRig = false;
  if (opts.rig) {
    const r = rig('start');
    if (r.status !== 0) {
      console.error('run-tests: the PC/SC rig is not usable (see above); not running the tests.');
      return 1;
    }
    startedRig = r.last.startsWith('started ');
  }

  const resultsDir = join(repo, 'dist');
  mkdirSync(resultsDir, { recursive: true });
  const tapFile = join(resultsDir, 'test-results.tap');
  const args = [
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...opts.passthrough,
    ...files.map((f) => relative(repo, f)),
  ];
  console.log(`run-tests: ${files.length} test files, rig ${opts.rig ? (startedRig ? 'started' : 'reused') : 'skipped'}`);

  // OpenSC's PKCS#11 module gives slots to only 4 of the rig's 8 readers by default:
  // test/rig/opensc.conf raises the cap (an explicit OPENSC_CONF wins).
  const env = { ...process.env, OPENSC_CONF: process.env.OPENSC_CONF ?? join(repo, 'test', 'rig', 'opensc.conf') };
  if (opts.build) env.CARDCA_TYPECHECK_RESULT = typecheckFile;
  const child = spawn(process.execPath, args, { cwd: repo, stdio: 'inherit', env });
  const forward = (sig) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise((res) => {
    child.on('exit', (c, sig) => res(c ?? 128 + (constants.signals[sig] ?? 0)));
  });
  process.off('SIGINT', forward);
  process.off('SIGTERM', forward);

  if (startedRig) rig('stop');
  printSummary(tapFile);
  return code;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error('run-tests: internal error:', err);
    process.exitCode = 1;
  },
);
