import type { CheckProblem } from './db-check.js';
import type { SqliteStore } from './sqlite-store.js';

/**
 * `ca db check`: the per-CA certificate counts that migration 5's triggers keep (and `ca status`
 * reads) must equal a full count of the rows. They can only differ when the file was edited
 * outside cardca.
 */
export function certificateCountProblems(store: SqliteStore): CheckProblem[] {
  const rows = store.db
    .prepare(
      `SELECT i.name AS ca, a.status, a.n AS actual, coalesce(k.n, 0) AS kept
       FROM (SELECT issuer_id, status, count(*) AS n FROM certificates GROUP BY issuer_id, status) a
       JOIN cas i ON i.id = a.issuer_id LEFT JOIN certificate_counts k ON k.issuer_id = a.issuer_id AND k.status = a.status
       UNION ALL
       SELECT i.name, k.status, 0, k.n FROM certificate_counts k JOIN cas i ON i.id = k.issuer_id
       WHERE k.n <> 0 AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.issuer_id = k.issuer_id AND c.status = k.status)`,
    )
    .all() as { ca: string; status: string; actual: number; kept: number }[];
  return rows
    .filter((r) => r.actual !== r.kept)
    .map((r) => ({ what: `CA ${r.ca}`, message: `${r.actual} certificate(s) with status ${r.status}, but the kept count says ${r.kept} (certificate_counts edited outside cardca)` }));
}
