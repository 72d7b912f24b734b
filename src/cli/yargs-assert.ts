/**
 * The two `assert` functions yargs calls (its ESM platform shim imports `notStrictEqual` and
 * `strictEqual` from Node's `assert`, to check how yargs' own API is called). The bundled CLI
 * (scripts/build-cli.mjs) uses this module in their place: importing `node:assert` loads Node's
 * assertion machinery (AssertionError, the deep-comparison and diff modules), ~7–9 ms CPU on
 * every `ca` start for two identity checks (docs/benchmarks.md, "Start-up, fourth pass").
 * Same semantics as Node's (Object.is comparison; a message that is an Error is thrown as is).
 */

function fail(message: string | Error | undefined, fallback: string): never {
  if (message instanceof Error) throw message;
  const err = new Error(message ?? fallback);
  err.name = 'AssertionError';
  throw err;
}

export function strictEqual(actual: unknown, expected: unknown, message?: string | Error): void {
  if (!Object.is(actual, expected)) fail(message, `Expected values to be strictly equal: ${String(actual)} !== ${String(expected)}`);
}

export function notStrictEqual(actual: unknown, expected: unknown, message?: string | Error): void {
  if (Object.is(actual, expected)) fail(message, `Expected "actual" to be strictly unequal to: ${String(expected)}`);
}
