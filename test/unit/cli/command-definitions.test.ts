/**
 * `ca <cmd> --help` loads the command's definition only (issue #14 item 1; docs/benchmarks.md,
 * "Start-up, third pass"): for the commands split into X.ts (definition) and X-run.ts (handler),
 * the definition's static value imports, followed transitively through the sources, must reach
 * no engine — nothing under src/db or src/card, neither CLI context (database, card stack), no
 * package but yargs — or `--help` pays for loading it again. Type-only imports do not load
 * anything and are not followed. Reads the TypeScript sources, so it needs no build.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/unit/cli/ → the package root.
const root = fileURLToPath(new URL('../../../../', import.meta.url));

// Every command's definition module: the top-level ones (cli/commands/index.ts) and the
// subcommands the card, key and db groups list.
const SPLIT_DEFINITIONS = [
  'adopt', 'audit', 'ceremony', 'crl', 'csr', 'db', 'emulator', 'enroll', 'export', 'export-openvpn-client', 'init', 'list', 'openvpn', 'profiles', 'revoke', 'show', 'sign', 'status', 'verify',
  'card/card', 'card/attest', 'card/cert', 'card/cert-read', 'card/cert-write', 'card/delete-key', 'card/dkek', 'card/init', 'card/keygen', 'card/list', 'card/pin', 'card/status',
  'key/key', 'key/backup', 'key/drill', 'key/restore',
];

/**
 * Modules under src/card that a definition may import: constants a `--help` text shows (the
 * default vpcd port, OpenSC's module path). Each must import nothing, which the test checks, so
 * that allowing it loads no card code.
 */
const CONSTANT_MODULES = ['src/card/emulator/vpcd-defaults.ts', 'src/card/opensc-pkcs11-module.ts'];

const FORBIDDEN: readonly { what: string; test: (spec: string) => boolean }[] = [
  { what: 'the database layer', test: (s) => s.startsWith('src/db/') },
  { what: 'the card stack', test: (s) => s.startsWith('src/card/') && !CONSTANT_MODULES.includes(s) },
  { what: 'the CA context (database, profiles)', test: (s) => s === 'src/cli/ca-context.ts' },
  { what: 'the card context', test: (s) => s === 'src/cli/card-context.ts' },
  { what: 'a package other than yargs', test: (s) => !s.startsWith('src/') && !s.startsWith('node:') && s !== 'yargs' },
];

/** The value imports and re-exports of a module (not `import type`, not `export type`, not all-`type` lists). */
function valueImports(source: string): string[] {
  const out: string[] = [];
  const re = /^(import|export)\s+(type\s+)?([^;']*?)\s*from\s+'([^']+)';|^import\s+'([^']+)';/gm;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    if (m[5]) {
      out.push(m[5]);
      continue;
    }
    if (m[2]) continue;
    const clause = m[3]!;
    const braces = /^\{([\s\S]*)\}$/.exec(clause.trim());
    if (braces && braces[1]!.split(',').map((p) => p.trim()).filter(Boolean).every((p) => p.startsWith('type '))) continue;
    out.push(m[4]!);
  }
  return out;
}

/** Every module reached from `file` through value imports, as repo-relative paths or bare specifiers, with the chain that reached it. */
function closure(file: string): Map<string, string[]> {
  const seen = new Map<string, string[]>([[relative(root, file), [relative(root, file)]]]);
  const todo = [file];
  while (todo.length > 0) {
    const f = todo.pop()!;
    const chain = seen.get(relative(root, f))!;
    for (const spec of valueImports(readFileSync(f, 'utf8'))) {
      if (!spec.startsWith('.')) {
        const bare = spec.startsWith('node:') ? 'node:' : spec.split('/')[0]!.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!seen.has(bare)) seen.set(bare, [...chain, spec]);
        continue;
      }
      const target = resolve(dirname(f), spec.replace(/\.js$/, '.ts'));
      assert.ok(existsSync(target), `${relative(root, f)} imports ${spec}, not found`);
      const rel = relative(root, target);
      if (seen.has(rel)) continue;
      seen.set(rel, [...chain, rel]);
      todo.push(target);
    }
  }
  return seen;
}

test('valueImports tells value imports from type-only ones', () => {
  const src = [
    "import type { A } from './a.js';",
    "import { type B, type C } from './b.js';",
    "import { type D, e } from './d.js';",
    "import f from 'f';",
    "export { g } from './g.js';",
    "export type { H } from './h.js';",
    "import './side.js';",
    "import {\n  i,\n  type J,\n} from './multi-line.js';",
  ].join('\n');
  assert.deepEqual(valueImports(src), ['./d.js', 'f', './g.js', './side.js', './multi-line.js']);
});

test('the split command definitions load no engine (what `ca <cmd> --help` pays for)', () => {
  for (const name of SPLIT_DEFINITIONS) {
    const file = join(root, 'src', 'cli', 'commands', `${name}.ts`);
    for (const [mod, chain] of closure(file)) {
      for (const f of FORBIDDEN) assert.ok(!f.test(mod), `${name}.ts loads ${f.what} (${mod}) through ${chain.join(' → ')}`);
    }
  }
});

test('the constants modules a definition may import import nothing', () => {
  for (const m of CONSTANT_MODULES) assert.deepEqual(valueImports(readFileSync(join(root, m), 'utf8')), [], `${m} must stay import-free`);
});

test('every command listed in cli/commands/index.ts has its definition checked', () => {
  const index = readFileSync(join(root, 'src', 'cli', 'commands', 'index.ts'), 'utf8');
  const loaded = [...index.matchAll(/import\('\.\/([\w/-]+)\.js'\)/g)].map((m) => m[1]!).filter((m) => m !== 'refused-command');
  assert.ok(loaded.length >= 20, `found only ${loaded.length} command imports`);
  for (const m of loaded) assert.ok(SPLIT_DEFINITIONS.includes(m), `${m}.ts is a command definition the test does not check`);
});

/**
 * The read commands at the operator's scale (issue #14 item 4; docs/benchmarks.md, "Reads at
 * 1,000,000, third pass"): `ca status` and `ca list` are mostly start-up, so their handlers must
 * not load code they never run. `ca status` once loaded the card stack, the transcript templates
 * and the issuance engine through the checkpoint writer, for one event name; `ca list` reads no
 * profile, so it must not load the profile loader (and the ASN.1 library it encodes with).
 * `import()` is not followed: ca-context.ts loads the profile loader that way, only when asked.
 */
test('ca status and ca list handlers load no card stack, templates, issuance engine; ca list no profile loader', () => {
  const common: readonly { what: string; test: (s: string) => boolean }[] = [
    // The card error classes (one module, importing only CardcaError) are what withCa throws.
    { what: 'the card stack', test: (s) => s.startsWith('src/card/') && s !== 'src/card/errors.ts' },
    { what: 'the card context', test: (s) => s === 'src/cli/card-context.ts' },
    { what: 'the checkpoint writer', test: (s) => s === 'src/cli/checkpoints.ts' },
    { what: 'handlebars', test: (s) => s === 'handlebars' },
    { what: 'the issuance engine', test: (s) => s === 'src/ca/issuance.ts' || s === 'src/ca/batch-issuance.ts' },
    { what: 'the yaml package', test: (s) => s === 'yaml' },
  ];
  const listOnly: readonly { what: string; test: (s: string) => boolean }[] = [
    { what: 'the profile loader', test: (s) => s === 'src/ca/profile/load-profiles.ts' },
    { what: 'the ASN.1 schema library', test: (s) => s.startsWith('@peculiar/') },
  ];
  for (const [name, forbidden] of [['status-run', common], ['list-run', [...common, ...listOnly]]] as const) {
    for (const [mod, chain] of closure(join(root, 'src', 'cli', 'commands', `${name}.ts`))) {
      for (const f of forbidden) assert.ok(!f.test(mod), `${name}.ts loads ${f.what} (${mod}) through ${chain.join(' → ')}`);
    }
  }
});
