/**
 * A small, strict reader for the plain YAML the profiles are written in, so that a `ca` process
 * does not pay for the `yaml` package's first run on every start.
 *
 * Why: loading the ten shipped profiles (7.2 kB) cost 100–230 ms CPU cold in every `ca` process,
 * almost all of it the `yaml` package's first run (lexer 15–22 ms, CST parser 40–110 ms,
 * composer 60–100 ms cold, `toJS` 0.4–1.9 ms), of a ~470 ms `ca sign` (issue #14 item 1;
 * figures in docs/benchmarks.md, "Profiles without the yaml package's cold start").
 *
 * Contract: `parsePlainYaml(text)` returns `{ value }` equal (deepStrictEqual) to what
 * `parseDocument(text, { uniqueKeys: true }).toJS()` gives — YAML 1.2.2, core schema, the
 * options YamlSource uses — or `undefined` ("not mine"). It answers only for a subset it is
 * sure of; for anything else, and for anything that is an error, it says "not mine" and the
 * caller falls back to the `yaml` package, so error messages and line numbers stay that
 * package's. It never reports an error itself.
 *
 * The subset (YAML 1.2.2 clauses followed):
 * - one document, no directives or markers (`%`, `---`, `...`: §6.8, §9.1 refused), LF line
 *   breaks only (§5.4), no tabs anywhere (§6.1 forbids them in indentation; refused
 *   everywhere for simplicity), no BOM or non-printable characters (§5.1, §5.2);
 * - comments: `#` at the start of a line's content or after a space (§6.6);
 * - block mappings with implicit keys (§8.2.2): the top level must be one, at column 0;
 *   keys are single-line plain or quoted scalars that resolve to strings, followed by `:` and a
 *   space or the end of the line; a repeated key is refused (the loader sets `uniqueKeys`);
 * - block sequences (§8.2.1), including `- key: value` compact mappings and `- - x` compact
 *   sequences (§8.2.1 ns-l-compact-mapping / -sequence), and a sequence at the same indentation
 *   as its mapping key (§8.2.2, block-out context allows n-1 seq-spaces);
 * - an empty value is null (§7.2 e-node, core schema null);
 * - flow sequences and flow mappings (§7.4) on one line only, with no empty or trailing
 *   entries and no single-pair implicit keys inside sequences;
 * - scalars: single-line plain (§7.3.3; not starting with an indicator, §5.3), single-quoted
 *   (§7.3.2, `''` escape) and double-quoted (§7.3.1, a subset of the §5.7 escapes);
 * - plain scalars resolved by the core schema (§10.3.2) with the exact tests and conversions of
 *   the `yaml` package's core schema (null, bool, int/oct/hex via parseInt, floats via
 *   parseFloat, .inf/.nan); 1.1 forms such as `yes`/`no`/`on` stay strings, as in 1.2.
 * Refused: anchors, aliases, tags, block scalars (`|`, `>`), multi-line scalars or flow
 * collections, explicit keys (`?`), keys that are not strings (e.g. `1:`, `null:`), `__proto__`.
 */

export interface PlainYaml {
  readonly value: Record<string, unknown>;
}

/** Thrown inside the reader for "not mine"; never escapes `parsePlainYaml`. */
const NOT_MINE: unique symbol = Symbol('not mine');

interface Line {
  indent: number;
  text: string;
}

/** Characters that may not start a plain scalar here (YAML 1.2.2 §5.3 c-indicator). */
const INDICATORS = '-?:,[]{}#&*!|>\'"%@`';
/** Flow indicators (§5.3 c-flow-indicator). */
const FLOW = ',[]{}';

export function parsePlainYaml(text: string): PlainYaml | undefined {
  // Tabs, CR, BOM, C0/C1 controls, DEL, lone surrogates, LS/PS: all left to the yaml package.
  if (/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\ufeff\u2028\u2029\ud800-\udfff]/.test(text)) return undefined;
  try {
    return { value: new Reader(text).document() };
  } catch (e) {
    if (e === NOT_MINE) return undefined;
    throw e;
  }
}

function notMine(): never {
  throw NOT_MINE;
}

class Reader {
  private readonly lines: Line[] = [];
  private p = 0;

  constructor(text: string) {
    for (const raw of text.split('\n')) {
      let i = 0;
      while (raw.charCodeAt(i) === 32) i++;
      const t = raw.slice(i);
      if (t === '' || t[0] === '#') continue; // blank or comment-only line (§6.6, §6.7)
      if (i === 0 && (t.startsWith('---') || t.startsWith('...') || t[0] === '%')) notMine();
      this.lines.push({ indent: i, text: t });
    }
  }

  document(): Record<string, unknown> {
    if (this.lines.length === 0 || this.lines[0]!.indent !== 0) notMine();
    const v = this.mapping(0);
    if (this.p !== this.lines.length) notMine();
    return v;
  }

  private node(n: number): unknown {
    return isSeqEntry(this.lines[this.p]!.text) ? this.sequence(n) : this.mapping(n);
  }

  private mapping(n: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    while (this.p < this.lines.length) {
      const line = this.lines[this.p]!;
      if (line.indent < n) break;
      if (line.indent > n || isSeqEntry(line.text)) notMine();
      const k = key(line.text, 0);
      if (!k) notMine();
      const [name, at] = k;
      if (name === '__proto__' || Object.hasOwn(out, name)) notMine();
      out[name] = this.valueAfter(line.text, at, n, true);
    }
    return out;
  }

  private sequence(n: number): unknown[] {
    const out: unknown[] = [];
    while (this.p < this.lines.length) {
      const line = this.lines[this.p]!;
      if (line.indent < n) break;
      if (line.indent > n) notMine();
      if (!isSeqEntry(line.text)) break; // back to a mapping at this indentation, or refused there
      const c = line.text;
      const j = skipSpaces(c, 1);
      if (j < c.length && c[j] !== '#' && (isSeqEntry(c.slice(j)) || key(c, j))) {
        // Compact collection (§8.2.1): read it as if the "- " were indentation.
        this.lines[this.p] = { indent: n + j, text: c.slice(j) };
        out.push(this.node(n + j));
      } else {
        out.push(this.valueAfter(c, 1, n, false));
      }
    }
    return out;
  }

  /** The value after a `key:` or `-` indicator that ends at `i` in the current line. */
  private valueAfter(c: string, i: number, n: number, inMapping: boolean): unknown {
    const j = skipSpaces(c, i);
    this.p++;
    const next = this.lines[this.p];
    if (j >= c.length || c[j] === '#') {
      if (next && next.indent > n) return this.node(next.indent);
      if (inMapping && next && next.indent === n && isSeqEntry(next.text)) return this.sequence(n);
      return null;
    }
    const [v, end] = inlineValue(c, j);
    if (!restIsComment(c, end)) notMine();
    if (next && next.indent > n) notMine(); // a multi-line scalar, or an error: the yaml package's
    return v;
  }
}

function isSeqEntry(t: string): boolean {
  return t === '-' || t.startsWith('- ');
}

function skipSpaces(c: string, i: number): number {
  while (c.charCodeAt(i) === 32) i++;
  return i;
}

function restIsComment(c: string, i: number): boolean {
  const j = skipSpaces(c, i);
  return j >= c.length || (c[j] === '#' && c[j - 1] === ' ');
}

/**
 * A block implicit key at `i` (§8.2.2 ns-l-block-map-implicit-entry): [name, index after `:`],
 * or undefined if the text there is not a key. Keys outside the subset are refused.
 */
function key(c: string, i: number): [string, number] | undefined {
  const ch = c[i]!;
  if (ch === '"' || ch === "'") {
    const [s, end] = ch === '"' ? doubleQuoted(c, i) : singleQuoted(c, i);
    if (c[end] !== ':' || (end + 1 < c.length && c[end + 1] !== ' ')) return undefined;
    return [s, end + 1];
  }
  if (ch === '[' || ch === '{') return undefined;
  for (let k = i; k < c.length; k++) {
    const x = c[k]!;
    if (x === '#' && c[k - 1] === ' ') return undefined; // comment before any `: `
    if (x === ':' && (k + 1 === c.length || c[k + 1] === ' ')) {
      const name = c.slice(i, k);
      if (INDICATORS.includes(ch) || name.endsWith(' ') || name.length > 1024) notMine();
      for (const f of FLOW) if (name.includes(f)) notMine();
      if (typeof plainScalar(name) !== 'string') notMine(); // `1:`, `true:`, `~:`: not a string key
      return [name, k + 1];
    }
  }
  return undefined;
}

/** A scalar or flow collection that must end on this line: [value, index after it]. */
function inlineValue(c: string, i: number): [unknown, number] {
  const ch = c[i]!;
  if (ch === '[' || ch === '{') return flowNode(c, i);
  if (ch === '"') return doubleQuoted(c, i);
  if (ch === "'") return singleQuoted(c, i);
  // §7.3.3 ns-plain-first: an indicator may not start a plain scalar, except `-` before a
  // non-space (`-1`, `-foo`); `?` and `:` are refused even then.
  if (INDICATORS.includes(ch) && !(ch === '-' && i + 1 < c.length && c[i + 1] !== ' ')) notMine();
  // Block plain scalar (§7.3.3, ns-plain-char in block-key/flow-out context): up to ` #` or the end.
  let end = c.length;
  for (let k = i + 1; k < c.length; k++) {
    if (c[k] === '#' && c[k - 1] === ' ') {
      end = k;
      break;
    }
  }
  const s = c.slice(i, end).trimEnd();
  if (s.includes(': ') || s.endsWith(':')) notMine(); // `a: b: c` is an error
  return [plainScalar(s), end];
}

/** A one-line flow collection or scalar inside one (§7.4, flow-in context). */
function flowNode(c: string, i: number): [unknown, number] {
  const ch = c[i];
  if (ch === '[') {
    const out: unknown[] = [];
    let j = skipSpaces(c, i + 1);
    if (c[j] === ']') return [out, j + 1];
    for (;;) {
      const [v, end] = flowNode(c, j);
      out.push(v);
      j = skipSpaces(c, end);
      if (c[j] === ']') return [out, j + 1];
      if (c[j] !== ',') notMine(); // end of line, `:` (a single-pair mapping), anything else
      j = skipSpaces(c, j + 1);
      if (c[j] === ']') notMine(); // trailing comma: valid, but left to the yaml package
    }
  }
  if (ch === '{') {
    const out: Record<string, unknown> = {};
    let j = skipSpaces(c, i + 1);
    if (c[j] === '}') return [out, j + 1];
    for (;;) {
      let name: string;
      let end: number;
      const k = c[j];
      if (k === '"' || k === "'") {
        [name, end] = k === '"' ? doubleQuoted(c, j) : singleQuoted(c, j);
      } else {
        end = flowPlainEnd(c, j);
        name = c.slice(j, end).trimEnd();
        if (typeof plainScalar(name) !== 'string') notMine();
      }
      if (c[end] !== ':' || c[end + 1] !== ' ') notMine();
      if (name === '__proto__' || Object.hasOwn(out, name)) notMine();
      const [v, vend] = flowNode(c, skipSpaces(c, end + 1));
      out[name] = v;
      j = skipSpaces(c, vend);
      if (c[j] === '}') return [out, j + 1];
      if (c[j] !== ',') notMine();
      j = skipSpaces(c, j + 1);
      if (c[j] === '}') notMine();
    }
  }
  if (ch === '"') return doubleQuoted(c, i);
  if (ch === "'") return singleQuoted(c, i);
  const end = flowPlainEnd(c, i);
  if (c[end] === ':' || c[end] === '#') notMine(); // an implicit key in a sequence, a comment
  return [plainScalar(c.slice(i, end).trimEnd()), end];
}

/**
 * End of a flow plain scalar at `i` (§7.3.3 ns-plain-char(flow-in)): a flow indicator, `:`
 * followed by a space, flow indicator or the end, ` #`, or the end of the line.
 */
function flowPlainEnd(c: string, i: number): number {
  const ch = c[i];
  if (ch === undefined) notMine();
  if (INDICATORS.includes(ch)) {
    const y = c[i + 1];
    if (ch !== '-' || y === undefined || y === ' ' || FLOW.includes(y)) notMine();
  }
  let k = i + 1;
  for (; k < c.length; k++) {
    const x = c[k]!;
    if (FLOW.includes(x)) break;
    if (x === '#' && c[k - 1] === ' ') break;
    if (x === ':') {
      const y = c[k + 1];
      if (y === undefined || y === ' ' || FLOW.includes(y)) break;
    }
  }
  return k;
}

/** §7.3.2: `''` is a quote; must close on this line. */
function singleQuoted(c: string, i: number): [string, number] {
  let out = '';
  let j = i + 1;
  for (;;) {
    const k = c.indexOf("'", j);
    if (k < 0) notMine(); // multi-line
    out += c.slice(j, k);
    if (c[k + 1] !== "'") return [out, k + 1];
    out += "'";
    j = k + 2;
  }
}

const ESCAPES: Readonly<Record<string, string>> = {
  '0': '\0', a: '\x07', b: '\b', t: '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b',
  ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\x85', _: '\xa0', L: '\u2028', P: '\u2029',
};

/** §7.3.1 with the §5.7 escapes, `\x` and `\u` (no surrogates); must close on this line. */
function doubleQuoted(c: string, i: number): [string, number] {
  let out = '';
  let j = i + 1;
  for (;;) {
    const ch = c[j];
    if (ch === undefined) notMine(); // multi-line
    if (ch === '"') return [out, j + 1];
    if (ch !== '\\') {
      out += ch;
      j++;
      continue;
    }
    const e = c[j + 1];
    if (e === undefined) notMine();
    const simple = ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
      j += 2;
      continue;
    }
    const len = e === 'x' ? 2 : e === 'u' ? 4 : 0;
    const hex = c.slice(j + 2, j + 2 + len);
    if (len === 0 || !/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) notMine();
    const code = parseInt(hex, 16);
    if (code >= 0xd800 && code <= 0xdfff) notMine();
    out += String.fromCharCode(code);
    j += 2 + len;
  }
}

/**
 * A plain scalar by the core schema (§10.3.2), with the `yaml` package's own tests, in its order,
 * and its conversions (yaml/dist/schema/core/{schema,bool,int,float}.js, common/null.js).
 */
function plainScalar(s: string): unknown {
  // Every test below needs one of these first characters; most profile values (names, OIDs'
  // names, periods like P10Y) have none, and skip eight regular expressions.
  if (s.length > 0 && !'~nNtTfF0123456789+-.'.includes(s[0]!)) return s;
  if (/^(?:~|[Nn]ull|NULL)?$/.test(s)) return null;
  if (/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(s)) return s[0] === 't' || s[0] === 'T';
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.substring(2), 8);
  if (/^[-+]?[0-9]+$/.test(s)) return parseInt(s, 10);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s.substring(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(s)) {
    return s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(s)) return parseFloat(s);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(s)) return parseFloat(s);
  return s;
}
