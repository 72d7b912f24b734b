import { CaError } from '../errors.js';

/**
 * The part of an `openssl.cnf` that `openssl ca` reads to find its files (OpenSSL
 * crypto/conf/conf_def.c syntax: `[ section ]`, `name = value`, `#` comments, `$name`,
 * `${name}` and `$section::name` expansion, values from the unnamed default section as
 * fallback). Only the default CA section is used: `[ ca ] default_ca = CA_default`.
 */
export interface OpensslCaSection {
  readonly name: string;
  readonly values: ReadonlyMap<string, string>;
}

type Sections = Map<string, Map<string, string>>;

function parseSections(text: string, file: string): { sections: Sections; lines: Map<string, number> } {
  const sections: Sections = new Map([['default', new Map()]]);
  const lines = new Map<string, number>();
  let current = 'default';
  text.split('\n').forEach((raw, i) => {
    let l = raw.replace(/\r$/, '');
    // A `#` starts a comment unless escaped (conf_def.c: CONF_COMMENT); quotes are rare in CA sections.
    const hash = l.search(/(^|[^\\])#/);
    if (hash >= 0) l = l.slice(0, hash + (l[hash] === '#' ? 0 : 1));
    l = l.trim();
    if (l === '') return;
    const sec = /^\[\s*([^\]\s]+)\s*\]$/.exec(l);
    if (sec) {
      current = sec[1]!;
      if (!sections.has(current)) sections.set(current, new Map());
      return;
    }
    const kv = /^([^=\s]+)\s*=\s*(.*)$/.exec(l);
    if (!kv) {
      if (/^\.(include|pragma)\b/.test(l)) return;
      throw new CaError('ADOPT_CONFIG_MALFORMED', `${file}:${i + 1}: "${l}" is neither [section] nor name = value`, { hint: 'Pass the openssl.cnf the old CA used with `openssl ca -config`.', details: { file, line: i + 1 } });
    }
    sections.get(current)!.set(kv[1]!, kv[2]!.replace(/^"(.*)"$/, '$1'));
    lines.set(`${current}::${kv[1]}`, i + 1);
  });
  return { sections, lines };
}

function expand(value: string, section: string, sections: Sections, file: string, depth = 0): string {
  if (depth > 16) throw new CaError('ADOPT_CONFIG_MALFORMED', `${file}: variable expansion in [${section}] does not end`);
  return value.replace(/\$(?:\{([A-Za-z0-9_]+)(?:::([A-Za-z0-9_]+))?\}|([A-Za-z0-9_]+)(?:::([A-Za-z0-9_]+))?)/g, (_m, b1: string, b2: string, p1: string, p2: string) => {
    const [sec, name] = b1 ? (b2 ? [b1, b2] : [section, b1]) : p2 ? [p1, p2] : [section, p1];
    const v = sections.get(sec!)?.get(name!) ?? sections.get('default')?.get(name!);
    if (v === undefined) throw new CaError('ADOPT_CONFIG_MALFORMED', `${file}: [${section}] refers to $${name} which is not defined`, { hint: 'Fix the variable in openssl.cnf.' });
    return expand(v, sec!, sections, file, depth + 1);
  });
}

/**
 * The default CA section with `dir` replaced by `dir` (the directory the operator passed with
 * --openssl-dir: the CA's files as copied to this box) and every other value expanded.
 */
export function opensslCaSection(text: string, file: string, dir: string): OpensslCaSection {
  const { sections } = parseSections(text, file);
  const caName = sections.get('ca')?.get('default_ca');
  if (!caName) throw new CaError('ADOPT_CONFIG_MALFORMED', `${file}: no [ ca ] section with default_ca`, { hint: 'Pass the openssl.cnf the old CA used with `openssl ca -config`.' });
  const raw = sections.get(caName);
  if (!raw) throw new CaError('ADOPT_CONFIG_MALFORMED', `${file}: default_ca names section [ ${caName} ], which is not in the file`);
  raw.set('dir', dir);
  const values = new Map<string, string>();
  for (const [k, v] of raw) values.set(k, expand(v, caName, sections, file));
  return { name: caName, values };
}
