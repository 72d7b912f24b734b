/**
 * plain-yaml.ts must give exactly what the yaml package gives with YamlSource's options, or say
 * "not mine" (then the yaml package reads the file, errors and line numbers included). Checked
 * differentially against the yaml package itself: every shipped profile, every ```yaml block in
 * docs/, targeted scalar and layout cases, and inputs that must be refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { parsePlainYaml } from '../../../src/ca/profile/plain-yaml.js';
import { YamlSource } from '../../../src/ca/profile/yaml-source.js';
import { PROFILES_DIR, ROOT_DIR } from './ca-test-kit.js';

/** What YamlSource read before: the yaml package with the loader's options. */
function viaYaml(text: string): unknown {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  assert.equal(doc.errors.length, 0, `yaml package errors: ${doc.errors.map((e) => e.message).join('; ')}`);
  return doc.toJS();
}

function same(text: string, what = JSON.stringify(text)): void {
  const fast = parsePlainYaml(text);
  assert.ok(fast, `${what}: the fast path should read this`);
  assert.deepStrictEqual(fast.value, viaYaml(text), what);
}

function notMine(text: string): void {
  assert.equal(parsePlainYaml(text), undefined, JSON.stringify(text));
}

test('every shipped profile: read by the fast path, the same values as the yaml package', () => {
  const files = readdirSync(PROFILES_DIR).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 10);
  for (const f of files) same(readFileSync(join(PROFILES_DIR, f), 'utf8'), f);
});

test('every ```yaml block in docs/: the same values as the yaml package, or not mine', () => {
  const dir = join(ROOT_DIR, 'docs');
  let blocks = 0;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.md'))) {
    const md = readFileSync(join(dir, f), 'utf8');
    for (const m of md.matchAll(/^```ya?ml\n([\s\S]*?)^```/gm)) {
      blocks++;
      const text = m[1]!;
      const fast = parsePlainYaml(text);
      if (fast) assert.deepStrictEqual(fast.value, viaYaml(text), `${f}: ${text}`);
      else assert.ok(parseDocument(text).errors.length > 0 || /[&*!|>]|^---/m.test(text), `${f}: refused a plain example:\n${text}`);
    }
  }
  assert.ok(blocks >= 1);
});

test('scalars: core schema typing, as the yaml package does it', () => {
  for (const v of [
    '2048', '01', '-0', '+12', '0x1F', '0o17', '1e3', '1.5', '.5', '1.', '-.inf', '.NaN', '.inf',
    'true', 'False', 'TRUE', 'yes', 'no', 'on', 'off', 'y', 'null', 'Null', 'NULL', '~', 'nULL',
    '-1', '-x', '-.5', '-1e-3', 'P10Y', '10.0.0.0/8', 'fd00::/8', 'http://pki.example.test/crl/a.crl', 'a#b', 'a,b', 'x[1]',
    '12345678901234567890', '1_000', '0b101', '1:2', 'é…', '.example.test', 'ecdsa-sha256',
  ]) {
    same(`k: ${v}\n`);
    same(`k: [${v.replace(/[,[\]]/g, '')}]\n`);
  }
});

test('quoted scalars, comments, empty values, keys with spaces', () => {
  same(`a: 'x # not a comment'\nb: "y: z"\nc: 'it''s'\nd: "q\\"\\\\\\n\\t\\x41\\u00e9"\n`);
  same(`a: '[\\p{L}\\p{N} .,''-]+' # comment\n`);
  // Every §5.7 escape the fast path reads (what JSON.stringify writes, as `ca adopt` does, among them).
  for (const e of ['0', 'a', 'b', 't', 'n', 'v', 'f', 'r', 'e', ' ', '"', '/', '\\', 'N', '_', 'L', 'P', 'x41', 'x7f', 'u00e9', 'u2028', 'uFFFD']) {
    same(`k: "a\\${e}b"\n`);
  }
  same(`a: ''\nb: ""\nc: '#'\n`);
  same(`a:\nb: ~\nc:   # nothing\nd: x\n`);
  same(`key with spaces: 1\n'quoted key': 2\n"dq key": 3\nk2: { 'a b': c, "d": e }\n`);
  same(`# top comment\n\na: 1 # trailing\n   # indented comment\nb:\n  c: 2\n# between\n  d: 3\n`);
  same(`a: b\n`);
  same(`a: b`);
});

test('nested sequences of mappings, compact and same-indentation forms, flow collections', () => {
  same(`cas:\n  - name: root\n    profile: root\n  - name: s\n    profile: s\n    parent: root\n`);
  same(`cas:\n- name: root\n  x:\n  - 1\n  - 2\n- name: b\nafter: 1\n`);
  same(`l:\n  - - a\n    - b\n  - -\n  -\n  - c\n`);
  same(`l:\n  -\n    a: 1\n  - # c\n    b: 2\n`);
  same(`l:\n  - a:\n    - x\n  - b\n`);
  same(`m: { a: [1, [2, 3], {}], b: [], c: { d: 'e, f' }, g: "h]" }\n`);
  same(`subject:\n  - { type: C, presence: fixed, value: DE }\n  - { type: CN, presence: required, pattern: '[a-z0-9]([a-z0-9.-]*[a-z0-9])?' }\n`);
  same(`a:\n  b:\n    c:\n      d: [x]\n  e: 1\n`);
  same(`a: [http://x/y, 'b', "c"]\n`);
});

test('not mine: what the fast path leaves to the yaml package', () => {
  for (const t of [
    'a: &x 1\nb: *x\n', // anchor, alias
    'a: !!str 1\n', // tag
    'a: !t x\n',
    'a:\n\tb: 1\n', // tab indent
    'a: 1\nb: x\tc\n', // tab anywhere
    'a: 1\na: 2\n', // duplicate key
    "a: 1\n'a': 2\n",
    'm: { a: 1, a: 2 }\n',
    'a: |\n  text\n', // block scalars
    'a: >\n  text\n',
    'a: plain\n  continued\n', // multi-line scalars
    "a: 'x\n  y'\n",
    'a: [1,\n  2]\n', // multi-line flow
    '---\na: 1\n', // markers, directives
    'a: 1\n---\nb: 2\n',
    'a: 1\n...\n',
    '%YAML 1.2\n---\na: 1\n',
    '? a\n: 1\n', // explicit key
    '1: a\n', // keys that are not strings
    'true: a\n',
    '~: a\n',
    '__proto__: a\n',
    'a: b: c\n', // errors
    'a: [1, 2]x\n',
    '  a: 1\nb: 2\n',
    'a:\n  b: 1\n c: 2\n',
    'a: 1\n  b: 2\n',
    '- a\n- b\n', // not a mapping at the top
    'text\n',
    '',
    '# only a comment\n',
    'a: [1, 2, ]\n', // trailing comma
    'a: [b: c]\n', // single-pair mapping in a sequence
    'a: { b }\n',
    'a: "\\U0001F600"\n',
    'a: x\r\nb: y\r\n', // CRLF
    '\ufeffa: 1\n', // BOM
    'a: - 1\n', // leading indicators in a plain scalar
    'a: -\n',
    'a: [-]\n',
    'a: ?x\n',
    'a: @x\n',
  ]) {
    notMine(t);
  }
});

test('YamlSource: errors and their line numbers are the yaml package\'s, fast path or not', () => {
  // A fast-path document: the line comes from the yaml package's nodes, made on demand.
  const src = YamlSource.parse('p.yaml', 'kind: leaf\nsan:\n  max: x\nlist:\n  - { a: 1 }\n');
  assert.equal(src.line(['san', 'max']), 3);
  assert.equal(src.line(['list', 0, 'a']), 5);
  assert.match(src.error(['san', 'max'], 'an integer').message, /^p\.yaml:3: san\.max: expected an integer$/);
  // A refused document with an error: the yaml package's message, as before.
  assert.throws(() => YamlSource.parse('d.yaml', 'a: 1\na: 2\n'), /d\.yaml:2: YAML syntax error: Map keys must be unique/);
  assert.throws(() => YamlSource.parse('t.yaml', 'a:\n\tb: 1\n'), /t\.yaml:2: YAML syntax error/);
});

test('mutated profiles: whenever the fast path answers, the yaml package reads the same without error', () => {
  // Deterministic single-edit mutations of the shipped profiles (insert / delete / replace one
  // character from YAML's syntax alphabet): the fast path may refuse any of them, but what it
  // accepts must be valid YAML with the same values.
  const files = readdirSync(PROFILES_DIR).filter((f) => f.endsWith('.yaml')).sort();
  const alphabet = [' ', '\n', ':', '-', '#', "'", '"', '[', ']', '{', '}', ',', '&', '*', '!', '|', '>', '?', '\t', '0', 'a', '.', '~', '\\'];
  let seed = 0x2545f491;
  const rnd = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  let accepted = 0;
  for (let round = 0; round < 4000; round++) {
    const text = readFileSync(join(PROFILES_DIR, files[round % files.length]!), 'utf8');
    const at = rnd(text.length);
    const ch = alphabet[rnd(alphabet.length)]!;
    const op = rnd(3);
    const m = op === 0 ? text.slice(0, at) + ch + text.slice(at) : op === 1 ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + ch + text.slice(at + 1);
    const fast = parsePlainYaml(m);
    if (!fast) continue;
    accepted++;
    const doc = parseDocument(m, { prettyErrors: false, uniqueKeys: true });
    assert.equal(doc.errors.length, 0, `fast path accepted what the yaml package rejects:\n${m}\n${doc.errors[0]?.message}`);
    assert.deepStrictEqual(fast.value, doc.toJS(), m);
  }
  assert.ok(accepted > 1000, `only ${accepted} mutations were read by the fast path`);
});
