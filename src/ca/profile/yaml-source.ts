import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import type { Document, LineCounter } from 'yaml';
import { ProfileError } from '../errors.js';
import { parsePlainYaml } from './plain-yaml.js';

export type PathItem = string | number;

type YamlPackage = typeof import('yaml');
let yamlPackage: YamlPackage | undefined;

/**
 * The yaml package, loaded the first time a file is not in the plain subset or an error needs a
 * line number. Imported statically, its 72 CommonJS modules (260 kB of the CLI bundle) were
 * compiled and evaluated by every `ca` process although plain-yaml.ts answers for every shipped
 * profile (docs/benchmarks.md, "One `ca sign`, fourth pass"). A `require` made at run time,
 * not an `import()`: YamlSource is synchronous, and esbuild leaves a `createRequire` call alone,
 * so the CLI bundle resolves the package from node_modules like the unbundled build does.
 */
function yamlPackageOnDemand(): YamlPackage {
  return (yamlPackage ??= createRequire(import.meta.url)('yaml') as YamlPackage);
}

/**
 * A parsed YAML file that can say where a field is. Validation code reads values by path and
 * raises errors that name `file:line`, the field path and what was expected.
 */
export class YamlSource {
  readonly file: string;
  private readonly text: string;
  /** The yaml package's document, made only when a line number is asked for (an error). */
  private nodes: { doc: Document; lines: LineCounter } | undefined;
  /**
   * The whole document as plain values, made once. Validation reads a few hundred paths per
   * profile set; converting the node at each path (`toJS` per `get`, as before) cost more than
   * parsing the YAML (docs/benchmarks.md, "One `ca sign`, third pass"). The yaml nodes are
   * for `line()`, which only an error needs.
   */
  private readonly value: unknown;

  private constructor(file: string, text: string, value: unknown, nodes?: { doc: Document; lines: LineCounter }) {
    this.file = file;
    this.text = text;
    this.value = value;
    this.nodes = nodes;
  }

  static read(path: string): YamlSource {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new ProfileError('PROFILE_UNREADABLE', `cannot read ${path}: ${(e as Error).message}`, { file: path, cause: e });
    }
    return YamlSource.parse(path, text);
  }

  static parse(file: string, text: string): YamlSource {
    // The plain subset the profiles are written in is read without the yaml package, whose
    // first run costs 100–230 ms CPU in a fresh process (plain-yaml.ts); the same values, or
    // "not mine" and the yaml package below, with its errors and line numbers.
    const plain = parsePlainYaml(text);
    if (plain) return new YamlSource(file, text, plain.value);
    const nodes = YamlSource.compose(text);
    const { doc, lines } = nodes;
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      const line = e.linePos?.[0]?.line ?? lines.linePos(e.pos[0]).line;
      throw new ProfileError('PROFILE_INVALID', `${basename(file)}:${line}: YAML syntax error: ${e.message.split('\n')[0]}`, {
        file,
        line,
        hint: 'Fix the YAML syntax at the line shown.',
      });
    }
    return new YamlSource(file, text, doc.toJS(), nodes);
  }

  private static compose(text: string): { doc: Document; lines: LineCounter } {
    const yaml = yamlPackageOnDemand();
    const lines = new yaml.LineCounter();
    // uniqueKeys: a repeated key is an error, not "last one wins".
    const doc = yaml.parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    return { doc, lines };
  }

  /** The plain value at `path`, or undefined. */
  get(path: readonly PathItem[]): unknown {
    // What `doc.getIn(path)` finds: a sequence is entered by an integer index, a mapping by
    // one of its own keys; anything else (a scalar, a missing key) ends in undefined.
    let v = this.value;
    for (const p of path) {
      if (Array.isArray(v)) {
        if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p >= v.length) return undefined;
        v = v[p];
      } else if (v !== null && typeof v === 'object') {
        const k = String(p);
        if (!Object.hasOwn(v, k)) return undefined;
        v = (v as Record<string, unknown>)[k];
      } else return undefined;
    }
    return v;
  }

  /** 1-based line of the node at `path`, or of the nearest ancestor that exists. */
  line(path: readonly PathItem[]): number {
    this.nodes ??= YamlSource.compose(this.text);
    const { doc, lines } = this.nodes;
    const { isNode } = yamlPackageOnDemand();
    for (let i = path.length; i >= 0; i--) {
      const n = i === 0 ? doc.contents : doc.getIn(path.slice(0, i), true);
      if (isNode(n) && n.range) return lines.linePos(n.range[0]).line;
    }
    return 1;
  }

  /** Keys of the mapping at `path` (empty if not a mapping). */
  keys(path: readonly PathItem[]): string[] {
    const v = this.get(path);
    return v && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : [];
  }

  error(path: readonly PathItem[], expected: string, got?: unknown): ProfileError {
    const field = formatPath(path);
    const line = this.line(path);
    const gotText = arguments.length >= 3 ? `, got ${describe(got)}` : '';
    return new ProfileError('PROFILE_INVALID', `${basename(this.file)}:${line}: ${field || '(document)'}: expected ${expected}${gotText}`, {
      file: this.file,
      line,
      field,
      hint: 'Fix the field named in the message (schema: docs/profiles.md).',
    });
  }
}

export function formatPath(path: readonly PathItem[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${p}` : p;
  return s;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? v.slice(0, 60) + '…' : v);
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}
