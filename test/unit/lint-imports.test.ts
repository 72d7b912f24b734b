// scripts/lint-imports.mjs: the project lint that enforces layering (ARCHITECTURE "Layers and
// the one seam"), no import-time side effects and kebab-case names. Runs the real script as a
// child process, on generated fixture trees and on this repository itself (so `npm test`
// includes lint).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/unit/<this>.js → repository root
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const script = join(repo, 'scripts', 'lint-imports.mjs');

interface Violation {
  file: string;
  line: number;
  rule: string;
  message: string;
}

function runLint(root: string): { status: number | null; violations: Violation[]; stderr: string } {
  const r = spawnSync(process.execPath, [script, '--root', root, '--json'], { encoding: 'utf8' });
  const violations = r.stdout.trim() ? (JSON.parse(r.stdout) as Violation[]) : [];
  return { status: r.status, violations, stderr: r.stderr };
}

function makeTree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'cardca-lint-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}

const CLEAN: Record<string, string> = {
  'src/common/hex.ts': 'export const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");\n',
  'src/crypto/signer.ts': 'import { toHex } from "../common/hex.js";\nexport const id = toHex;\n',
  'src/ca/engine.ts':
    'import type { Signer } from "../crypto/signer.js";\nexport const TABLE = Object.freeze({ a: 1 });\n' +
    'export class Engine { constructor(readonly s: Signer) { setTimeout(() => {}, 0); } }\n',
  'src/card/card-signer.ts': 'import { id } from "../crypto/signer.js";\nexport const f = id;\n',
  'src/db/sqlite-store.ts':
    'import Database from "better-sqlite3";\nimport type { Engine } from "../ca/engine.js";\n' +
    'export type E = Engine;\nexport const open = (p: string) => new Database(p);\n',
  'src/cli/main.ts':
    'import yargs from "yargs";\nimport { open } from "../db/sqlite-store.js";\n' +
    'import { f } from "../card/card-signer.js";\nexport const all = [yargs, open, f];\n',
  'src/cli/bin.ts': 'import { all } from "./main.js";\nconsole.log(all.length);\n',
  'test/unit/ok-name.test.ts': 'export {};\n',
  'test/fixtures/Weird_Name/CA Cert.pem': 'not linted\n',
};

test('a tree that follows the rules has no violations and exits 0', () => {
  const root = makeTree(CLEAN);
  try {
    const r = runLint(root);
    assert.equal(r.stderr, '');
    assert.deepEqual(r.violations, []);
    assert.equal(r.status, 0);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('layering, side-effect and naming violations are each reported with file and line', () => {
  const root = makeTree({
    ...CLEAN,
    // ca must never see cards, storage or the CLI (the Signer seam)
    'src/ca/uses-card.ts': 'export const x = 1;\nimport { f } from "../card/card-signer.js";\nexport const y = f;\n',
    // type-only imports couple layers too
    'src/card/peeks-db.ts': 'import type { E } from "../db/sqlite-store.js";\nexport type T = E;\n',
    // common is the leaf
    'src/common/needs-crypto.ts': 'export { id } from "../crypto/signer.js";\n',
    // dynamic import of the CLI from db
    'src/db/loads-cli.ts': 'export const load = () => import("../cli/main.js");\n',
    // src must not reach into tests
    'src/crypto/uses-test.ts': 'import "../../test/unit/ok-name.test.js";\nexport {};\n',
    // native packages stay in their layer
    'src/ca/opens-db.ts': 'import Database from "better-sqlite3";\nexport const D = Database;\n',
    // import-time work
    'src/crypto/registers.ts': 'export function setup(): void {}\nsetup();\n',
    'src/ca/clock.ts': 'export const START = Date.now();\n',
    // naming
    'src/card/cardReader.ts': 'export {};\n',
    'test/unit/Bad_Dir/x.test.ts': 'export {};\n',
    // outside every layer
    'src/index.ts': 'export {};\n',
  });
  try {
    const r = runLint(root);
    assert.equal(r.status, 1);
    const got = r.violations.map((v) => `${v.file}:${v.line}:${v.rule}`).sort();
    assert.deepEqual(got, [
      'src/ca/clock.ts:1:side-effect',
      'src/ca/opens-db.ts:1:layering',
      'src/ca/uses-card.ts:2:layering',
      'src/card/cardReader.ts:0:kebab-case',
      'src/card/peeks-db.ts:1:layering',
      'src/common/needs-crypto.ts:1:layering',
      'src/crypto/registers.ts:2:side-effect',
      'src/crypto/uses-test.ts:1:layering',
      'src/db/loads-cli.ts:1:layering',
      'src/index.ts:0:layering',
      'test/unit/Bad_Dir:0:kebab-case',
    ]);
    const caCard = r.violations.find((v) => v.file === 'src/ca/uses-card.ts');
    assert.match(caCard?.message ?? '', /src\/ca must not import src\/card/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('this repository passes lint-imports', () => {
  const r = runLint(repo);
  assert.deepEqual(
    r.violations.map((v) => `${v.file}:${v.line}: [${v.rule}] ${v.message}`),
    [],
  );
  assert.equal(r.status, 0);
});

test('the repository type-checks (tsc)', () => {
  // scripts/run-tests.mjs has just run tsc for the build and left its result here; run on our
  // own (tsc --noEmit) when this file runs outside it.
  const resultFile = process.env['CARDCA_TYPECHECK_RESULT'];
  let result: { status: number | null; output: string };
  if (resultFile && existsSync(resultFile)) {
    result = JSON.parse(readFileSync(resultFile, 'utf8')) as { status: number; output: string };
  } else {
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--noEmit'], { cwd: repo, encoding: 'utf8' });
    result = { status: r.status, output: `${r.stdout}${r.stderr}` };
  }
  assert.equal(result.status, 0, `tsc reported errors:\n${result.output}`);
});
