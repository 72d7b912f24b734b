import type { LintFinding } from '../errors.js';

/** A lint rule: a zlint-style name, the source it enforces, and a check returning problems. */
export interface LintRule<T> {
  /** `e_…` rules are errors; `w_…` rules are warnings. Both block signing (G6: 0 errors, 0 warnings). */
  readonly name: string;
  /** RFC / BR clause the rule enforces. */
  readonly source: string;
  /** Return undefined/empty when fine, otherwise one message or several. */
  readonly check: (subject: T) => string | readonly string[] | undefined;
}

export function runRules<T>(rules: readonly LintRule<T>[], subject: T): LintFinding[] {
  const out: LintFinding[] = [];
  for (const r of rules) {
    let res: string | readonly string[] | undefined;
    try {
      res = r.check(subject);
    } catch (e) {
      res = `rule could not evaluate: ${(e as Error).message}`;
    }
    if (res === undefined) continue;
    for (const m of typeof res === 'string' ? [res] : res) out.push({ rule: r.name, message: m });
  }
  return out;
}
