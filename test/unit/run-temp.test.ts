// scripts/run-temp.mjs: a test run's temporary files. Before it, every run left its homes,
// emulator states and scale databases in /tmp (the CI machine held 8.6 GB of them after a day:
// 1,310 cardca-emu-*, 14 cardca-crl-scale-* of 528 MB each), because the tests make their
// directories with mkdtemp(tmpdir()) and many never remove them. The runner now points TMPDIR at
// one directory of its own and removes it when the run ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

interface RunTemp { readonly dir: string; close(): string | undefined }
async function runTempModule(): Promise<{ openRunTemp: (env: Record<string, string | undefined>, parent?: string) => RunTemp }> {
  return (await import(pathToFileURL(join(repo, 'scripts', 'run-temp.mjs')).href)) as { openRunTemp: (env: Record<string, string | undefined>, parent?: string) => RunTemp };
}

/** A child process that, like a test, makes a directory with mkdtemp(tmpdir()) and leaves it. */
function leaveTempDir(env: Record<string, string | undefined>): string {
  const r = spawnSync(process.execPath, ['-e', "const fs=require('fs'),os=require('os'),p=require('path');const d=fs.mkdtempSync(p.join(os.tmpdir(),'cardca-left-'));fs.writeFileSync(p.join(d,'f'),'x');process.stdout.write(d)"],
    { encoding: 'utf8', env: env as NodeJS.ProcessEnv });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('run temp: children make their temp files inside it, and close removes everything they left', async () => {
  const { openRunTemp } = await runTempModule();
  const parent = mkdtempSync(join(tmpdir(), 'cardca-run-temp-'));
  try {
    const env: Record<string, string | undefined> = { PATH: process.env['PATH'] };
    const run = openRunTemp(env, parent);
    assert.equal(env['TMPDIR'], run.dir);
    assert.equal(dirname(run.dir), parent);
    const left = leaveTempDir(env);
    assert.equal(dirname(left), run.dir, 'the child used the run directory');
    assert.ok(existsSync(join(left, 'f')));
    assert.equal(run.close(), undefined);
    assert.equal(existsSync(run.dir), false, 'close removed the run directory and what was left in it');
    assert.deepEqual(readdirSync(parent), []);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test('run temp: CARDCA_KEEP_TMP=1 keeps the files and close says where they are', async () => {
  const { openRunTemp } = await runTempModule();
  const parent = mkdtempSync(join(tmpdir(), 'cardca-run-temp-'));
  try {
    const env: Record<string, string | undefined> = { PATH: process.env['PATH'], CARDCA_KEEP_TMP: '1' };
    const run = openRunTemp(env, parent);
    const left = leaveTempDir(env);
    const note = run.close();
    assert.ok(existsSync(join(left, 'f')), 'kept');
    assert.match(note ?? '', new RegExp(run.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});
