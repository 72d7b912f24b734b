// Rig lanes for scripts/run-tests.mjs: K private PC/SC rigs, each in its own network + mount
// namespace (scripts/rig-lane.sh), so K integration files can run at once although every one
// of them uses the same vpcd ports and the same pcscd socket path.
//
// A lane is a keeper process (`unshare --net --mount --propagation private bash
// scripts/rig-lane.sh DIR`) holding the namespaces and the lane's pcscd; commands run in the
// lane through `nsenter --target KEEPER --net --mount`. The keeper's stdin is a pipe from us:
// closing it (close(), or our death, even by SIGKILL) makes the keeper stop its pcscd by PID
// and exit. The keeper has its own process group, so a Ctrl-C reaches us and not it, and we
// close the lanes in order. After each file, whatever is left in a lane's network namespace
// besides keeper and pcscd (an emulator whose test died) is killed, so it cannot hold a vpcd
// port for the next file.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const READY_TIMEOUT_MS = 90_000;
const CLOSE_TIMEOUT_MS = 20_000;

/** Resolves when `p` does or after `ms`, whichever is first; the timer never outlives it. */
async function within(p, ms) {
  const ac = new AbortController();
  try {
    await Promise.race([p, sleep(ms, undefined, { signal: ac.signal }).catch(() => undefined)]);
  } finally {
    ac.abort();
  }
}

/** True while process `pid` exists (EPERM: it exists, owned by another user). */
export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

function kill(pid, sig) {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

function comm(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** PIDs (other than `except`) whose network namespace is `netns` ("net:[INODE]"). */
function pidsInNetns(netns, except) {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(d) || except.includes(Number(d))) continue;
    try {
      if (readlinkSync(`/proc/${d}/ns/net`) === netns) out.push(Number(d));
    } catch {
      /* exited, or not ours to read */
    }
  }
  return out;
}

/** Why lanes cannot be used here, or undefined when they can be tried. */
export function lanesUnavailable() {
  if (process.platform !== 'linux') return 'namespaces need Linux';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'namespaces need root';
  return undefined;
}

/**
 * Starts lane `n`: resolves with { n, dir, keeperPid, pcscdPid, netns, wrap(cmd, args), close() }
 * once its pcscd shows the 8 readers; rejects (with the keeper's stderr) when it cannot.
 */
export function openLane(repo, n) {
  const dir = join(tmpdir(), `cardca-rig-lane-${process.pid}-${n}`);
  rmSync(dir, { recursive: true, force: true });
  const keeper = spawn('unshare', ['--net', '--mount', '--propagation', 'private', '--', 'bash', join(repo, 'scripts', 'rig-lane.sh'), dir], {
    cwd: repo,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  keeper.stderr.on('data', (c) => (stderr += c));
  let exited = false;
  const closed = new Promise((res) => keeper.on('close', () => ((exited = true), res())));
  keeper.on('error', (e) => (stderr += `${e.message}\n`));

  return new Promise((resolve, reject) => {
    let out = '';
    const fail = async (why) => {
      clearTimeout(timer);
      keeper.stdin.end();
      await within(closed, CLOSE_TIMEOUT_MS);
      if (!exited && keeper.pid) kill(keeper.pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      // message: one line for the runner's notice; detail: what the keeper said
      reject(Object.assign(new Error(`rig lane ${n}: ${why}${stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : ''}`), { detail: stderr.trim() }));
    };
    const timer = setTimeout(() => void fail(`not ready after ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS);
    closed.then(() => {
      if (!out.includes('\n')) void fail('keeper exited before the rig was ready');
    });
    keeper.stdout.on('data', (c) => {
      out += c;
      const m = /^lane ready ([0-9]+)\n/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      const keeperPid = keeper.pid;
      const pcscdPid = Number(m[1]);
      const netns = readlinkSync(`/proc/${keeperPid}/ns/net`);
      const reap = async () => {
        const strays = pidsInNetns(netns, [keeperPid, pcscdPid, process.pid]);
        if (strays.length === 0) return [];
        const notes = [`rig lane ${n}: killing processes left in the lane: ${strays.map((p) => `${p} (${comm(p)})`).join(', ')}`];
        for (const p of strays) kill(p, 'SIGTERM');
        const deadline = Date.now() + 3_000;
        while (strays.some(alive) && Date.now() < deadline) await sleep(100);
        for (const p of strays.filter(alive)) kill(p, 'SIGKILL');
        return notes;
      };
      resolve({
        n,
        dir,
        keeperPid,
        pcscdPid,
        netns,
        /** argv that runs `cmd args` inside the lane's namespaces, in `cwd`. */
        wrap: (cmd, args, cwd = repo) => ['nsenter', ['--target', String(keeperPid), '--net', '--mount', `--wd=${cwd}`, '--', cmd, ...args]],
        /**
         * Kills what a test file left running in the lane (an emulator whose test process died,
         * say): it would hold a vpcd port for the next file. Anything in the lane's network
         * namespace but the keeper and pcscd is ours and a leftover once the file has ended.
         * Resolves with notices for the log.
         */
        reap,
        /**
         * Stops the lane: reaps it, the keeper stops pcscd by PID; a keeper or pcscd that
         * outlives that is killed. Resolves with notices for the log.
         */
        close: async () => {
          const notes = await reap();
          keeper.stdin.end();
          await within(closed, CLOSE_TIMEOUT_MS);
          if (!exited) {
            notes.push(`rig lane ${n}: keeper PID ${keeperPid} did not exit in ${CLOSE_TIMEOUT_MS / 1000} s: killed`);
            kill(keeperPid, 'SIGKILL');
          }
          if (alive(pcscdPid) && comm(pcscdPid) === 'pcscd') {
            notes.push(`rig lane ${n}: pcscd PID ${pcscdPid} outlived its keeper: killed`);
            kill(pcscdPid, 'SIGKILL');
          }
          rmSync(dir, { recursive: true, force: true });
          return notes;
        },
      });
    });
  });
}
