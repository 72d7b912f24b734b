// scripts/tap-failures.mjs: the failed tests' errors that run-tests prints above its summary.
// Judged on TAP that node --test itself writes for a fixture with failures of each shape (a
// multi-line assertion message, a one-line error, a failure inside a suite, a passing test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

interface Failure { name: string; location: string | undefined; error: string[] }
interface TapFailures {
  tapFailures(text: string, options?: { maxErrorLines?: number }): Failure[];
  formatFailures(failures: Failure[], options?: { maxFailures?: number }): string;
}
const load = async (): Promise<TapFailures> => (await import(pathToFileURL(join(repo, 'scripts', 'tap-failures.mjs')).href)) as TapFailures;

const FIXTURE = `
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
test('a child that failed', () => { assert.equal(1, 2, 'child with 250 sessions failed (1):\\nPCSC_TIMEOUT: pcscd reported no status\\nthird line'); });
describe('a suite', () => {
  test("it's inner # and fails", () => { throw new Error('boom'); });
  test('passes', () => {});
});
test('passes too', () => {});
`;

function tapOf(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cardca-tap-'));
  try {
    const file = join(dir, 'fixture.test.mjs');
    writeFileSync(file, source);
    // Without NODE_TEST_CONTEXT, which this runner sets: with it the child reports to us, not on stdout.
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', file], { encoding: 'utf8', env });
    assert.equal(r.status, 1, 'the fixture fails');
    return r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('tap failures: each failed test with its whole error; suites that only repeat a subtest failure and passing tests are left out', async () => {
  const { tapFailures } = await load();
  const failures = tapFailures(tapOf(FIXTURE));
  assert.deepEqual(failures.map((f) => f.name), ['a child that failed', "it's inner # and fails"]);
  assert.deepEqual(failures[0]!.error.slice(0, 3), ['child with 250 sessions failed (1):', 'PCSC_TIMEOUT: pcscd reported no status', 'third line']);
  assert.ok(failures[0]!.error.includes('1 !== 2'), failures[0]!.error.join('\n'));
  assert.deepEqual(failures[1]!.error, ['boom']);
  for (const f of failures) assert.match(f.location ?? '', /fixture\.test\.mjs:\d+:\d+$/);
});

test('tap failures: long errors are cut with a count; the digest names every failure and caps their number', async () => {
  const { tapFailures, formatFailures } = await load();
  const long = Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\\n');
  const tap = tapOf(`import { test } from 'node:test';\n${[1, 2, 3].map((n) => `test('f${n}', () => { throw new Error('${long}'); });`).join('\n')}\n`);
  const failures = tapFailures(tap, { maxErrorLines: 5 });
  assert.equal(failures.length, 3);
  assert.deepEqual(failures[0]!.error, ['line 0', 'line 1', 'line 2', 'line 3', 'line 4', '… 45 more lines']);
  const digest = formatFailures(failures, { maxFailures: 2 });
  assert.match(digest, /failed tests \(3\)/);
  assert.match(digest, /✖ f1 \(.*fixture\.test\.mjs:2:\d+\)\n {4}line 0\n/);
  assert.match(digest, /✖ f2 /);
  assert.doesNotMatch(digest, /✖ f3 /);
  assert.match(digest, /and 1 more/);
  assert.equal(formatFailures([]), '');
  assert.deepEqual(tapFailures(tapOf("import { test } from 'node:test';\ntest('x', () => { throw new Error('once'); });\n").replace(/not ok/g, 'ok')), []);
});
