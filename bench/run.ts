// Benchmark entry point (`npm run bench`): imports every compiled bench/*.js module next to this
// one (except itself) and awaits its exported `run()` if it has one, in file-name order.
// Benchmarks print their own figures; timings never become test assertions. At the end, the
// figures of issue #14's table from this one run (bench/helpers/summary.ts), each with the peer
// measured in the same run, and the table bench/scale.ts printed (addScaleLines).
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { closingSummary, takeScaleLines, takeSummaryRows } from './helpers/summary.js';

export async function runAll(only: readonly string[] = []): Promise<number> {
  const here = dirname(fileURLToPath(import.meta.url));
  const self = fileURLToPath(import.meta.url);
  const modules = readdirSync(here)
    .filter((f) => f.endsWith('.js') && join(here, f) !== self)
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
    .sort();
  let failures = 0;
  const load = (): string => loadavg().map((x) => x.toFixed(2)).join(', ');
  const startedAt = new Date().toISOString();
  const loadBefore = load();
  for (const file of modules) {
    const mod = (await import(pathToFileURL(join(here, file)).href)) as { run?: unknown };
    if (typeof mod.run !== 'function') {
      console.log(`bench: ${file}: no exported run(), skipped`);
      continue;
    }
    console.log(`bench: ${file}`);
    try {
      await (mod.run as () => unknown)();
    } catch (err) {
      failures++;
      console.error(`bench: ${file} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    }
  }
  const rows = takeSummaryRows();
  const scale = takeScaleLines();
  if (rows.length > 0 || scale.length > 0) {
    console.log(`\n${closingSummary(`bench: issue #14 figures from this run (started ${startedAt}; load average before ${loadBefore}, after ${load()})`, rows, scale)}`);
  }
  if (modules.length === 0) console.log('bench: no bench modules found');
  return failures === 0 ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runAll(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
