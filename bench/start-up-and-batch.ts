/**
 * Benchmark (not a test), issue #14 items 1, 2 and 5: what an operator waits for when `ca` is one
 * process per certificate, and what a batch costs per certificate — each against the peer
 * measured in the same run, on the same emulated card behind the same pcscd.
 *
 * Setup (untimed): root card on vpcd port 35963, issuing card on 35964 (`ca emulator start`);
 * the engine's ceremonies put a P-256 `servers` key on the issuing card for the peer, then a `ca`
 * rehearsal home gets its own root and `servers` ceremonies through the real CLI.
 *
 * Rows (interleaved rounds, so each row and its reference see the same machine load):
 *   start-up       `ca --help` and `ca sign --help` vs `node -e 0` (median of K rounds); every
 *                  top-level command's `--help` (median of max(3, K/3) rounds), the slowest in the summary;
 *                  the yargs floor: a one-command yargs program's `sign --help`, bundled as `ca` is
 *                  (helpers/yargs-floor.ts), what any yargs CLI pays over `node -e 0`
 *   single sign    one `ca sign one.csr --issuer servers` process vs one
 *                  `openssl x509 -req -engine pkcs11` process (median of K rounds)
 *   batch          B CSRs through one `ca sign` process: wall / B vs the peer's median
 *   host work      the same batch: `ca sign`'s own "issued N in X s (card Y s, card session Z s)"
 *                  line, (X − Y − Z) / N
 *                  (CA work in the process — CSR checks, content, lint, SQLite, assembly,
 *                  verification, files — with the card's signing time excluded)
 *
 *   npx tsc -p . && OPENSC_CONF=$PWD/test/rig/opensc.conf node dist/bench/start-up-and-batch.js [K] [B]
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { benchMain } from './helpers/bench-main.js';
import { PIN_TEXT, withBenchCards, type BenchCards } from './helpers/bench-cards.js';
import { addSummaryRow } from './helpers/summary.js';
import { CA_BIN, ceremonies, cliHome, makeCsrs, opensslPerCert } from './issuance-vs-openssl.js';

const execFileP = promisify(execFile);
const DEFAULT_ROUNDS = 10;
const DEFAULT_BATCH = 200;
const PORT = 35963;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Wall time of one synchronous child process (stdout/stderr discarded), ms. */
function timeProcess(argv: readonly string[]): number {
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${String(r.status)}`);
  return ms;
}

/**
 * Bundle helpers/yargs-floor.ts into `dir` with the options of the `ca` bundle
 * (scripts/cli-bundle-options.mjs) and return the program's path.
 */
async function bundleYargsFloor(dir: string): Promise<string> {
  const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const { build } = await import('esbuild');
  const optionsUrl = pathToFileURL(join(repo, 'scripts', 'cli-bundle-options.mjs')).href;
  const { cliBundleOptions } = (await import(optionsUrl)) as { cliBundleOptions(root: string): Record<string, unknown> };
  const outfile = join(dir, 'yargs-floor.mjs');
  await build({
    ...cliBundleOptions(repo),
    stdin: { contents: "import { yargsFloor } from './yargs-floor.js'; await yargsFloor(process.argv.slice(2));", resolveDir: join(repo, 'dist', 'bench', 'helpers'), loader: 'js' },
    outfile,
  });
  return outfile;
}

function loadAverage(): string {
  try {
    return spawnSync('uptime', [], { encoding: 'utf8' }).stdout.trim().replace(/^.*load average:\s*/, '');
  } catch {
    return '?';
  }
}

export async function run(rounds = DEFAULT_ROUNDS, batchSize = DEFAULT_BATCH): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cardca-bench-start-'));
  try {
    await withBenchCards(PORT, (cards) => measure(cards, dir, rounds, batchSize));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure({ emuRoot, emuSub, root, sub, service, closeSessions }: BenchCards, dir: string, rounds: number, batchSize: number): Promise<void> {
  console.log(`  load average before: ${loadAverage()} (${(await import('node:os')).cpus().length} cores)`);
  const peerCsrs = makeCsrs(rounds, dir, 'peer');
  const oneCsrs = makeCsrs(rounds, dir, 'one');
  const batchCsrs = makeCsrs(batchSize, dir, 'batch');
  const peerCa = await ceremonies('p256', dir, root, sub);
  await closeSessions();
  await service.close();
  const pinFile = join(dir, 'user-pin');
  writeFileSync(pinFile, PIN_TEXT + '\n', { mode: 0o600 });
  const home = cliHome('p256', dir, emuRoot.readerName, emuSub.readerName, pinFile);
  const outDir = join(dir, 'out');
  mkdirSync(outDir);
  const sign = (files: readonly string[], bin = CA_BIN): string[] =>
    [process.execPath, bin, 'sign', ...files, '--issuer', 'servers', '--home', home, '--reader', emuSub!.readerName, '--pin-file', pinFile, '--out', outDir + '/'];
  // CARDCA_BENCH_BASELINE_BIN=…/dist/src/cli/bin.js: another build's single `ca sign` on the same
  // home and card, in the same rounds (an A/B of a change; its database schema must match).
  const baselineBin = process.env['CARDCA_BENCH_BASELINE_BIN'];
  const baselineCsrs = baselineBin ? makeCsrs(rounds, dir, 'baseline') : undefined;
  const baseline: number[] = [];

  // Start-up and single sign, interleaved round by round.
  const floorBin = await bundleYargsFloor(dir);
  const t: Record<'node' | 'floor' | 'help' | 'signHelp' | 'sign' | 'peer', number[]> = { node: [], floor: [], help: [], signHelp: [], sign: [], peer: [] };
  for (let i = 0; i < rounds; i++) {
    t.node.push(timeProcess([process.execPath, '-e', '0']));
    t.floor.push(timeProcess([process.execPath, floorBin, 'sign', '--help']));
    t.help.push(timeProcess([process.execPath, CA_BIN, '--help']));
    t.signHelp.push(timeProcess([process.execPath, CA_BIN, 'sign', '--help']));
    t.sign.push(timeProcess(sign([oneCsrs.files[i]!])));
    if (baselineBin) baseline.push(timeProcess(sign([baselineCsrs!.files[i]!], baselineBin)));
    t.peer.push((await opensslPerCert(peerCa, emuSub.serial, emuSub.readerName, [peerCsrs.files[i]!], dir, emuSub.apduLogFile)).ms);
  }
  peerCa.store.db.close();
  // Every top-level command's `--help` (the "ca <any command> --help"), interleaved with
  // `node -e 0` round by round; fewer rounds than above (twenty commands each).
  const { COMMANDS } = await import('../src/cli/commands/index.js');
  const helpRounds = Math.max(3, Math.ceil(rounds / 3));
  const everyHelp = new Map<string, number[]>(COMMANDS.map((c) => [c.name, []]));
  const helpNode: number[] = [];
  for (let i = 0; i < helpRounds; i++) {
    helpNode.push(timeProcess([process.execPath, '-e', '0']));
    for (const [name, times] of everyHelp) times.push(timeProcess([process.execPath, CA_BIN, name, '--help']));
  }
  const helpMedians = [...everyHelp].map(([name, times]) => ({ name, ms: median(times) })).sort((a, b) => b.ms - a.ms);
  // CARDCA_BENCH_CPU_PROF=DIR: one more single `ca sign` under `node --cpu-prof` (docs/benchmarks.md, "Where the time goes").
  const profDir = process.env['CARDCA_BENCH_CPU_PROF'];
  if (profDir) {
    const extra = makeCsrs(1, dir, 'profiled');
    const argv = sign(extra.files);
    timeProcess([argv[0]!, '--cpu-prof', '--cpu-prof-interval', '200', '--cpu-prof-dir', profDir, ...argv.slice(1)]);
    console.log(`  CPU profile of one \`ca sign\` written to ${profDir}`);
  }

  // The batch: one process, B CSRs.
  const t0 = performance.now();
  // Under /usr/bin/time when there is one: the batch process's CPU (user + system, start-up included).
  const timeBin = spawnSync('/usr/bin/time', ['-f', '', 'true']).status === 0 ? ['/usr/bin/time', '-f', 'cardca-bench-cpu %U %S'] : [];
  const batchArgv = [...timeBin, ...sign(batchCsrs.files)];
  const r = await execFileP(batchArgv[0]!, batchArgv.slice(1), { timeout: 600_000, maxBuffer: 64 << 20 });
  const batchMs = performance.now() - t0;
  const cpu = /cardca-bench-cpu ([\d.]+) ([\d.]+)/.exec(r.stderr);
  // `ca sign`'s own account (src/cli/commands/sign-run.ts); an older build printed no session time.
  const m = /issued (\d+) certificates in ([\d.]+) s \(card ([\d.]+) s(?:, card session ([\d.]+) s)?\)/.exec(r.stderr);
  if (!m || Number(m[1]) !== batchSize) throw new Error(`ca sign did not report ${batchSize} issued certificates: ${r.stderr.slice(-300)}`);
  const sessionMs = Number(m[4] ?? 0) * 1000;
  const hostMs = (Number(m[2]) * 1000 - Number(m[3]) * 1000 - sessionMs) / batchSize;
  const cardMs = (Number(m[3]) * 1000) / batchSize;
  // CARDCA_BENCH_CPU_PROF=DIR: one more batch of B (fresh CSRs) under the profiler, after the measured one.
  if (profDir) {
    const extra = makeCsrs(batchSize, dir, 'profiled-batch');
    const argv = sign(extra.files);
    timeProcess([argv[0]!, '--cpu-prof', '--cpu-prof-interval', '200', '--cpu-prof-dir', profDir, ...argv.slice(1)]);
    console.log(`  CPU profile of a \`ca sign\` batch of ${batchSize} written to ${profDir}`);
  }

  const node = median(t.node);
  const peer = median(t.peer);
  const row = (name: string, ms: number, ratio: string): void => console.log(`    ${name.padEnd(44)} ${ms.toFixed(1).padStart(7)} ms   ${ratio}`);
  console.log(`  P-256 issuing key on ${emuSub.readerName}; medians of ${rounds} interleaved rounds; batch of ${batchSize}`);
  row('node -e 0', node, '');
  row('yargs floor: one-command yargs `sign --help`', median(t.floor), `× node -e 0: ${(median(t.floor) / node).toFixed(2)}`);
  row('`ca --help`', median(t.help), `× node -e 0: ${(median(t.help) / node).toFixed(2)} (goal ≤ 1.3)`);
  row('`ca sign --help`', median(t.signHelp), `× node -e 0: ${(median(t.signHelp) / node).toFixed(2)} (goal ≤ 1.3)`);
  const helpNodeMs = median(helpNode);
  console.log(`  every command's --help, medians of ${helpRounds} rounds, × node -e 0 (${helpNodeMs.toFixed(1)} ms in these rounds): ` +
    helpMedians.map((h) => `${h.name} ${(h.ms / helpNodeMs).toFixed(2)}`).join(', '));
  row('peer: openssl x509 -req -engine pkcs11, 1 cert', peer, '');
  row('`ca sign one.csr`, 1 process', median(t.sign), `ratio peer/this: ${(peer / median(t.sign)).toFixed(2)} (goal ≥ 1.0)`);
  if (baselineBin) row('  the same, baseline build', median(baseline), `ratio baseline/this: ${(median(baseline) / median(t.sign)).toFixed(2)} (${baselineBin})`);
  row(`\`ca sign\` ${batchSize} CSRs, 1 process, per cert`, batchMs / batchSize, `ratio peer/this: ${(peer / (batchMs / batchSize)).toFixed(2)} (goal ≥ 10)`);
  row('  of which card (Signer.sign), per cert', cardMs, '');
  row('  card session (PC/SC, find card, PIN), once', sessionMs, '');
  row('  host CA work per cert, card excluded', hostMs, '(goal ≤ 2 ms)');
  if (cpu) row('  process CPU per cert (user+sys, start-up incl.)', ((Number(cpu[1]) + Number(cpu[2])) * 1000) / batchSize, '');
  console.log(`  load average after: ${loadAverage()}`);
  const x = (a: number, b: number): string => `${(a / b).toFixed(2)} × node -e 0`;
  const ms = (v: number): string => `${v.toFixed(1)} ms`;
  const single = median(t.sign);
  addSummaryRow({ figure: 'yargs floor: a one-command yargs program, bundled as `ca` is, `sign --help`', cardca: ms(median(t.floor)), peer: `node -e 0: ${ms(node)}`, ratio: x(median(t.floor), node), goal: '(what any yargs CLI pays)' });
  addSummaryRow({ figure: '`ca --help` (start-up)', cardca: ms(median(t.help)), peer: `node -e 0: ${ms(node)}`, ratio: x(median(t.help), node), goal: '≤ 1.3 ×' });
  addSummaryRow({ figure: '`ca sign --help` (start-up)', cardca: ms(median(t.signHelp)), peer: `node -e 0: ${ms(node)}`, ratio: x(median(t.signHelp), node), goal: '≤ 1.3 ×' });
  const slowest = helpMedians[0]!;
  addSummaryRow({ figure: `\`ca <command> --help\`, slowest of ${helpMedians.length} (\`ca ${slowest.name} --help\`)`, cardca: ms(slowest.ms), peer: `node -e 0: ${ms(helpNodeMs)}`, ratio: x(slowest.ms, helpNodeMs), goal: '≤ 1.3 ×' });
  addSummaryRow({ figure: '`ca sign one.csr` as its own process', cardca: ms(single), peer: `openssl x509 -req -engine pkcs11: ${ms(peer)}`, ratio: `peer/this ${(peer / single).toFixed(2)}`, goal: '≥ 1.0 (aim 2)' });
  addSummaryRow({ figure: `\`ca sign\`, ${batchSize} CSRs in one process, per cert`, cardca: ms(batchMs / batchSize), peer: `openssl, 1 process per cert: ${ms(peer)}`, ratio: `peer/this ${(peer / (batchMs / batchSize)).toFixed(2)}`, goal: '≥ 10' });
  addSummaryRow({ figure: `host CA work per cert, card excluded (${batchSize} CSRs)`, cardca: ms(hostMs), peer: '—', ratio: '', goal: '≤ 2 ms' });
}

benchMain(import.meta.url, run);
