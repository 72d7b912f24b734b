import type { Writable } from 'node:stream';

/**
 * Composition root for the command line: the only place that builds concrete objects
 * (database, card connections, clock). Command handlers receive a `CliContext` and stay thin.
 */
export interface CliContext {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /**
   * Wall clock; tests that run `main` in-process may pin it. `CA_FAKE_NOW` is not read here: only
   * a rehearsal home honours it (ca-context.ts `homeClock`).
   */
  now(): Date;
}

export function defaultContext(): CliContext {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    now: () => new Date(),
  };
}

export function println(ctx: CliContext, line = ''): void {
  ctx.stdout.write(line + '\n');
}

export function eprintln(ctx: CliContext, line = ''): void {
  ctx.stderr.write(line + '\n');
}

/** Colour only on a TTY, and never when NO_COLOR is set (https://no-color.org). */
export function useColour(ctx: CliContext, stream: 'stdout' | 'stderr' = 'stdout'): boolean {
  return Boolean(ctx[stream].isTTY) && ctx.env['NO_COLOR'] === undefined;
}
