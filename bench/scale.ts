/**
 * Benchmark (not a test): the operator's scale (issue #14 items 3-5). A rehearsal CA home with
 * N certificate rows per sub-CA from the test-only generator (test/helpers/scale-fill.ts):
 *   - `clients`: N rows, all revoked (one real certificate revoked by `ca revoke` among them):
 *     its CRL has N + 1 entries;
 *   - `servers`: N rows, 10 % revoked, 1 % expiring within 30 days.
 * Timed, each as its own process (wall time and peak RSS from GNU time):
 *   - `ca crl --issuer clients` through the real CLI, the card an emulated SmartCard-HSM on the
 *     rig (vpcd port 35964) behind pcscd;
 *   - peer: `openssl ca -gencrl` on an index.txt with the same certificates and revocations
 *     (same reasons, keyCompromise with its compromise time) and a software P-256 key;
 *   - `ca status`, `ca list --expiring 30d`, `ca list --json` over all 2N rows, to /dev/null and
 *     into a pipe (`| wc -c`: the list must wait for its reader, not gather its output).
 * Then `openssl crl -verify` of cardca's CRL against the clients CA certificate, and
 * `openssl verify -crl_check` of the revoked real certificate (must say "certificate revoked").
 * The rig is held (flock on CARDCA_RIG_LOCK, when set) only while an emulator is attached.
 *
 *   npx tsc -p . && OPENSC_CONF=$PWD/test/rig/opensc.conf node dist/bench/scale.js [N]
 * N defaults to CARDCA_SCALE_N or 1,000,000.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startEmulator, type EmulatorProcess } from '../test/helpers/emulator-process.js';
import { BIN } from '../test/helpers/run-command.js';
import { TEST_PIN, TEST_SO_PIN } from '../test/helpers/two-card-home.js';
import { fillScale, writeOpensslIndex } from '../test/helpers/scale-fill.js';
import { openDatabase } from '../src/db/database.js';
import { SqliteStore } from '../src/db/sqlite-store.js';
import { pemEncode } from '../src/ca/chain.js';
import { addScaleLines } from './helpers/summary.js';

interface Timed {
  readonly wallMs: number;
  readonly peakMb: number;
  /** User + system CPU seconds (GNU time): the steadier figure on a shared machine. */
  readonly cpuS: number;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run under GNU time: wall clock and maximum resident set size of the process. */
function timed(cmd: string, args: readonly string[], o: { stdoutFile?: string; env?: Record<string, string> } = {}): Timed {
  const metrics = join(tmpdir(), `cardca-bench-time-${process.pid}`);
  const out = o.stdoutFile ? openSync(o.stdoutFile, 'w') : 'pipe';
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', '-o', metrics, cmd, ...args], { stdio: ['ignore', out, 'pipe'], env: { ...process.env, NO_COLOR: '1', ...o.env }, maxBuffer: 64 << 20 });
  const wallMs = performance.now() - t0;
  if (typeof out === 'number') closeSync(out);
  const [kb, user, sys] = readFileSync(metrics, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number];
  rmSync(metrics, { force: true });
  return { wallMs, peakMb: kb / 1024, cpuS: user + sys, code: r.status ?? 1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/**
 * `timed` k times in a row; the run with the median wall time, and the range of the k walls.
 * The reads take a few hundred ms each, so one run is at the mercy of whatever the machine did
 * in that moment (one full bench measured `ca status` at 243 ms between two runs of 200–215).
 */
function medianTimed(k: number, cmd: string, args: readonly string[], o: { stdoutFile?: string } = {}): Timed & { range: string } {
  const runs = Array.from({ length: k }, () => timed(cmd, args, o)).sort((a, b) => a.wallMs - b.wallMs);
  return { ...runs[k >> 1]!, range: `median of ${k}, ${runs[0]!.wallMs.toFixed(0)}–${runs[k - 1]!.wallMs.toFixed(0)} ms` };
}

function must<T extends Timed>(t: T, what: string): T {
  if (t.code !== 0) throw new Error(`${what} failed (${t.code}): ${t.stderr.slice(0, 2000)} ${t.stdout.slice(0, 500)}`);
  return t;
}

/**
 * Hold the machine-wide rig lock (GUIDE: one pcscd for all) while `fn` runs, when one is named.
 * `flock -o` keeps the lock on flock's own descriptor (the shell does not inherit it), and the
 * shell waits on its stdin: closing that pipe, or this process dying, ends the shell and so
 * releases the lock. (Killing flock alone left its `sleep` child holding the inherited
 * descriptor for a day, and the bench's second withRig waited on its own lock for ever.)
 */
async function withRig<T>(fn: () => Promise<T>): Promise<T> {
  const lock = process.env['CARDCA_RIG_LOCK'];
  if (!lock) return fn();
  const holder = spawn('flock', ['-o', lock, 'sh', '-c', 'echo locked; read _'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((res) => holder.once('exit', () => res()));
  await new Promise<void>((res, rej) => {
    holder.stdout.once('data', () => res());
    holder.once('exit', (c) => rej(new Error(`flock ${lock} exited ${c}`)));
  });
  try {
    return await fn();
  } finally {
    holder.stdin.end();
    await exited;
  }
}


export async function run(nArg?: number): Promise<void> {
  const n = nArg ?? Number(process.env['CARDCA_SCALE_N'] ?? 1_000_000);
  // CARDCA_SCALE_REUSE=DIR: time again on a directory a kept run left (CARDCA_KEEP_TMP=1), without
  // the ceremonies and the fill (minutes at N = 1,000,000). For iterating on the code; the
  // figures of record come from a full run.
  const reuse = process.env['CARDCA_SCALE_REUSE'];
  const dir = reuse ?? mkdtempSync(join(tmpdir(), 'cardca-bench-scale-'));
  const home = join(dir, 'home');
  const pin = join(dir, 'user.pin');
  const soPin = join(dir, 'so.pin');
  if (!reuse) {
    writeFileSync(pin, `${TEST_PIN}\n`, { mode: 0o600 });
    writeFileSync(soPin, `${TEST_SO_PIN}\n`, { mode: 0o600 });
  }
  const ca = (...args: string[]): string[] => [BIN, ...args, '--home', home];
  const up = execFileSync('uptime').toString().trim();
  console.log(`scale bench: N = ${n.toLocaleString('en')} rows per sub-CA; ${cpus().length} × ${cpus()[0]?.model ?? '?'}; ${up}`);

  // 1. Cards, home, ceremonies, one real certificate revoked (rig held).
  const subState = join(dir, 'sub-card.json');
  let subSerial = reuse ? (JSON.parse(readFileSync(subState, 'utf8')) as { serial: string }).serial : '';
  if (!reuse) await withRig(async () => {
    const root: EmulatorProcess = await startEmulator({ port: 35963 });
    const sub: EmulatorProcess = await startEmulator({ port: 35964 });
    try {
      for (const [emu, label] of [[root, 'Root CA card'], [sub, 'Sub-CA card']] as const) {
        must(timed(process.execPath, [BIN, 'card', 'init', '--reader', emu.readerName, '--label', label, '--so-pin-file', soPin, '--pin-file', pin]), 'card init');
      }
      must(timed(process.execPath, [BIN, 'init', '--rehearsal', '--home', home]), 'init');
      must(timed(process.execPath, ca('ceremony', 'root', '--card', root.serial, '--pin-file', pin, '--yes')), 'ceremony root');
      for (const s of ['servers', 'clients']) must(timed(process.execPath, ca('ceremony', 'subca', s, '--card', sub.serial, '--pin-file', pin, '--issuer-pin-file', pin, '--yes')), `ceremony ${s}`);
      execFileSync('openssl', ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', join(dir, 'alice.key'), '-subj', '/CN=alice', '-out', join(dir, 'alice.csr')], { stdio: 'ignore' });
      must(timed(process.execPath, ca('sign', join(dir, 'alice.csr'), '--issuer', 'clients', '--profile', 'tls-client', '--pin-file', pin, '--out', join(dir, 'alice.crt'))), 'sign');
      const serial = (JSON.parse(must(timed(process.execPath, ca('list', '--issuer', 'clients', '--json')), 'list').stdout) as { serial: string }[])[0]!.serial;
      must(timed(process.execPath, ca('revoke', serial, '--reason', 'keyCompromise')), 'revoke');
      copyFileSync(sub.stateFile, subState);
      subSerial = sub.serial;
    } finally {
      await root.stop();
      await sub.stop();
    }
  });

  // 2. The generator (rig free).
  if (!reuse) {
    const t0 = performance.now();
    const store = new SqliteStore(openDatabase(join(home, 'ca.db')));
    const now = new Date();
    try {
      fillScale(store, { issuer: 'clients', count: n, revoked: n, now, batch: 100_000 });
      fillScale(store, { issuer: 'servers', count: n, revoked: Math.floor(n / 10), expiringWithin30Days: Math.floor(n / 100), now, batch: 100_000 });
      writeFileSync(join(dir, 'clients.pem'), pemEncode(store.getCa('clients')!.certificate!, 'CERTIFICATE'));
      writeFileSync(join(dir, 'chain.pem'), pemEncode(store.getCa('root')!.certificate!, 'CERTIFICATE') + pemEncode(store.getCa('clients')!.certificate!, 'CERTIFICATE'));
      // Fold the generator's write-ahead log into the database now: otherwise the first write of
      // the timed `ca crl` checkpoints the fill's hundreds of MB and is charged for them.
      store.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      store.db.close();
    }
    console.log(`  generator: ${(2 * n).toLocaleString('en')} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s (untimed setup)`);
  }

  // The peer's index.txt, from the same rows (untimed; written again when re-timing a kept directory).
  {
    const store = new SqliteStore(openDatabase(join(home, 'ca.db')));
    try {
      const fd = openSync(join(dir, 'index.txt'), 'w');
      writeOpensslIndex(store, 'clients', (s) => writeSync(fd, s));
      closeSync(fd);
    } finally {
      store.db.close();
    }
  }

  // 3. cardca's CRL through the CLI and the card (rig held while the emulator is attached).
  let crl: Timed | undefined;
  await withRig(async () => {
    const sub = await startEmulator({ port: 35964, stateFile: subState });
    try {
      if (sub.serial !== subSerial) throw new Error(`emulator came back as ${sub.serial}, not ${subSerial}`);
      crl = must(timed(process.execPath, ca('crl', '--issuer', 'clients', '--pin-file', pin, '--out', join(dir, 'clients.crl'))), 'ca crl');
      // CARDCA_BENCH_CPU_PROF=DIR: one more `ca crl` (the next CRL number) under the profiler, untimed.
      const profDir = process.env['CARDCA_BENCH_CPU_PROF'];
      if (profDir) {
        must(timed(process.execPath, ['--cpu-prof', '--cpu-prof-interval', '500', '--cpu-prof-dir', profDir, ...ca('crl', '--issuer', 'clients', '--pin-file', pin, '--out', join(dir, 'clients-profiled.crl'))]), 'ca crl (profiled)');
        console.log(`  CPU profile of one \`ca crl\` written to ${profDir}`);
      }
    } finally {
      await sub.stop();
    }
  });

  // 4. The peer on the same certificates: openssl ca -gencrl with a software key of the same type.
  const peerDir = join(dir, 'openssl-ca');
  execFileSync('mkdir', ['-p', peerDir]);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(peerDir, 'ca.key'), '-subj', '/CN=Peer Clients CA', '-days', '3650', '-out', join(peerDir, 'ca.pem')], { stdio: 'ignore' });
  writeFileSync(join(peerDir, 'crlnumber'), '01\n');
  writeFileSync(join(peerDir, 'index.txt.attr'), 'unique_subject = no\n');
  execFileSync('cp', [join(dir, 'index.txt'), join(peerDir, 'index.txt')]);
  writeFileSync(join(peerDir, 'openssl.cnf'), [
    '[ ca ]', 'default_ca = peer', '[ peer ]', `dir = ${peerDir}`, 'database = $dir/index.txt', 'crlnumber = $dir/crlnumber',
    'certificate = $dir/ca.pem', 'private_key = $dir/ca.key', 'default_md = sha256', 'default_crl_days = 30', 'crl_extensions = crl_ext',
    '[ crl_ext ]', 'authorityKeyIdentifier = keyid:always', '',
  ].join('\n'));
  const peer = must(timed('openssl', ['ca', '-config', join(peerDir, 'openssl.cnf'), '-gencrl', '-out', join(peerDir, 'peer.crl')]), 'openssl ca -gencrl');

  // 5. Reads.
  const status = must(medianTimed(5, process.execPath, ca('status')), 'ca status');
  const expiring = must(medianTimed(5, process.execPath, ca('list', '--expiring', '30d'), { stdoutFile: join(dir, 'expiring.txt') }), 'ca list --expiring 30d');
  const listJson = must(timed(process.execPath, ca('list', '--json'), { stdoutFile: '/dev/null' }), 'ca list --json');
  // Into a pipe, as `ca list --json | jq` runs: the list must wait for its reader, not queue the
  // output in the process (the ENOBUFS of docs/benchmarks.md, 2026-12-03). /usr/bin/time's peak is
  // the largest process of the pipeline, which is `ca`; its CPU includes wc's (small).
  const listPipe = must(timed('sh', ['-c', '"$0" "$@" | wc -c', process.execPath, ...ca('list', '--json')]), 'ca list --json | wc -c');
  const pipedBytes = Number(listPipe.stdout.trim());
  const expiringRows = readFileSync(join(dir, 'expiring.txt'), 'utf8').split('\n').filter((l) => l.trim()).length;

  // 6. OpenSSL's verdicts on cardca's CRL.
  const crlFile = join(dir, 'clients.crl');
  const v = spawnSync('openssl', ['crl', '-in', crlFile, '-CAfile', join(dir, 'clients.pem'), '-noout', '-verify'], { encoding: 'utf8' });
  const refused = spawnSync('openssl', ['verify', '-crl_check', '-CAfile', join(dir, 'chain.pem'), '-CRLfile', crlFile, join(dir, 'alice.crt')], { encoding: 'utf8' });
  const entries = Number(spawnSync('sh', ['-c', `openssl crl -in '${crlFile}' -noout -text | grep -c 'Serial Number:'`], { encoding: 'utf8' }).stdout.trim());
  const peerEntries = Number(spawnSync('sh', ['-c', `openssl crl -in '${join(peerDir, 'peer.crl')}' -noout -text | grep -c 'Serial Number:'`], { encoding: 'utf8' }).stdout.trim());

  const c = crl!;
  const verifyOk = v.status === 0 && /verify OK/.test(v.stderr + v.stdout);
  const revokedOk = refused.status !== 0 && /certificate revoked/.test(refused.stdout + refused.stderr);
  const ms = (t: Timed): string => (t.wallMs >= 10_000 ? `${(t.wallMs / 1000).toFixed(1)} s` : `${t.wallMs.toFixed(0)} ms`);
  const rows: [string, Timed, string, string][] = [
    [`ca crl --issuer clients (${entries.toLocaleString('en')} entries, card signs)`, c, '≤ 3 s, ≤ 300 MB', `peer/cardca ${(peer.wallMs / c.wallMs).toFixed(2)}× wall, ${(peer.cpuS / c.cpuS).toFixed(2)}× CPU (goal ≥ 3×)`],
    [`openssl ca -gencrl (${peerEntries.toLocaleString('en')} entries, software P-256 key)`, peer, 'peer', '1'],
    [`ca status (${(2 * n + 1).toLocaleString('en')} certificates; ${status.range})`, status, '≤ 200 ms, ≤ 100 MB', ''],
    [`ca list --expiring 30d (${expiringRows.toLocaleString('en')} rows out; ${expiring.range})`, expiring, '≤ 200 ms, ≤ 100 MB', ''],
    [`ca list --json (${(2 * n + 1).toLocaleString('en')} rows, to /dev/null)`, listJson, 'streams', ''],
    [`ca list --json piped to wc -c (the same rows, ${(pipedBytes / 2 ** 20).toFixed(0)} MiB)`, listPipe, 'streams, ≤ 100 MB', ''],
  ];
  const result = [
    '| row | wall | CPU | peak RSS | goal | ratio |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(([name, t, goal, ratio]) => `| ${name} | ${ms(t)} | ${t.cpuS.toFixed(2)} s | ${t.peakMb.toFixed(0)} MB | ${goal} | ${ratio} |`),
    '',
    `openssl crl -verify of cardca's CRL against the clients CA: ${verifyOk ? 'verify OK' : `FAILED ${v.stderr}`}`,
    `openssl verify -crl_check of the revoked certificate: ${revokedOk ? 'refused: certificate revoked' : `NOT REFUSED ${refused.stdout}`}`,
  ];
  console.log(['', ...result].join('\n'));
  addScaleLines(result);
  if (!verifyOk || !revokedOk || entries !== n + 1) process.exitCode = 1;
  console.log(`  load after: ${loadavg().map((x) => x.toFixed(2)).join(', ')}`);
  if (!process.env['CARDCA_KEEP_TMP'] && !reuse) rmSync(dir, { recursive: true, force: true });
  else console.log(`  kept ${dir}`);
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  run(process.argv[2] ? Number(process.argv[2]) : undefined).catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
