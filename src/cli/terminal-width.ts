/**
 * Display width of a string in terminal columns, for the layout of `ca … --help` (yargs, cliui
 * and wrap-ansi call it). The bundled CLI (scripts/build-cli.mjs) uses this in place of the
 * `string-width` package: string-width 7/8 build an `Intl.Segmenter` and Unicode-property
 * regular expressions (\p{RGI_Emoji}, emoji-regex, the East Asian Width tables) when imported
 * and on every call, which cost ~60 % of `ca sign --help` (docs/benchmarks.md, "Where the time
 * goes"). Help text is ours — ASCII plus a few symbols such as → … ≤ § — so the classic wcwidth
 * rules (Markus Kuhn's wcwidth.c) give the same columns: combining marks and zero-width
 * characters 0, East Asian Wide/Fullwidth ranges and emoji 2, everything else 1.
 */

// ECMA-48 control sequences (CSI … final byte, OSC … BEL/ST) and other ESC pairs.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-_]/g;
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\p{Cc}]$/u;
/**
 * Printable ASCII only (no ESC, so no escape sequence either): one column per UTF-16 unit. Nearly
 * every string cliui measures is one; the per-code-point loop below cost ~2 ms CPU of
 * `ca sign --help` (a `--cpu-prof` of 10 runs, 2026-12-03).
 */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** East Asian Wide (W) and Fullwidth (F) blocks, and the emoji blocks terminals draw two columns wide. */
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f], [0x231a, 0x231b], [0x2329, 0x232a], [0x23e9, 0x23ec], [0x23f0, 0x23f0], [0x23f3, 0x23f3],
  [0x25fd, 0x25fe], [0x2614, 0x2615], [0x2648, 0x2653], [0x267f, 0x267f], [0x2693, 0x2693], [0x26a1, 0x26a1],
  [0x26aa, 0x26ab], [0x26bd, 0x26be], [0x26c4, 0x26c5], [0x26ce, 0x26ce], [0x26d4, 0x26d4], [0x26ea, 0x26ea],
  [0x26f2, 0x26f3], [0x26f5, 0x26f5], [0x26fa, 0x26fa], [0x26fd, 0x26fd], [0x2705, 0x2705], [0x270a, 0x270b],
  [0x2728, 0x2728], [0x274c, 0x274c], [0x274e, 0x274e], [0x2753, 0x2755], [0x2757, 0x2757], [0x2795, 0x2797],
  [0x27b0, 0x27b0], [0x27bf, 0x27bf], [0x2b1b, 0x2b1c], [0x2b50, 0x2b50], [0x2b55, 0x2b55], [0x2e80, 0x303e],
  [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xa000, 0xa4cf], [0xa960, 0xa97f], [0xac00, 0xd7a3],
  [0xf900, 0xfaff], [0xfe10, 0xfe19], [0xfe30, 0xfe6f], [0xff00, 0xff60], [0xffe0, 0xffe6], [0x16fe0, 0x18aff],
  [0x1b000, 0x1b2ff], [0x1f004, 0x1f004], [0x1f0cf, 0x1f0cf], [0x1f18e, 0x1f18e], [0x1f191, 0x1f19a],
  [0x1f200, 0x1f251], [0x1f300, 0x1f64f], [0x1f680, 0x1f6ff], [0x1f7e0, 0x1f7eb], [0x1f90c, 0x1f9ff],
  [0x1fa70, 0x1faff], [0x20000, 0x3fffd],
];

function isWide(cp: number): boolean {
  let lo = 0;
  let hi = WIDE.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = WIDE[mid]!;
    if (cp < a) hi = mid - 1;
    else if (cp > b) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Columns `text` takes on a terminal (ANSI escape sequences take none). Same call shape as string-width. */
export default function stringWidth(text: string, options: { countAnsiEscapeCodes?: boolean } = {}): number {
  if (typeof text !== 'string' || text.length === 0) return 0;
  if (PRINTABLE_ASCII.test(text)) return text.length;
  const s = options.countAnsiEscapeCodes ? text : text.replace(ANSI, '');
  let width = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x20 && cp < 0x7f) width += 1;
    else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || ZERO_WIDTH.test(ch) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f)) continue;
    else width += isWide(cp) ? 2 : 1;
  }
  return width;
}
