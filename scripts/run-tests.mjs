#!/usr/bin/env node
// The test command (`npm test`):
//   0. builds with tsc, then bundles the CLI as `npm run build` does (`--no-build` skips both).
//      Type errors do not stop the run — tsc still emits JavaScript — they are reported as the
//      failing test "the repository type-checks" in test/unit/lint-imports (via the result file
//      named by CARDCA_TYPECHECK_RESULT), so the suite summary always appears and always counts
//      them;
//   1. opens K rig lanes (below), and makes sure the machine's PC/SC rig is up when something
//      still needs it (scripts/rig.sh start: reuses a pcscd that already shows our 8 vpcd
//      readers, otherwise starts one, and stops it afterwards only if it started it);
//   2. runs the compiled test files with `node --test` and adds up their TAP summaries
//      (`# pass N`, `# fail N`) into one for the whole suite; lint is part of the suite
//      (test/unit/lint-imports);
//   3. exits with the test run's exit code (130 after Ctrl-C).
// Children run with TMPDIR set to one directory of the run, removed at the end unless
// CARDCA_KEEP_TMP=1 (scripts/run-temp.mjs): the tests' homes and emulator states do not pile up.
// It sets OPENSC_CONF=test/rig/opensc.conf (unless set) so OpenSC's PKCS#11 module has a slot
// for each of the 8 readers.
//
// Usage: node scripts/run-tests.mjs [--only unit|integration|<path substring>]... [--no-rig] [--no-build]
//                                   [--rig-lanes K] [-- <node --test options>]
//
// Only dist/test/**/*.test.js files whose test/**/*.test.ts source still exists are run, so stale
// output of a deleted test in dist/ does not haunt the suite.
//
// Concurrency. The integration files that drive a rig share vpcd ports and OpenSC scans every
// reader, so one rig runs one of them at a time. They run on K rig lanes (--rig-lanes K,
// CARDCA_RIG_LANES; default one per core, at most 4): private rigs, each with its own pcscd in
// its own network + mount namespace (scripts/rig-lane.sh, scripts/rig-lanes.mjs), longest file
// first to whichever lane is free. Beside them the host lane runs the unit tests and, in a second
// process, the offline-bundle build, which need no reader; when both are done, one more rig lane
// (CARDCA_RIG_LANES_AFTER_HOST, default 1) joins the others. Lanes need root and unshare; without
// them (or with --rig-lanes 0, or --no-rig) the rig files run one at a time on the machine's rig, each
// under the rig lock (CARDCA_RIG_LOCK), so a host-lane test can take it in between.
//
// Output: node's spec reporter on stdout for humans (in lanes, each file's report whole when it
// ends), per-file TAP in dist/tap/ and all of it in dist/test-results.tap; then each failed test
// with its error (scripts/tap-failures.mjs: CI reports keep a log's start and end, not its
// middle); the summary block (# tests/# pass/# fail/...) and "N passed, N failed" come last.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, constants } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lanesUnavailable, openLane } from './rig-lanes.mjs';
import { acquireRunLock } from './run-lock.mjs';
import { openRunTemp } from './run-temp.mjs';
import { formatFailures, tapFailures } from './tap-failures.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const opts = { only: [], rig: true, build: true, passthrough: [], lanes: defaultLanes() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--only') opts.only.push(argv[++i] ?? '');
    else if (a === '--rig-lanes') opts.lanes = laneCount(argv[++i], '--rig-lanes');
    else if (a.startsWith('--rig-lanes=')) opts.lanes = laneCount(a.slice('--rig-lanes='.length), '--rig-lanes');
    else if (a === '--no-rig') opts.rig = false;
    else if (a === '--no-build') opts.build = false;
    else if (a === '--') opts.passthrough.push(...argv.slice(i + 1)), (i = argv.length);
    else opts.only.push(a);
  }
  return opts;
}

/** Rig lanes by default: one per core (2 on the reference 2-core machine), at most 4. */
function defaultLanes() {
  const env = process.env.CARDCA_RIG_LANES;
  if (env !== undefined && env !== '') return laneCount(env, 'CARDCA_RIG_LANES');
  return Math.max(1, Math.min(availableParallelism(), 4));
}

function laneCount(v, what) {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`run-tests: ${what} wants a whole number of lanes (0: the machine's rig), got ${JSON.stringify(v ?? '')}`);
    process.exit(2);
  }
  return n;
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

const SUMMARY_KEYS = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo', 'duration_ms'];

/** Adds up the `# key N` summary lines of several TAP files (one per node --test process). */
function summarise(tapFiles) {
  return summariseTexts(tapFiles.filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8')));
}

/** The same over TAP texts already read. */
function summariseTexts(tapTexts) {
  const total = Object.fromEntries(SUMMARY_KEYS.map((k) => [k, 0]));
  let seen = 0;
  for (const text of tapTexts) {
    for (const l of text.split('\n')) {
      const m = /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ([0-9.]+)$/.exec(l);
      if (m) {
        total[m[1]] += Number(m[2]);
        seen++;
      }
    }
  }
  return seen > 0 ? total : undefined;
}

function printSummary(total, wallMs) {
  if (!total) return;
  const lines = SUMMARY_KEYS.map((k) => `# ${k} ${k === 'duration_ms' ? Math.round(wallMs) : total[k]}`);
  process.stdout.write('\n# --- suite summary (node --test, TAP, all lanes) ---\n' + lines.join('\n') + '\n');
  // The plain closing line, whatever reads this log.
  process.stdout.write(`${total.pass} passed, ${total.fail + total.cancelled} failed` + (total.skipped ? `, ${total.skipped} skipped` : '') + '\n');
}

/**
 * Which lane a test file runs in. The rig lane runs the files that drive the PC/SC rig, one at
 * a time, each under the rig lock; the host lane runs everything that needs no card reader (unit
 * tests, the offline-bundle build) at the same time, so the two cores are both busy. A host-lane
 * test that does touch the rig for a moment takes the same lock (CARDCA_RIG_LOCK).
 */
const HOST_LANE_INTEGRATION = ['integration/bundle.test.js'];
function laneOf(relFromDistTest) {
  if (relFromDistTest.startsWith('unit/')) return 'host';
  return HOST_LANE_INTEGRATION.includes(relFromDistTest) ? 'host' : 'rig';
}

/**
 * Each rig file's last duration (ms, keyed by its path under dist/test), kept in
 * dist/test-durations.json from run to run so the lanes can start the longest files first.
 */
function readDurations(file) {
  try {
    const d = JSON.parse(readFileSync(file, 'utf8'));
    return d && typeof d === 'object' && !Array.isArray(d) ? d : {};
  } catch {
    return {};
  }
}

function writeDurations(file, durations) {
  const sorted = Object.fromEntries(Object.entries(durations).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(file, JSON.stringify(sorted, null, 2) + '\n');
}

/**
 * Rig files, longest expected first (the classic greedy schedule for K lanes: the long files do
 * not end up last on one lane). A file never timed yet (fresh clone, new test) is estimated from
 * its compiled size at the median ms per byte of the timed ones (or by size alone).
 */
function longestFirst(rigFiles, rel, durations) {
  const size = (f) => statSync(f).size || 1;
  const known = rigFiles.filter((f) => Number.isFinite(durations[rel(f)]));
  const rates = known.map((f) => durations[rel(f)] / size(f)).sort((a, b) => a - b);
  const rate = rates.length > 0 ? rates[Math.floor(rates.length / 2)] : 1;
  const estimate = (f) => (Number.isFinite(durations[rel(f)]) ? durations[rel(f)] : size(f) * rate);
  return [...rigFiles].sort((a, b) => estimate(b) - estimate(a) || a.localeCompare(b));
}

/**
 * Hang guard per `node --test` process (a test whose before hook failed can leave a child that
 * keeps node's event loop alive for ever; a native call that blocks the event loop stops every
 * test timeout too). A rig file gets CARDCA_TEST_FILE_TIMEOUT seconds, default 15 min — about
 * five times the longest file on a loaded 2-core machine, so a hang costs one lane 15 minutes,
 * not the run's 90. The host lane's two processes (every unit test; the offline-bundle build,
 * about 12 min of its own under CI load beside the rig lanes) get CARDCA_TEST_HOST_TIMEOUT
 * seconds each, default 40 min. Not performance limits.
 */
/** Rig lanes opened besides --rig-lanes that start taking files when the host lane is done. */
const RIG_LANES_AFTER_HOST = Number(process.env.CARDCA_RIG_LANES_AFTER_HOST ?? 1);
const FILE_GUARD = { ms: Number(process.env.CARDCA_TEST_FILE_TIMEOUT || 900) * 1000, name: 'CARDCA_TEST_FILE_TIMEOUT' };
const HOST_LANE_GUARD = { ms: Number(process.env.CARDCA_TEST_HOST_TIMEOUT || 2400) * 1000, name: 'CARDCA_TEST_HOST_TIMEOUT' };
/** Files the hang guard stopped (their TAP ends where they hung: no failure may be counted). */
const hungFiles = new Map();

/** SIGnal `pid` and its direct children (flock's node, say: flock does not pass signals on). */
function killTree(pid, sig) {
  let children = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    /* gone, or no /proc */
  }
  for (const p of [...children, pid]) {
    try {
      process.kill(p, sig);
    } catch {
      /* gone */
    }
  }
}

function runNodeTest({ files, tapFile, specFile, env, lockFile, wrap, passthrough = [], guard = FILE_GUARD }) {
  const args = [
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    `--test-reporter-destination=${specFile ?? 'stdout'}`,
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...passthrough,
    ...files.map((f) => relative(repo, f)),
  ];
  const [cmd, argv] = wrap ? wrap(process.execPath, args) : lockFile ? ['flock', [lockFile, process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(cmd, argv, { cwd: repo, stdio: 'inherit', env });
  const forward = (sig) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  let killTimer;
  const hangTimer = setTimeout(() => {
    console.log(`run-tests: ${files.map((f) => relative(repo, f)).join(' ')} still running after ${guard.ms / 1000} s (${guard.name}): stopping it`);
    for (const f of files) hungFiles.set(f, guard.ms);
    killTree(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => killTree(child.pid, 'SIGKILL'), 10_000);
  }, guard.ms);
  return new Promise((res) => {
    child.on('exit', (c, sig) => {
      clearTimeout(hangTimer);
      clearTimeout(killTimer);
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      res(c ?? 128 + (constants.signals[sig] ?? 0));
    });
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  // Before the build: a second run would otherwise rebuild dist/ under the first one's tests.
  mkdirSync(join(repo, 'dist'), { recursive: true });
  const runLock = acquireRunLock(join(repo, 'dist', 'test-run.lock'));
  if (runLock.heldBy) {
    console.error(`run-tests: another test run (pid ${runLock.heldBy}) is using dist/ of this worktree; ` +
      "wait for it to finish, or run from another clone (two runs here overwrite each other's results).");
    return 2;
  }
  // Every child's temporary files go to one directory of this run, removed when it ends
  // (scripts/run-temp.mjs); the rig lanes' directories too.
  const runTemp = openRunTemp(process.env);
  try {
    return await buildAndRun(opts);
  } finally {
    const kept = runTemp.close();
    if (kept) console.log(`run-tests: ${kept}`);
    runLock.release();
  }
}

async function buildAndRun(opts) {
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
    // The `ca` the tests spawn is the one operators run: `npm run build` (and the offline bundle)
    // replace tsc's dist/src/cli/bin.js with the esbuild bundle, so the suite does too. It also
    // starts in about half the CPU of tsc's ~600 modules, and the suite spawns `ca` thousands of times.
    console.log('run-tests: bundling the command line (scripts/build-cli.mjs)');
    const cli = spawnSync(process.execPath, [join(repo, 'scripts', 'build-cli.mjs')], { cwd: repo, encoding: 'utf8' });
    process.stdout.write(`${cli.stdout ?? ''}${cli.stderr ?? ''}${cli.error ? String(cli.error) : ''}`);
    if (cli.status !== 0) {
      console.error('run-tests: bundling the command line failed (above): the tests would run a `ca` operators never get; not running them.');
      return 1;
    }
    chmodSync(join(repo, 'dist', 'src', 'cli', 'bin.js'), 0o755);
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

  const resultsDir = join(repo, 'dist');
  mkdirSync(resultsDir, { recursive: true });
  const tapDir = join(resultsDir, 'tap');
  rmSync(tapDir, { recursive: true, force: true });
  mkdirSync(tapDir, { recursive: true });
  const rel = (f) => relative(distTests, f).split(sep).join('/');
  const hostFiles = files.filter((f) => laneOf(rel(f)) === 'host');
  const rigFiles = files.filter((f) => laneOf(rel(f)) === 'rig');

  // Ctrl-C / SIGTERM: the running test processes get the signal (runNodeTest forwards it), no
  // further file starts, the lanes and the rig are stopped, the summary so far is printed.
  let interrupted = false;
  const onSignal = () => (interrupted = true);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // Rig lanes: private rigs in their own namespaces (scripts/rig-lanes.mjs), so the rig files
  // need neither the machine's rig nor its lock. Without them (--rig-lanes 0, --no-rig, not
  // root, unshare refused) the rig files run one at a time on the machine's rig, under its lock.
  let lanes = [];
  const wantLanes = opts.rig ? Math.min(opts.lanes, rigFiles.length) : 0;
  // Lanes that join when the host lane is done (RIG_LANES_AFTER_HOST): beside K rig lanes the host
  // lane keeps the cores busy; once it ends, K rig lanes alone leave them idle while a file waits
  // on pcscd, the emulator, a child process or an fsync.
  const afterHost = wantLanes >= 1 && hostFiles.length > 0 ? Math.min(RIG_LANES_AFTER_HOST, Math.max(0, rigFiles.length - wantLanes)) : 0;
  if (wantLanes >= 1) {
    const why = lanesUnavailable();
    const tOpen = Date.now();
    const opened = why ? [] : await Promise.allSettled(Array.from({ length: wantLanes + afterHost }, (_, i) => openLane(repo, i + 1)));
    lanes = opened.filter((r) => r.status === 'fulfilled').map((r) => r.value);
    lanes.forEach((lane, i) => (lane.afterHost = lanes.length > 1 && i >= lanes.length - afterHost));
    const errors = opened.filter((r) => r.status === 'rejected').map((r) => r.reason);
    if (lanes.length === 0) {
      console.log(`run-tests: rig lanes unavailable (${why ?? errors[0]?.message}): running the rig files one at a time on the machine's rig`);
    } else {
      // Some lanes started: run on those, but show in full why the others did not.
      for (const e of errors) console.log(`run-tests: ${e.message}${e.detail ? `\n${e.detail}` : ''}`);
      console.log(`run-tests: ${lanes.length} of ${wantLanes + afterHost} rig lanes ready in ${((Date.now() - tOpen) / 1000).toFixed(1)} s (${lanes.map((l) => `lane ${l.n}: pcscd ${l.pcscdPid}${l.afterHost ? ', after the host lane' : ''}`).join(', ')})`);
    }
  }

  try {
    // The machine's rig serves the single rig lane, and in lane mode the host-lane tests that
    // touch a reader for a moment (the offline bundle's `card list`).
    const needMainRig = lanes.length === 0 || hostFiles.some((f) => rel(f).startsWith('integration/'));
    let startedRig = false;
    if (opts.rig && needMainRig) {
      const r = rig('start');
      if (r.status !== 0) {
        console.error('run-tests: the PC/SC rig is not usable (see above); not running the tests.');
        return 1;
      }
      startedRig = r.last.startsWith('started ');
    }
    try {
      // One rig per machine: worktrees of the same repo share it, so CARDCA_RIG_LOCK may name a
      // machine-wide lock file (each worktree's dist/ would otherwise give each its own lock).
      const lockFile = process.env.CARDCA_RIG_LOCK ?? join(resultsDir, 'rig.lock');
      if (!existsSync(lockFile)) writeFileSync(lockFile, '');
      const rigWhere = lanes.length > 0 ? `${lanes.length} private rig lane${lanes.length > 1 ? 's' : ''}` : "the machine's rig";
      const mainRig = !opts.rig ? 'skipped' : !needMainRig ? 'not needed' : startedRig ? 'started' : 'reused';
      console.log(`run-tests: ${files.length} test files (${rigFiles.length} on ${rigWhere}, ${hostFiles.length} on the host lane), machine rig ${mainRig}`);

      // OpenSC's PKCS#11 module gives slots to only 4 of the rig's 8 readers by default:
      // test/rig/opensc.conf raises the cap (an explicit OPENSC_CONF wins).
      const env = { ...process.env, OPENSC_CONF: process.env.OPENSC_CONF ?? join(repo, 'test', 'rig', 'opensc.conf'), CARDCA_RIG_LOCK: lockFile };
      if (opts.build) env.CARDCA_TYPECHECK_RESULT = typecheckFile;
      const t0 = Date.now();
      // The host lane is two processes side by side: the unit tests, and the offline bundle's
      // build (minutes of compiling and network waits of its own, which need not wait for the
      // unit tests to finish, nor hold them up).
      const hostGroups = [
        { name: 'unit tests', files: hostFiles.filter((f) => !rel(f).startsWith('integration/')), tap: 'host.tap', spec: 'host-lane.spec.txt' },
        { name: 'offline bundle', files: hostFiles.filter((f) => rel(f).startsWith('integration/')), tap: 'host-bundle.tap', spec: 'host-bundle.spec.txt' },
      ].filter((g) => g.files.length > 0);
      for (const g of hostGroups) {
        g.code = runNodeTest({ files: g.files, tapFile: join(tapDir, g.tap), specFile: join(tapDir, g.spec), env, passthrough: opts.passthrough, guard: HOST_LANE_GUARD });
      }
      const host = Promise.all(hostGroups.map((g) => g.code)).then((codes) => codes.find((c) => c !== 0) ?? 0);

      const durationsFile = join(resultsDir, 'test-durations.json');
      const durations = readDurations(durationsFile);
      const tapOf = (f) => join(tapDir, `rig-${String(rigFiles.indexOf(f)).padStart(2, '0')}.tap`);
      const record = (f, wallMs, code) => {
        // Only a passing run's time says how long the file takes (a failure may end it early, a
        // hang late); node's own duration leaves out time spent waiting for the rig lock.
        if (code !== 0 || interrupted) return;
        const d = summarise([tapOf(f)])?.duration_ms;
        durations[rel(f)] = Math.round(d > 0 ? d : wallMs);
      };
      let rigCode = 0;
      /** Rig files whose process did not exit 0, for the closing lines (a log's tail is often all that is read). */
      const notPassed = [];
      if (lanes.length === 0) {
        // Rig files one process each, each under the lock, so a host-lane test can slip in between.
        for (const f of rigFiles) {
          if (interrupted) break;
          const t = Date.now();
          const c = await runNodeTest({ files: [f], tapFile: tapOf(f), env, lockFile, passthrough: opts.passthrough });
          if (c !== 0) {
            rigCode = c;
            notPassed.push({ f, c });
          }
          record(f, Date.now() - t, c);
        }
      } else {
        // Longest first, each lane takes the next file when it is free (its rig is its own, so
        // no lock); each file's report is printed whole when it ends, so lanes do not interleave.
        const queue = longestFirst(rigFiles, rel, durations);
        await Promise.all(lanes.map(async (lane) => {
          const laneEnv = { ...env, CARDCA_RIG_DIR: lane.dir, CARDCA_RIG_LOCK: join(lane.dir, 'rig.lock') };
          if (lane.afterHost) await host;
          while (queue.length > 0 && !interrupted) {
            const f = queue.shift();
            const specFile = tapOf(f).replace(/\.tap$/, '.spec.txt');
            const t = Date.now();
            const c = await runNodeTest({ files: [f], tapFile: tapOf(f), specFile, env: laneEnv, wrap: lane.wrap, passthrough: opts.passthrough });
            if (c !== 0) {
              rigCode = c;
              notPassed.push({ f, c });
            }
            record(f, Date.now() - t, c);
            process.stdout.write(`\n# --- rig lane ${lane.n}: ${rel(f)} (${((Date.now() - t) / 1000).toFixed(1)} s${c !== 0 ? `, exit ${c}` : ''}) ---\n`);
            if (existsSync(specFile)) process.stdout.write(readFileSync(specFile, 'utf8'));
            for (const note of await lane.reap()) console.log(`run-tests: after ${rel(f)}: ${note}`);
          }
        }));
      }
      writeDurations(durationsFile, durations);
      const hostCode = await host;
      for (const g of hostGroups) {
        const spec = join(tapDir, g.spec);
        if (!existsSync(spec)) continue;
        process.stdout.write(`\n# --- host lane (${g.name}) ---\n`);
        process.stdout.write(readFileSync(spec, 'utf8'));
      }

      const taps = readdirSync(tapDir).filter((f) => f.endsWith('.tap')).map((f) => join(tapDir, f));
      const tapTexts = taps.map((f) => readFileSync(f, 'utf8'));
      const total = summariseTexts(tapTexts);
      // One TAP file for tools that want the whole run.
      writeFileSync(join(resultsDir, 'test-results.tap'), tapTexts.join('\n'));
      process.stdout.write(formatFailures(tapTexts.flatMap((text) => tapFailures(text))));
      printSummary(total, Date.now() - t0);
      const guard = (ms) => `, stopped by the hang guard after ${ms / 1000} s (its report ends where it hung)`;
      for (const { f, c } of notPassed) console.log(`run-tests: NOT PASSED: ${rel(f)}: exit ${c}${hungFiles.has(f) ? guard(hungFiles.get(f)) : ''}`);
      for (const g of hostGroups) {
        const c = await g.code;
        if (c === 0) continue;
        const stopped = g.files.find((f) => hungFiles.has(f));
        console.log(`run-tests: NOT PASSED: host lane (${g.name}): exit ${c}${stopped ? guard(hungFiles.get(stopped)) : ''}`);
      }
      if (interrupted) {
        console.log('run-tests: interrupted: the files not started are not in the summary');
        return 130;
      }
      return rigCode !== 0 ? rigCode : hostCode;
    } finally {
      if (startedRig) rig('stop');
    }
  } finally {
    for (const notes of await Promise.all(lanes.map((l) => l.close()))) for (const n of notes) console.log(`run-tests: ${n}`);
  }
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
