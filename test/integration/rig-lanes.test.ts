// Rig lanes (scripts/rig-lane.sh, scripts/rig-lanes.mjs): two private rigs at once, each with
// the 8 vpcd readers of its own pcscd in its own network + mount namespace; closing a lane
// stops its pcscd and keeper by PID and kills what a test left in it; a runner that dies
// without closing (SIGKILL) still leaves no pcscd (nor lane dir) behind: the keeper's stdin closes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const isRoot = process.getuid?.() === 0;
/** Hang guard for waiting on a process to go; never a performance assertion. */
const GONE_MS = 30_000;

interface Lane {
  n: number;
  dir: string;
  keeperPid: number;
  pcscdPid: number;
  netns: string;
  wrap(cmd: string, args: string[]): [string, string[]];
  close(): Promise<string[]>;
}
type RigLanes = { openLane(repo: string, n: number): Promise<Lane> };
const rigLanes = (): Promise<RigLanes> => import(pathToFileURL(join(repo, 'scripts', 'rig-lanes.mjs')).href) as Promise<RigLanes>;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number): Promise<boolean> {
  const deadline = Date.now() + GONE_MS;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  return !alive(pid);
}

function readersIn(lane: Lane): string {
  const [cmd, args] = lane.wrap('opensc-tool', ['-l']);
  return execFileSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
}

test('two lanes at once: each its own pcscd with the 8 readers, in its own namespaces; close stops all of it', { skip: isRoot ? false : 'needs root (namespaces)', timeout: 180_000 }, async () => {
  const { openLane } = await rigLanes();
  const lanes = await Promise.all([openLane(repo, 91), openLane(repo, 92)]);
  try {
    const [a, b] = lanes as [Lane, Lane];
    assert.notEqual(a.pcscdPid, b.pcscdPid);
    assert.notEqual(a.netns, b.netns);
    assert.notEqual(a.netns, readlinkSync('/proc/self/ns/net'), 'a lane must not run in the caller\'s network namespace');
    assert.notEqual(readlinkSync(`/proc/${a.keeperPid}/ns/mnt`), readlinkSync('/proc/self/ns/mnt'));
    for (const lane of lanes) {
      const listing = readersIn(lane);
      for (const r of ['Virtual PCD 00 00', 'Virtual PCD 2 00 01', 'Virtual PCD 4 00 01']) assert.ok(listing.includes(r), `lane ${lane.n} lacks ${r}:\n${listing}`);
      const [cmd, args] = lane.wrap('ip', ['route', 'show', 'table', 'local']);
      assert.match(execFileSync(cmd, args, { encoding: 'utf8' }), /^local 127\.0\.0\.2 .*quickack 1/m, `lane ${lane.n} has no quickack route`);
    }
    // Something a test forgot in lane a: close must find it by the lane's netns and kill it.
    const [cmd, args] = a.wrap('sleep', ['300']);
    const stray = spawn(cmd, args, { stdio: 'ignore', detached: true });
    stray.unref();
    await sleep(500);
    const notes = await a.close();
    assert.ok(notes.some((n) => n.includes(`${stray.pid!} (sleep)`)), `close did not report the stray: ${JSON.stringify(notes)}`);
    assert.ok(await gone(stray.pid!), 'stray process still running');
  } finally {
    await Promise.all(lanes.map((l) => l.close()));
  }
  for (const lane of lanes) {
    assert.ok(await gone(lane.pcscdPid), `lane ${lane.n} pcscd ${lane.pcscdPid} still running`);
    assert.ok(await gone(lane.keeperPid), `lane ${lane.n} keeper ${lane.keeperPid} still running`);
    assert.equal(existsSync(lane.dir), false, `lane ${lane.n} left ${lane.dir}`);
  }
});

test('a runner killed with SIGKILL leaves no lane pcscd behind (the keeper sees its stdin close)', { skip: isRoot ? false : 'needs root (namespaces)', timeout: 120_000 }, async () => {
  const script = `import(${JSON.stringify(pathToFileURL(join(repo, 'scripts', 'rig-lanes.mjs')).href)}).then(async ({ openLane }) => {
    const l = await openLane(${JSON.stringify(repo)}, 93);
    process.stdout.write(JSON.stringify({ pcscd: l.pcscdPid, keeper: l.keeperPid, dir: l.dir }) + '\\n');
    setInterval(() => {}, 1000);
  });`;
  const runner = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((res, rej) => {
    let out = '';
    runner.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      if (out.includes('\n')) res(out.split('\n')[0]!);
    });
    runner.on('exit', (c) => rej(new Error(`runner exited ${String(c)} before its lane was ready`)));
  });
  const { pcscd, keeper, dir } = JSON.parse(line) as { pcscd: number; keeper: number; dir: string };
  assert.ok(alive(pcscd), 'lane pcscd not running while its runner lives');
  runner.kill('SIGKILL');
  assert.ok(await gone(pcscd), `pcscd ${pcscd} outlived its killed runner`);
  assert.ok(await gone(keeper), `keeper ${keeper} outlived its killed runner`);
  assert.equal(existsSync(dir), false, `the keeper left ${dir}`);
});
