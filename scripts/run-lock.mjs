// One test run per worktree at a time. Every run clears and rewrites dist/tap/ and
// dist/test-results.tap, so a second run started in the same worktree while one is going
// deletes the first run's per-file TAP and both summaries come out wrong (seen in stop 8: two
// overlapping runs each printed the other's counts). The lock is a file created with O_EXCL
// holding "pid boot-id"; a lock whose process is gone (or from an earlier boot) is stale and
// taken over, so a SIGKILLed runner never blocks the next one.
import { openSync, writeSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { alive } from './rig-lanes.mjs';

function bootId() {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/**
 * Takes the run lock at `file`. Returns a release function, or an object `{ heldBy }` naming the
 * live holder's pid when another run holds it.
 */
export function acquireRunLock(file) {
  const me = `${process.pid} ${bootId()}\n`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, me);
      closeSync(fd);
      return { release: () => rmSync(file, { force: true }) };
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let pid = 0;
      let boot = '';
      try {
        [pid, boot] = readFileSync(file, 'utf8').trim().split(/\s+/).map((v, i) => (i === 0 ? Number(v) : v));
      } catch {
        // Vanished between open and read: try again.
      }
      if (pid > 0 && boot === bootId() && alive(pid)) return { heldBy: pid };
      rmSync(file, { force: true }); // stale: its runner is gone
    }
  }
  throw new Error(`run-tests: could not take the run lock ${file}`);
}
