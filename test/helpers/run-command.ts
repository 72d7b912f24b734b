import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

/** Repository root (this file compiles to dist/test/helpers/). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The compiled `ca` executable. */
export const BIN = join(REPO, 'dist', 'src', 'cli', 'bin.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  timeoutMs?: number;
  /** Added to the environment (which always gets NO_COLOR=1 so output is plain). */
  env?: Record<string, string>;
}

/** Run a command to completion; never rejects: a failure is a non-zero `code`. */
export function runCommand(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<Run> {
  return new Promise((res) => {
    execFile(
      cmd,
      args,
      { timeout: options.timeoutMs ?? 120_000, maxBuffer: 8 << 20, env: { ...process.env, NO_COLOR: '1', ...options.env } },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        res({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** Assert exit code 0, showing the command's output when it is not. */
export function expectOk(r: Run, what: string): Run {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
  return r;
}
