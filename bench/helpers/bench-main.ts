/**
 * The command-line entry of a bench module run alone (`node dist/bench/NAME.js [A] [B]`):
 * when this module is the script node was started with, call `run` with the numeric arguments
 * and set a failing exit code on error. Under `npm run bench` (bench/run.ts imports the module)
 * it does nothing. Each bench carried its own copy of this block.
 */
import { fileURLToPath } from 'node:url';

export function benchMain(moduleUrl: string, run: (...args: (number | undefined)[]) => Promise<unknown>): void {
  if (!process.argv[1] || fileURLToPath(moduleUrl) !== process.argv[1]) return;
  const args = process.argv.slice(2).map((a) => {
    const n = Number(a);
    if (!Number.isFinite(n)) throw new Error(`${a}: not a number`);
    return n;
  });
  run(...args).catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
