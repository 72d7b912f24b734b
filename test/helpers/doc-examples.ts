/**
 * Runnable examples in the operator documentation (docs/*.md), for
 * test/integration/docs-examples.test.ts.
 *
 * Markup (in the Markdown source, invisible when rendered):
 *
 *     <!-- doc-test: root-ceremony -->
 *     ```sh
 *     ca ceremony root --card "$ROOT_CARD"
 *     ```
 *     <!-- doc-test-output: root-ceremony -->
 *     ```text
 *     root ceremony for root complete (ceremony #…)
 *     ```
 *
 * - `<!-- doc-test: NAME -->` must be followed (blank lines allowed) by a ```sh fence: that block
 *   is run with bash (`set -euo pipefail`), in document order. `<!-- doc-test: NAME exit=N -->`
 *   documents a command that must fail with exit code N.
 * - `<!-- doc-test-output: NAME -->` followed by any fence: every non-empty line of it must
 *   appear (in order) in the block's stdout+stderr; `…` matches anything on the line.
 * - A marker without its fence, a repeated NAME, or an output block for an unknown NAME is an
 *   error, so a broken marker fails the test instead of silently skipping an example.
 *
 * Unmarked ```sh blocks are not run, but `commandFlags()` lets the test check that every
 * `--flag` they show still exists in `ca … --help`.
 *
 * `writeNonInteractiveCa()` writes the `ca` the examples run: a wrapper around
 * `node dist/src/cli/bin.js` that adds the PIN files created by the test (and `--yes` for
 * ceremonies) when the example does not pass them, because the documented commands are the
 * interactive ones an operator types at the ceremony table. `ca init` gets `--rehearsal`: the
 * examples run on emulated cards, which only a rehearsal home accepts (issue #18 item 12).
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DocExample {
  readonly name: string;
  /** Document path as given to `extractDocExamples`, and the 1-based line of the marker. */
  readonly file: string;
  readonly line: number;
  readonly script: string;
  readonly expectExit: number;
  /** Lines that must appear in the output (empty: nothing shown in the doc). */
  readonly expectOutput: readonly string[];
}

export class DocMarkupError extends Error {}

const RUN_MARKER = /^<!--\s*doc-test:\s*([a-z0-9][a-z0-9-]*)((?:\s+exit=\d+)?)\s*-->\s*$/;
const OUTPUT_MARKER = /^<!--\s*doc-test-output:\s*([a-z0-9][a-z0-9-]*)\s*-->\s*$/;
const ANY_MARKER = /^<!--\s*doc-test/;
const FENCE_OPEN = /^(`{3,})\s*([A-Za-z0-9_-]*)\s*$/;

/** The fenced block starting at or after `from` (blank lines skipped): its language, body, end. */
function fenceAfter(lines: readonly string[], from: number): { lang: string; body: string[]; end: number } | undefined {
  let i = from;
  while (i < lines.length && lines[i]!.trim() === '') i++;
  const open = FENCE_OPEN.exec(lines[i] ?? '');
  if (!open) return undefined;
  const body: string[] = [];
  for (let j = i + 1; j < lines.length; j++) {
    if (lines[j]!.trim() === open[1]) return { lang: open[2]!, body, end: j };
    body.push(lines[j]!);
  }
  return undefined;
}

/** Every marked example of one Markdown document, in document order. */
export function extractDocExamples(markdown: string, file: string): DocExample[] {
  const lines = markdown.split(/\r?\n/);
  const examples: { name: string; line: number; script: string; expectExit: number; expectOutput: string[] }[] = [];
  const where = (i: number): string => `${file}:${i + 1}`;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.trim();
    if (!ANY_MARKER.test(text)) continue;
    const run = RUN_MARKER.exec(text);
    const out = OUTPUT_MARKER.exec(text);
    if (!run && !out) throw new DocMarkupError(`${where(i)}: malformed doc-test marker: ${text}`);
    const fence = fenceAfter(lines, i + 1);
    if (run) {
      const name = run[1]!;
      if (!fence || fence.lang !== 'sh') throw new DocMarkupError(`${where(i)}: doc-test "${name}" is not followed by a \`\`\`sh block`);
      if (examples.some((e) => e.name === name)) throw new DocMarkupError(`${where(i)}: doc-test "${name}" appears twice`);
      const exit = /exit=(\d+)/.exec(run[2] ?? '');
      examples.push({ name, line: i + 1, script: fence.body.join('\n'), expectExit: exit ? Number(exit[1]) : 0, expectOutput: [] });
      i = fence.end;
    } else {
      const name = out![1]!;
      const target = examples.find((e) => e.name === name);
      if (!target) throw new DocMarkupError(`${where(i)}: doc-test-output "${name}" has no doc-test block before it`);
      if (!fence) throw new DocMarkupError(`${where(i)}: doc-test-output "${name}" is not followed by a fenced block`);
      target.expectOutput.push(...fence.body.filter((l) => l.trim() !== ''));
      i = fence.end;
    }
  }
  return examples.map((e) => ({ ...e, file }));
}

/** An expected output line as a regular expression: literal text, `…` = anything, trimmed ends. */
export function expectedLinePattern(line: string): RegExp {
  const parts = line.trim().split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(parts.join('.*'));
}

/**
 * Check that `expected` lines appear in `output` in order (each on a later or the same line
 * than the previous one). Returns the first missing line, or undefined when all are there.
 */
export function missingOutputLine(expected: readonly string[], output: string): string | undefined {
  const outLines = output.split(/\r?\n/);
  let at = 0;
  for (const want of expected) {
    const re = expectedLinePattern(want);
    let found = -1;
    for (let j = at; j < outLines.length; j++) {
      if (re.test(outLines[j]!)) {
        found = j;
        break;
      }
    }
    if (found < 0) return want;
    at = found;
  }
  return undefined;
}

/** Every ```sh block of a document (marked or not), with the 1-based line of its fence. */
export function shellBlocks(markdown: string): { line: number; body: string }[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: { line: number; body: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE_OPEN.exec(lines[i]!);
    if (!open) continue;
    const fence = fenceAfter(lines, i);
    if (!fence) break;
    if (fence.lang === 'sh') blocks.push({ line: i + 1, body: fence.body.join('\n') });
    i = fence.end;
  }
  return blocks;
}

/**
 * The `ca` invocations of a shell block: the words before the first option (sub-command and
 * positionals, quotes removed) and the `--flags` used (`--x=1` → `--x`, `--no-x` → `--x`).
 * Continuation lines (`\` at the end) are joined; text after `#` is a comment.
 */
export function commandFlags(shell: string): { words: string[]; flags: string[] }[] {
  const joined = shell.replace(/\\\n/g, ' ');
  const result: { words: string[]; flags: string[] }[] = [];
  for (const raw of joined.split('\n')) {
    // Every `ca ` that starts a command: line start, or after |, &&, ||, ;, $( .
    for (const m of raw.matchAll(/(?:^\s*(?:\$\s+)?|[|;&(]\s*|\$\(\s*)ca\s+([^|;&#)]*)/g)) {
      const tokens = (m[1] ?? '').match(/"[^"]*"|'[^']*'|\S+/g) ?? [];
      const words: string[] = [];
      const flags: string[] = [];
      let inFlags = false;
      for (const t of tokens) {
        if (t.startsWith('--')) {
          inFlags = true;
          const f = t.split('=')[0]!;
          flags.push(f.startsWith('--no-') ? '--' + f.slice(5) : f);
        } else if (!inFlags && !t.startsWith('-') && !t.startsWith('>') && !t.startsWith('<')) {
          words.push(t.replace(/^["']|["']$/g, ''));
        }
      }
      if (words.length > 0) result.push({ words, flags });
    }
  }
  return result;
}

export interface NonInteractiveCaOptions {
  /** Directory to create `ca` in (put it first on PATH). */
  readonly binDir: string;
  /** Absolute path of dist/src/cli/bin.js. */
  readonly cliPath: string;
  /** Files (mode 0600) holding the test PINs: user PIN (both cards) and SO-PIN. */
  readonly pinFile: string;
  readonly soPinFile: string;
  /** PIV cards: the PUK file used by `ca card init` when the example passes --mgmt-key-file. */
  readonly pukFile?: string;
  /** Optional log of every expanded command line (PIN file paths only, never PINs). */
  readonly logFile?: string;
  /**
   * DKEK share password file for `ca card dkek create-share|import` (docs/key-custody.md) when
   * the example passes no --password-file / --threshold / --threshold-shares. Those commands
   * also get `--kdf-iterations 1000` (TEST-ONLY: 3 × 10^7 MD5 rounds per share would make the
   * chapter take minutes; the real count is run in dkek-sc-hsm-tool.test.ts and the bench).
   */
  readonly sharePasswordFile?: string;
}

/**
 * Write `BINDIR/ca`: runs the real CLI, adding `--pin-file`, `--so-pin-file` (for PIV and for
 * the MyEID `$MYEID_CARD`: the PUK), `--current-so-pin-file`, `--new-pin-file`,
 * `--issuer-pin-file` and (for ceremonies) `--yes` where the documented command would prompt
 * and the example did not pass them itself. Test cards share one user PIN.
 */
export function writeNonInteractiveCa(options: NonInteractiveCaOptions): string {
  mkdirSync(options.binDir, { recursive: true });
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = `#!/usr/bin/env bash
# TEST-ONLY stand-in for \`ca\` (test/helpers/doc-examples.ts): answers the prompts with PIN files.
set -euo pipefail
PIN=${q(options.pinFile)}
SO=${q(options.soPinFile)}
PUK=${q(options.pukFile ?? options.soPinFile)}
CA_NODE=${q(process.execPath)}
CA_CLI=${q(options.cliPath)}
SHAREPW=${q(options.sharePasswordFile ?? options.pinFile)}
args=("$@")
has() { local a; for a in "\${args[@]}"; do [[ $a == "$1" || $a == "$1="* ]] && return 0; done; return 1; }
add() { has "$1" || args+=("$1" "$2"); }
case "\${1:-} \${2:-}" in
  "card init")
    # PIV and MyEID take a new PUK in --so-pin-file; a MyEID's SO PIN is its user PIN (pkcs15+onepin).
    if has --mgmt-key-file || { [[ -n \${MYEID_CARD:-} ]] && has "\$MYEID_CARD"; }; then add --so-pin-file "$PUK"; add --current-so-pin-file "$PIN"; else add --so-pin-file "$SO"; fi
    add --pin-file "$PIN" ;;
  "card keygen") add --pin-file "$PIN" ;;
  "card pin")
    case "\${3:-}" in
      change) add --pin-file "$PIN"; add --new-pin-file "$PIN" ;;
      unblock) add --so-pin-file "$SO"; add --new-pin-file "$PIN" ;;
    esac ;;
  "ceremony root") add --pin-file "$PIN"; has --yes || args+=(--yes) ;;
  "ceremony subca") add --pin-file "$PIN"; add --issuer-pin-file "$PIN"; has --yes || args+=(--yes) ;;
  "sign "* | "crl "*) add --pin-file "$PIN" ;;
  "enroll "*) add --pin-file "$PIN"; add --user-pin-file "$PIN"; add --user-so-pin-file "$SO" ;;
  "csr "*) add --pin-file "$PIN" ;;
  "audit verify") add --pin-file "$PIN" ;;
  "key "*) add --pin-file "$PIN" ;;
  "card dkek")
    add --kdf-iterations 1000
    case "\${3:-}" in
      create-share) has --threshold || add --password-file "$SHAREPW" ;;
      import) has --threshold-shares || add --password-file "$SHAREPW" ;;
    esac ;;
  "init "*) has --rehearsal || args+=(--rehearsal) ;;
  "adopt "*) add --pin-file "$PIN" ;;
  "profiles accept")
    # The operator types the 8 hex digits the command shows; so does this stand-in.
    if ! has --confirm; then
      code=$("$CA_NODE" "$CA_CLI" "\${args[@]}" 2>&1 | sed -n 's/^new profile set SHA-256 \\([0-9a-f]\\{8\\}\\).*/\\1/p' | head -n1 || true)
      if [[ -n $code ]]; then args+=(--confirm "$code"); fi
    fi ;;
esac
${options.logFile ? `printf 'ca %s\\n' "\${args[*]}" >>${q(options.logFile)}` : ''}
exec ${q(process.execPath)} ${q(options.cliPath)} "\${args[@]}"
`;
  const path = join(options.binDir, 'ca');
  writeFileSync(path, script);
  chmodSync(path, 0o755);
  return path;
}

export interface ExampleRun {
  readonly code: number;
  readonly output: string;
}

/**
 * Run one example's script with bash in `cwd`; stdout and stderr interleaved in `output`. The
 * timeout only catches a hang: a block of four CRL signings took over 60 s at load 20 on the
 * shared 2-core box.
 */
export function runDocExample(example: DocExample, cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 180_000): Promise<ExampleRun> {
  const script = `set -euo pipefail\nexec 2>&1\n${example.script}\n`;
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { cwd, env, timeout: timeoutMs, maxBuffer: 8 << 20 }, (err, stdout) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, output: String(stdout) });
    });
  });
}
