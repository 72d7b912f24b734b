import { closeSync, constants, fsyncSync, linkSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processExists } from '../common/process-alive.js';
import { DbError } from './db-error.js';

/**
 * An exclusive lock file next to the database, so two `ca` processes never write at once.
 * SQLite's own locking would serialise the transactions, but not whole commands (a `ca sign`
 * batch spans many transactions and a card session).
 *
 * The file holds "PID BOOT-ID". It is created complete: the content is written and fsynced
 * into a private temporary file, which is then hard-linked to the lock name (link(2) fails with
 * EEXIST like O_EXCL), so the lock name never exists empty, not even after a kill or a power
 * cut between create and write. A lock is stale — and taken over under an exclusive guard —
 * when its boot id is not this boot's (the machine rebooted: the pid may now be another
 * process), when its pid is gone, or when it is empty or unreadable (left by an older cardca)
 * for more than a moment (issue #8 item 7).
 */
export interface HeldLock {
  readonly path: string;
  release(): void;
}

const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';

export function currentBootId(): string {
  try {
    return readFileSync(BOOT_ID_FILE, 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

interface Owner {
  readonly pid: number | undefined;
  readonly bootId: string | undefined;
  /** The file exists but holds no parseable owner. */
  readonly empty: boolean;
}

function owner(path: string): Owner | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined; // gone
  }
  const [p, b] = text.trim().split(/\s+/);
  const n = Number.parseInt(p ?? '', 10);
  const pid = Number.isInteger(n) && n > 0 ? n : undefined;
  return { pid, bootId: b, empty: pid === undefined };
}

/** An empty or unreadable lock older than this is a remnant, not a lock being created. */
const EMPTY_GRACE_MS = 2_000;

function staleReason(path: string, o: Owner): string | undefined {
  if (o.empty) {
    let age = 0;
    try {
      age = Date.now() - statSync(path).mtimeMs;
    } catch {
      return undefined;
    }
    return age > EMPTY_GRACE_MS ? 'empty lock file' : undefined;
  }
  if (o.bootId !== undefined && o.bootId !== currentBootId()) return `lock from an earlier boot (${o.bootId})`;
  if (o.pid !== undefined && !processExists(o.pid)) return `pid ${o.pid} is gone`;
  return undefined;
}

/** Create `path` holding our "pid boot-id", atomically and durably; false if it exists. */
function tryCreate(path: string): boolean {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
    try {
      writeSync(fd, `${process.pid} ${currentBootId()}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, path);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  } catch (e) {
    throw new DbError('LOCK_FAILED', `cannot create the lock file ${path}: ${(e as Error).message}`, {
      hint: 'Check that the CA home directory exists and is writable.',
    });
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
  }
}

/** Returns false when another waiter holds the takeover guard (the caller waits a little). */
function takeOverStale(path: string, seen: Owner): boolean {
  const guard = `${path}.takeover`;
  if (!tryCreate(guard)) {
    // Another waiter is taking over; a guard whose owner died (a crash inside these few lines,
    // or before a reboot) is removed so waiting cannot last forever.
    const g = owner(guard);
    if (g && staleReason(guard, g) !== undefined) {
      try {
        unlinkSync(guard);
      } catch {
        /* already gone */
      }
    }
    return false;
  }
  try {
    const now = owner(path);
    if (now && now.pid === seen.pid && now.bootId === seen.bootId && staleReason(path, now) !== undefined) unlinkSync(path);
  } finally {
    unlinkSync(guard);
  }
  return true;
}

/** Take the lock, waiting up to `timeoutMs` for another process to release it. */
export async function acquireLock(path: string, timeoutMs = 10_000): Promise<HeldLock> {
  const deadline = Date.now() + timeoutMs;
  const me = currentBootId();
  for (;;) {
    if (tryCreate(path)) {
      let released = false;
      return {
        path,
        release: () => {
          if (released) return;
          released = true;
          const o = owner(path);
          if (o?.pid === process.pid && (o.bootId === undefined || o.bootId === me)) unlinkSync(path);
        },
      };
    }
    const o = owner(path);
    if (!o) continue; // released between our attempt and the read
    if (staleReason(path, o) !== undefined) {
      // Several waiters may see that at once; if each unlinked the file, a slow one could
      // delete the fresh lock a faster one just created and two processes would write. So a
      // takeover is itself exclusive (a guard file), and the owner is re-read under it.
      if (!takeOverStale(path, o)) await sleep(10);
      continue;
    }
    if (o.pid === process.pid && (o.bootId === undefined || o.bootId === me)) {
      throw new DbError('LOCK_HELD', `this process already holds ${path}`, { hint: 'This is a bug: the CA home was opened twice.' });
    }
    if (Date.now() >= deadline) {
      const who = o.empty ? 'a process that has not finished writing it' : `pid ${o.pid}`;
      throw new DbError('LOCK_HELD', `another ca process (${who}) holds the CA home lock ${path}; waited ${timeoutMs} ms`, {
        hint: `Wait for that command to finish. If no ca process${o.pid ? ` with pid ${o.pid}` : ''} runs on this machine, remove ${path}.`,
        details: { pid: o.pid },
      });
    }
    await sleep(100);
  }
}
