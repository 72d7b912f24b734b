/**
 * `YamlSource.get` answers from the document's plain values, made once (yaml-source.ts): the
 * same answers `doc.getIn(path)` + `toJS` gave per call, checked here against the yaml library
 * itself on every example profile and on the paths where a plain-object walk could differ (a
 * scalar, a sequence entered by name, inherited property names).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isNode, parseDocument } from 'yaml';
import { YamlSource, type PathItem } from '../../../src/ca/profile/yaml-source.js';
import { PROFILES_DIR } from './ca-test-kit.js';

/** What the earlier implementation returned: the node at `path`, converted on each call. */
function viaNodes(text: string, path: readonly PathItem[]): unknown {
  const doc = parseDocument(text, { uniqueKeys: true });
  const n = doc.getIn(path, true);
  if (n === undefined) return undefined;
  return isNode(n) ? n.toJS(doc) : n;
}

/** Every path into `v`, plus a few that lead nowhere from each node. */
function paths(v: unknown, at: PathItem[] = [], out: PathItem[][] = []): PathItem[][] {
  out.push(at, [...at, 'constructor'], [...at, 'toString'], [...at, 'length'], [...at, 0], [...at, 'nope']);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

test('get: the same values as the node-by-node lookup, on every example profile and dead-end path', () => {
  const files = readdirSync(PROFILES_DIR).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 9);
  for (const f of files) {
    const text = readFileSync(join(PROFILES_DIR, f), 'utf8');
    const src = YamlSource.parse(f, text);
    for (const p of paths(src.get([]))) assert.deepEqual(src.get(p), viaNodes(text, p), `${f}: ${JSON.stringify(p)}`);
  }
});

test('get: scalars, sequences and missing keys end in undefined', () => {
  const src = YamlSource.parse('t.yaml', 'a: text\nl: [x, y]\nn: null\nm: { k: 1 }\n');
  assert.equal(src.get(['a', 0]), undefined); // no character of a string
  assert.equal(src.get(['l', 'length']), undefined);
  assert.equal(src.get(['l', 2]), undefined);
  assert.equal(src.get(['l', 1]), 'y');
  assert.equal(src.get(['n']), null);
  assert.equal(src.get(['n', 'k']), undefined);
  assert.equal(src.get(['m', 'constructor']), undefined);
  assert.deepEqual(src.keys(['m']), ['k']);
  assert.deepEqual(src.keys(['a']), []);
});
