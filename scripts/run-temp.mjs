// A test run's temporary files (scripts/run-tests.mjs). The tests make their homes, emulator
// states and scale databases with mkdtemp(tmpdir()), and many leave them behind on purpose (a
// failed file's home is what one reads to see why) or by omission: a day of runs left 8.6 GB in
// the CI machine's /tmp (1,310 cardca-emu-* directories, 14 cardca-crl-scale-* of 528 MB each).
// Rather than chase every test's cleanup, the runner points TMPDIR (which os.tmpdir(), mktemp
// and OpenSSL all honour) at one directory of its own and removes it when the run ends.
// CARDCA_KEEP_TMP=1 keeps it, for reading what a failed test left.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Makes the run's temporary directory under `parent` (the TMPDIR in force, default /tmp) and
 * sets `env.TMPDIR` to it, so every child started with `env` writes its temporary files there.
 * `close()` removes it (returns undefined) or, with CARDCA_KEEP_TMP set in `env`, keeps it and
 * returns a line saying where it is.
 */
export function openRunTemp(env, parent = tmpdir()) {
  const dir = mkdtempSync(join(parent, 'cardca-test-run-'));
  env.TMPDIR = dir;
  return {
    dir,
    close() {
      if (env.CARDCA_KEEP_TMP) return `the run's temporary files are kept in ${dir} (CARDCA_KEEP_TMP)`;
      // A process the run could not stop may still write here: retry the removal a few times.
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      return undefined;
    },
  };
}
