/**
 * The closing table of `npm run bench` (issue #14 item 5): each bench adds the figures of the
 * issue's table that it measured, with the peer measured in the same run and their ratio, and
 * bench/run.ts prints them all together at the end of the one run.
 */
export interface SummaryRow {
  readonly figure: string;
  /** cardca's figure, as printed (e.g. "663 ms"). */
  readonly cardca: string;
  /** The reference measured in the same run ("openssl x509 -req -engine pkcs11: 110 ms"), or "—". */
  readonly peer: string;
  /** How the two compare ("ratio peer/this 0.17", "1.44 × node -e 0"), or "". */
  readonly ratio: string;
  readonly goal: string;
}

const rows: SummaryRow[] = [];

export function addSummaryRow(row: SummaryRow): void {
  rows.push(row);
}

/** Every row added so far, emptied (run.ts prints them once). */
export function takeSummaryRows(): SummaryRow[] {
  return rows.splice(0);
}

/** The rows as a Markdown table (pasteable into docs/benchmarks.md). */
export function formatSummary(list: readonly SummaryRow[]): string {
  const head = ['figure', 'cardca', 'peer (same run)', 'ratio', 'goal'];
  const body = list.map((r) => [r.figure, r.cardca, r.peer, r.ratio, r.goal]);
  return [head, head.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** The lines bench/scale.ts printed as its result (its table and OpenSSL's verdicts), for the closing summary. */
const scaleLines: string[] = [];

export function addScaleLines(lines: readonly string[]): void {
  scaleLines.push(...lines);
}

export function takeScaleLines(): string[] {
  return scaleLines.splice(0);
}

/**
 * What `npm run bench` prints last: issue #14's table from this run, then the scale bench's
 * lines as it printed them. (Until 2026-12-03 run.ts picked the scale lines out of the output by
 * a pattern that no longer matched the scale bench's Markdown table, so the CRL, status and list
 * rows were missing from the closing summary.)
 */
export function closingSummary(head: string, list: readonly SummaryRow[], scale: readonly string[]): string {
  const parts = [head, ''];
  if (list.length > 0) parts.push(formatSummary(list));
  if (scale.length > 0) parts.push('', 'scale (bench/scale.ts):', ...scale);
  return parts.join('\n');
}
