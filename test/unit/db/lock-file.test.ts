/**
 * The CA-home lock across processes: with a stale lock left by a dead process and several
 * waiters taking it over at once, the critical sections of the holders must never overlap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LOCK_MODULE = fileURLToPath(new URL('../../../src/db/lock-file.js', import.meta.url));

// Each child takes the lock, appends "enter <pid>", holds it briefly, appends "exit <pid>".
const CHILD = `
import { acquireLock } from ${JSON.stringify(LOCK_MODULE)};
import { appendFileSync } from 'node:fs';
const [lockPath, logPath] = process.argv.slice(1);
const lock = await acquireLock(lockPath, 60000);
appendFileSync(logPath, 'enter ' + process.pid + '\\n');
await new Promise((r) => setTimeout(r, 30));
appendFileSync(logPath, 'exit ' + process.pid + '\\n');
lock.release();
`;

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

test('waiters taking over a stale lock at once never hold it together', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardca-lock-'));
  const lockPath = join(dir, 'ca.lock');
  const logPath = join(dir, 'log');
  for (let round = 0; round < 3; round++) {
    writeFileSync(lockPath, `${deadPid()}\n`);
    writeFileSync(logPath, '');
    const children = Array.from({ length: 6 }, () =>
      spawn(process.execPath, ['--input-type=module', '-e', CHILD, lockPath, logPath], { stdio: ['ignore', 'ignore', 'inherit'] }),
    );
    const codes = await Promise.all(children.map((c) => new Promise<number | null>((res) => c.on('exit', res))));
    assert.deepEqual(codes, [0, 0, 0, 0, 0, 0]);
    const events = readFileSync(logPath, 'utf8').trim().split('\n');
    assert.equal(events.length, 12);
    // Strict alternation enter/exit of the same pid means no two holders overlapped.
    for (let i = 0; i < events.length; i += 2) {
      const [e, pid] = events[i]!.split(' ');
      assert.equal(e, 'enter', `event ${i}: ${events.join(', ')}`);
      assert.equal(events[i + 1], `exit ${pid}`, `holders overlapped: ${events.join(', ')}`);
    }
  }
});
