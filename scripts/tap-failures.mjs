// The failed tests of a TAP stream (node --test's tap reporter), with their error messages, for
// the digest run-tests prints just above its summary. Why: CI reports keep the start and the end
// of a run's output; a failure's message sits in the middle, among hundreds of passing lines, and
// stop 26's CI report named its one failing test (pcsc-contexts, "250 sessions") without saying
// why it failed.
//
// node's TAP (lib/internal/test_runner/reporter/tap.js): `not ok N - name`, then a YAML block
// indented two spaces deeper than that line, from `---` to `...`. The `error:` key is either a
// quoted scalar on its line or a `|-` block whose lines are indented further. A suite whose
// subtests failed repeats the failure as `failureType: 'subtestsFailed'`: left out, the subtest
// itself is listed.

/**
 * @param {string} text a TAP stream
 * @param {{ maxErrorLines?: number }} [options]
 * @returns {{ name: string, location: string | undefined, error: string[] }[]}
 */
export function tapFailures(text, { maxErrorLines = 30 } = {}) {
  const lines = text.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)not ok \d+ - (.*)$/.exec(lines[i]);
    if (!m) continue;
    const yamlIndent = m[1].length + 2;
    const keyLine = new RegExp(`^ {${yamlIndent}}([A-Za-z_]+): ?(.*)$`);
    const name = unescapeTapName(m[2].replace(/ # (SKIP|TODO)\b.*$/, ''));
    let location;
    let failureType;
    const error = [];
    let j = i + 1;
    if (lines[j]?.trim() !== '---') continue;
    for (j++; j < lines.length && lines[j].trim() !== '...'; j++) {
      const line = lines[j];
      const key = keyLine.exec(line);
      if (!key) continue;
      const [, k, v] = key;
      if (k === 'location') location = yamlScalar(v);
      else if (k === 'failureType') failureType = yamlScalar(v);
      else if (k === 'error') {
        if (v === '|-' || v === '|') {
          for (j++; j < lines.length && (lines[j].startsWith(' '.repeat(yamlIndent + 2)) || lines[j].trim() === ''); j++) {
            error.push(lines[j].slice(yamlIndent + 2));
          }
          j--;
        } else error.push(yamlScalar(v));
      }
    }
    while (error.length > 0 && error[error.length - 1].trim() === '') error.pop();
    if (failureType === 'subtestsFailed') continue;
    const shown = error.length > maxErrorLines ? [...error.slice(0, maxErrorLines), `… ${error.length - maxErrorLines} more lines`] : error;
    out.push({ name, location, error: shown });
  }
  return out;
}

/** A one-line YAML scalar as node writes it: 'single-quoted' ('' is a quote), or bare. */
function yamlScalar(v) {
  const t = v.trim();
  if (t.length >= 2 && t.startsWith("'") && t.endsWith("'")) return t.slice(1, -1).replaceAll("''", "'");
  return t;
}

/** node escapes `\`, `#` and newlines in TAP test names (tap.js `tapEscape`). */
function unescapeTapName(s) {
  return s.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

/**
 * The digest: one block per failed test, at most `maxFailures` of them.
 * @param {{ name: string, location: string | undefined, error: string[] }[]} failures
 */
export function formatFailures(failures, { maxFailures = 10 } = {}) {
  if (failures.length === 0) return '';
  const parts = [`\n# --- failed tests (${failures.length}), with their errors ---\n`];
  for (const f of failures.slice(0, maxFailures)) {
    parts.push(`✖ ${f.name}${f.location ? ` (${f.location})` : ''}\n`);
    for (const l of f.error) parts.push(`    ${l}\n`);
  }
  if (failures.length > maxFailures) parts.push(`… and ${failures.length - maxFailures} more (dist/test-results.tap)\n`);
  return parts.join('');
}
