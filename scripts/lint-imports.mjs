#!/usr/bin/env node
// Project lint that tsc cannot express (`npm run lint` = `tsc --noEmit` + this):
//   layering   which src/<layer> may import which (docs/README.md, ARCHITECTURE "Layers"):
//              common → nothing; crypto → common; ca → crypto, common; card → crypto, common;
//              db → ca, crypto, common; cli → anything. src never imports test/ or bench/.
//              Native/CLI packages stay in their layer: better-sqlite3 only in db,
//              pcsclite only in card, yargs only in cli (cli may import any of them).
//   side-effect no work at module top level (style rule "no import-time side effects"):
//              top-level expression statements, top-level await/loops/if/try, and top-level
//              initialisers calling clearly effectful APIs (process, fs, timers, Date.now,
//              Math.random, console, pkijs setEngine). src/cli/bin.ts is the one exception.
//   kebab-case file and directory names in src/, test/, bench/, scripts/.
//
// Usage: node scripts/lint-imports.mjs [--root DIR] [--json]
// Exit 0 when clean, 1 on violations, 2 on usage errors. Parsing uses the TypeScript compiler's
// parser only (no type check), so it runs in well under a second.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Which layers each layer may import (itself always allowed). */
export const LAYER_ALLOWS = {
  common: [],
  crypto: ['common'],
  ca: ['crypto', 'common'],
  card: ['crypto', 'common'],
  db: ['ca', 'crypto', 'common'],
  cli: ['common', 'crypto', 'ca', 'card', 'db'],
};

/** npm packages confined to layers (cli may use all of them, it wires things together). */
export const PACKAGE_LAYERS = {
  'better-sqlite3': ['db', 'cli'],
  pcsclite: ['card', 'cli'],
  yargs: ['cli'],
};

const SIDE_EFFECT_EXEMPT = new Set(['src/cli/bin.ts']);
const EFFECTFUL_ROOTS = new Set([
  'process', 'fs', 'console', 'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask',
  'setEngine', 'require', 'fetch',
]);
const EFFECTFUL_MEMBERS = new Set(['Date.now', 'Math.random', 'crypto.randomBytes', 'crypto.randomUUID']);
const SOURCE_EXT = /\.(ts|mts|cts|tsx|js|mjs|cjs|sh)$/;
const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)*$/;
const LINT_DIRS = ['src', 'test', 'bench', 'scripts'];

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      out.push({ path: p, dir: true });
      walk(p, out);
    } else if (e.isFile()) out.push({ path: p, dir: false });
  }
  return out;
}

const toPosix = (p) => p.split(sep).join('/');

/** Layer of a repo-relative posix path under src/, or undefined. */
function layerOf(rel) {
  const m = /^src\/([^/]+)\//.exec(rel);
  return m ? m[1] : undefined;
}

function moduleSpecifiers(sf) {
  const out = [];
  const visit = (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)) {
      out.push({ spec: node.moduleSpecifier.text, node });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments.length === 1 && ts.isStringLiteralLike(node.arguments[0])) {
      out.push({ spec: node.arguments[0].text, node });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)) {
      out.push({ spec: node.moduleReference.expression.text, node });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function calleeName(expr) {
  // `a.b.c(...)` → "a.b.c"; anything else → undefined
  if (ts.isIdentifier(expr)) return expr.text;
  if (ts.isPropertyAccessExpression(expr)) {
    const left = calleeName(expr.expression);
    return left ? `${left}.${expr.name.text}` : undefined;
  }
  return undefined;
}

/** Effectful calls inside a top-level initialiser (not descending into functions/classes). */
function effectfulCall(node) {
  let found;
  const visit = (n) => {
    if (found) return;
    if (ts.isFunctionLike(n) || ts.isClassLike(n)) return; // deferred code runs later
    if (ts.isCallExpression(n) || ts.isNewExpression(n) || ts.isTaggedTemplateExpression(n)) {
      const name = calleeName(ts.isTaggedTemplateExpression(n) ? n.tag : n.expression);
      if (name) {
        const root = name.split('.')[0];
        if (EFFECTFUL_ROOTS.has(root) || EFFECTFUL_MEMBERS.has(name)) found = name;
      }
    }
    if (ts.isAwaitExpression(n)) found = 'await';
    ts.forEachChild(n, visit);
  };
  visit(node);
  return found;
}

function topLevelSideEffects(sf) {
  const out = [];
  for (const st of sf.statements) {
    let what;
    if (ts.isExpressionStatement(st)) {
      if (ts.isStringLiteral(st.expression)) continue; // 'use strict' style directives
      what = 'top-level expression statement';
    } else if (ts.isIfStatement(st) || ts.isIterationStatement(st, false) || ts.isTryStatement(st) ||
      ts.isSwitchStatement(st) || ts.isLabeledStatement(st) || ts.isBlock(st)) {
      what = 'top-level control-flow statement';
    } else if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) {
        const call = d.initializer && effectfulCall(d.initializer);
        if (call) { what = `top-level initialiser calls ${call}`; break; }
      }
    } else if (ts.isExportAssignment(st)) {
      const call = effectfulCall(st.expression);
      if (call) what = `export default calls ${call}`;
    }
    if (what) out.push({ node: st, what });
  }
  return out;
}

/**
 * Lint the tree at `root`. Returns violations `{ file, line, rule, message }` with `file`
 * repo-relative (posix separators), sorted by file and line.
 */
export function lintTree(root) {
  const violations = [];
  const add = (file, line, rule, message) => violations.push({ file, line, rule, message });

  for (const top of LINT_DIRS) {
    for (const entry of walk(join(root, top))) {
      const rel = toPosix(relative(root, entry.path));
      const base = posix.basename(rel);
      if (rel.startsWith('test/fixtures/')) continue; // data: names come from elsewhere
      if (entry.dir) {
        if (!KEBAB.test(base)) add(rel, 0, 'kebab-case', `directory name "${base}" is not kebab-case`);
        continue;
      }
      if (!SOURCE_EXT.test(base)) continue; // fixtures/data keep their natural names
      if (!KEBAB.test(base)) add(rel, 0, 'kebab-case', `file name "${base}" is not kebab-case`);
    }
  }

  for (const entry of walk(join(root, 'src'))) {
    if (entry.dir || !/\.(ts|mts|cts)$/.test(entry.path) || entry.path.endsWith('.d.ts')) continue;
    const rel = toPosix(relative(root, entry.path));
    const layer = layerOf(rel);
    const text = readFileSync(entry.path, 'utf8');
    const sf = ts.createSourceFile(entry.path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const lineOf = (node) => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;

    if (!layer || !(layer in LAYER_ALLOWS)) {
      add(rel, 0, 'layering', `not inside a known layer (src/{${Object.keys(LAYER_ALLOWS).join(',')}}/)`);
    }

    for (const { spec, node } of moduleSpecifiers(sf)) {
      if (spec.startsWith('.')) {
        const target = toPosix(relative(root, resolve(dirname(entry.path), spec)));
        if (!target.startsWith('src/')) {
          add(rel, lineOf(node), 'layering', `imports "${spec}" from outside src/ (${target})`);
          continue;
        }
        const tLayer = layerOf(target);
        if (layer && tLayer && layer in LAYER_ALLOWS && tLayer !== layer &&
          !LAYER_ALLOWS[layer].includes(tLayer)) {
          const allowed = LAYER_ALLOWS[layer].length ? LAYER_ALLOWS[layer].join(', ') : 'nothing else';
          add(rel, lineOf(node), 'layering',
            `src/${layer} must not import src/${tLayer} ("${spec}"); src/${layer} may import: ${allowed}`);
        }
      } else {
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        const where = PACKAGE_LAYERS[pkg];
        if (where && layer && !where.includes(layer)) {
          add(rel, lineOf(node), 'layering',
            `package "${pkg}" belongs in src/{${where.join(',')}}, not src/${layer}`);
        }
      }
    }

    if (!SIDE_EFFECT_EXEMPT.has(rel)) {
      for (const { node, what } of topLevelSideEffects(sf)) {
        add(rel, lineOf(node), 'side-effect', `${what}: modules must do no work at import time`);
      }
    }
  }

  return violations.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

function cli(argv) {
  let root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--root') root = resolve(argv[++i] ?? '.');
    else if (argv[i] === '--json') json = true;
    else {
      console.error(`usage: lint-imports.mjs [--root DIR] [--json] (unknown argument ${argv[i]})`);
      return 2;
    }
  }
  if (!existsSync(join(root, 'src'))) {
    console.error(`lint-imports: no src/ under ${root}`);
    return 2;
  }
  const violations = lintTree(root);
  if (json) process.stdout.write(JSON.stringify(violations, null, 2) + '\n');
  else {
    for (const v of violations) console.log(`${v.file}:${v.line}: [${v.rule}] ${v.message}`);
    console.log(violations.length ? `lint-imports: ${violations.length} violation(s)` : 'lint-imports: OK');
  }
  return violations.length ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = cli(process.argv.slice(2));
}
