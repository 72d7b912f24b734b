// src/cli/terminal-width.ts stands in for the string-width package in the CLI bundle
// (scripts/build-cli.mjs). It must give the columns string-width gives for what help layout
// measures, or `ca … --help` wraps differently from stock yargs. Judged against the real
// string-width (a dependency of yargs, so in node_modules) on samples and on every line of the
// help text the bundle prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import stringWidth from '../../../src/cli/terminal-width.js';
import { BIN } from '../../helpers/run-command.js';

async function realStringWidth(): Promise<(s: string, o?: { countAnsiEscapeCodes?: boolean }) => number> {
  return ((await import('string-width')) as { default: (s: string, o?: { countAnsiEscapeCodes?: boolean }) => number }).default;
}

const SAMPLES = [
  '',
  'plain ASCII, with punctuation: [--issuer] <csr..> (default: 30)',
  '~ the last printable ASCII and the first ! and a space ',
  'tab\there',
  'arrows → and … ellipsis ≤ § «quotes»',
  'café naïve',
  'e\u0301 combining acute',
  'zero\u200bwidth\u200djoiner',
  '全角文字 and ｆｕｌｌｗｉｄｔｈ',
  'emoji ✅ ❌ 🔑',
  '\u001b[1mbold\u001b[22m and \u001b[31mred\u001b[39m',
  '\u001b]8;;https://example.org\u0007link\u001b]8;;\u0007',
  'DEL\u007fC1\u0085',
];

test('terminal-width: the same columns as string-width on ASCII, symbols, wide, combining and ANSI samples', async () => {
  const real = await realStringWidth();
  for (const s of SAMPLES) {
    assert.equal(stringWidth(s), real(s), JSON.stringify(s));
    assert.equal(stringWidth(s, { countAnsiEscapeCodes: true }), real(s, { countAnsiEscapeCodes: true }), `countAnsiEscapeCodes ${JSON.stringify(s)}`);
  }
});

test('terminal-width: a printable-ASCII string takes its length in columns, ESC does not take the fast path', () => {
  assert.equal(stringWidth('abc XYZ 0123 ~!'), 15);
  assert.equal(stringWidth('\u001b[1mab\u001b[22m'), 2);
  assert.equal(stringWidth('\u001b[1mab\u001b[22m', { countAnsiEscapeCodes: true }), 9); // ESC is a control (0), "[1m" and "[22m" count
});

test('terminal-width: every line of `ca --help` and `ca sign --help` measures as string-width measures it', async () => {
  const real = await realStringWidth();
  let lines = 0;
  for (const args of [['--help'], ['sign', '--help'], ['card', 'keygen', '--help']]) {
    const out = execFileSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
    for (const line of out.split('\n')) {
      assert.equal(stringWidth(line), real(line), JSON.stringify(line));
      lines++;
    }
  }
  assert.ok(lines > 60, `only ${lines} help lines`);
});
