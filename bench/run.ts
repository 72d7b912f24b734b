// Benchmark entry point (`npm run bench`): imports every compiled bench/*.js module next to this
// one (except itself) and awaits its exported `run()` if it has one, in file-name order.
// Benchmarks print their own figures; timings never become test assertions. At the end, the
// figures of issue #14's table from this one run (bench/helpers/summary.ts), each with the peer
// measured in the same run, and the rows bench/scale.ts printed (that bench prints, it returns
// nothing, so its lines are kept as they go by).
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatSummary, takeSummaryRows } from './helpers/summary.js';

/** bench/scale.ts's result lines (the CRL, status and list rows and OpenSSL's verdicts). */
const SCALE_ROW = /^\s+(ca crl|openssl ca -gencrl|ca status|ca list|openssl crl|openssl verify)\b/;

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
  const scaleRows: string[] = [];
  for (const file of modules) {
    const mod = (await import(pathToFileURL(join(here, file)).href)) as { run?: unknown };
    if (typeof mod.run !== 'function') {
      console.log(`bench: ${file}: no exported run(), skipped`);
      continue;
    }
    console.log(`bench: ${file}`);
    const log = console.log;
    if (file.startsWith('scale.')) {
      console.log = (...args: unknown[]): void => {
        const text = args.map(String).join(' ');
        if (SCALE_ROW.test(text)) scaleRows.push(text.trim());
        log(...args);
      };
    }
    try {
      await (mod.run as () => unknown)();
    } catch (err) {
      failures++;
      console.error(`bench: ${file} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    } finally {
      console.log = log;
    }
  }
  const rows = takeSummaryRows();
  if (rows.length > 0 || scaleRows.length > 0) {
    console.log(`\nbench: issue #14 figures from this run (started ${startedAt}; load average before ${loadBefore}, after ${load()})\n`);
    if (rows.length > 0) console.log(formatSummary(rows));
    if (scaleRows.length > 0) console.log(`\nscale (bench/scale.ts):\n${scaleRows.map((r) => `  ${r}`).join('\n')}`);
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
