// scripts/run-lock.mjs: one test run per worktree. Two overlapping runs in one worktree each
// cleared dist/tap/ and printed the other's counts (stop 8); the runner now refuses the second.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

interface RunLock { release?: () => void; heldBy?: number }
async function lockModule(): Promise<{ acquireRunLock: (file: string) => RunLock }> {
  return (await import(pathToFileURL(join(repo, 'scripts', 'run-lock.mjs')).href)) as { acquireRunLock: (file: string) => RunLock };
}

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

test('run lock: taken, refused while its holder lives, released, stale locks taken over', async () => {
  const { acquireRunLock } = await lockModule();
  const dir = mkdtempSync(join(tmpdir(), 'cardca-run-lock-'));
  try {
    const file = join(dir, 'test-run.lock');
    const first = acquireRunLock(file);
    assert.equal(typeof first.release, 'function');
    assert.equal(readFileSync(file, 'utf8'), `${process.pid} ${bootId}\n`);
    assert.deepEqual(acquireRunLock(file), { heldBy: process.pid });
    first.release!();
    assert.equal(existsSync(file), false);

    writeFileSync(file, `${deadPid()} ${bootId}\n`); // its runner was SIGKILLed
    const second = acquireRunLock(file);
    assert.equal(typeof second.release, 'function', 'a dead holder must not block the next run');
    second.release!();

    writeFileSync(file, `${process.pid} 00000000-0000-0000-0000-000000000000\n`); // earlier boot
    const third = acquireRunLock(file);
    assert.equal(typeof third.release, 'function', 'a lock from an earlier boot is stale');
    third.release!();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run-tests.mjs refuses to start while another run holds the worktree, and changes nothing', async () => {
  const root = mkdtempSync(join(tmpdir(), 'cardca-run-tests-'));
  const holder = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    mkdirSync(join(root, 'scripts'));
    for (const f of ['run-tests.mjs', 'run-lock.mjs', 'rig-lanes.mjs', 'run-temp.mjs', 'tap-failures.mjs']) copyFileSync(join(repo, 'scripts', f), join(root, 'scripts', f));
    mkdirSync(join(root, 'dist', 'tap'), { recursive: true });
    writeFileSync(join(root, 'dist', 'tap', 'rig-00.tap'), '# pass 7\n');
    writeFileSync(join(root, 'dist', 'test-run.lock'), `${holder.pid} ${bootId}\n`);
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'run-tests.mjs'), '--no-build', '--no-rig'], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`another test run \\(pid ${holder.pid}\\)`));
    assert.equal(readFileSync(join(root, 'dist', 'tap', 'rig-00.tap'), 'utf8'), '# pass 7\n', 'the running one\'s results stay');
    assert.equal(readFileSync(join(root, 'dist', 'test-run.lock'), 'utf8'), `${holder.pid} ${bootId}\n`);
  } finally {
    holder.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
});
