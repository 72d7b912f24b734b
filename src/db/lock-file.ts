import { closeSync, openSync, readFileSync, unlinkSync, writeSync, fsyncSync, constants } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DbError } from './db-error.js';

/**
 * An exclusive lock file next to the database, so two `ca` processes never write at once.
 * SQLite's own locking would serialise the transactions, but not whole commands (a `ca sign`
 * batch spans many transactions and a card session). The file holds the owner's pid; a lock
 * whose pid is gone is stale and taken over (the owner crashed; its reserved rows are
 * recovered at the next open).
 */
export interface HeldLock {
  readonly path: string;
  release(): void;
}

function ownerPid(path: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: exists but belongs to someone else; still alive.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryCreate(path: string): boolean {
  try {
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      writeSync(fd, `${process.pid}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new DbError('LOCK_FAILED', `cannot create the lock file ${path}: ${(e as Error).message}`, {
      hint: 'Check that the CA home directory exists and is writable.',
    });
  }
}

/** Returns false when another waiter holds the takeover guard (the caller waits a little). */
function takeOverStale(path: string, stalePid: number): boolean {
  const guard = `${path}.takeover`;
  if (!tryCreate(guard)) {
    // Another waiter is taking over; a guard whose owner died (a crash inside these few lines)
    // is removed so waiting cannot last forever.
    const g = ownerPid(guard);
    if (g !== undefined && !alive(g)) {
      try {
        unlinkSync(guard);
      } catch {
        /* already gone */
      }
    }
    return false;
  }
  try {
    if (ownerPid(path) === stalePid) unlinkSync(path);
  } finally {
    unlinkSync(guard);
  }
  return true;
}

/** Take the lock, waiting up to `timeoutMs` for another process to release it. */
export async function acquireLock(path: string, timeoutMs = 10_000): Promise<HeldLock> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (tryCreate(path)) {
      let released = false;
      return {
        path,
        release: () => {
          if (released) return;
          released = true;
          if (ownerPid(path) === process.pid) unlinkSync(path);
        },
      };
    }
    const pid = ownerPid(path);
    if (pid !== undefined && !alive(pid)) {
      // Stale: the holder died. Several waiters may see that at once; if each unlinked the
      // file, a slow one could delete the fresh lock a faster one just created and two
      // processes would write. So a takeover is itself exclusive (O_EXCL on a side file), and
      // the stale pid is re-read under it.
      if (!takeOverStale(path, pid)) await sleep(10);
      continue;
    }
    if (pid === process.pid) {
      throw new DbError('LOCK_HELD', `this process already holds ${path}`, { hint: 'This is a bug: the CA home was opened twice.' });
    }
    if (Date.now() >= deadline) {
      throw new DbError('LOCK_HELD', `another ca process (pid ${pid ?? 'unknown'}) holds the CA home lock ${path}; waited ${timeoutMs} ms`, {
        hint: `Wait for that command to finish. If no ca process with pid ${pid ?? '?'} runs, remove ${path}.`,
        details: { pid },
      });
    }
    await sleep(100);
  }
}
