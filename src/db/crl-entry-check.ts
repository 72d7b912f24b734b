import { concatBytes, toHex } from '../common/hex.js';
import { tbsCertListFields, walkCrlEntries } from '../ca/crl/crl-structure.js';
import { writeTbsCertList } from '../ca/crl/write-tbs-cert-list.js';
import type { CheckProblem } from './db-check.js';
import type { SqliteStore } from './sqlite-store.js';

/** Problems reported per CA before "… and N more". */
const MAX_PER_CA = 20;

/** Offsets [start, end) of every entry and of its serial's content, in one typed array per list. */
function entryOffsets(buf: Uint8Array, list: { tag: number; start: number; valueStart: number; end: number }, count: number): Int32Array {
  const out = new Int32Array(4 * count);
  let i = 0;
  walkCrlEntries(buf, list, (e) => {
    if (i >= 4 * count) throw new Error('more entries than counted');
    out[i++] = e.entry.start;
    out[i++] = e.entry.end;
    out[i++] = e.serial.valueStart;
    out[i++] = e.serial.end;
  });
  if (i !== 4 * count) throw new Error(`${i / 4} entries, ${count} counted`);
  return out;
}

/** memcmp, then the shorter first (SQLite's BLOB order). */
function compare(a: Uint8Array, a0: number, a1: number, b: Uint8Array, b0: number, b1: number): number {
  const n = Math.min(a1 - a0, b1 - b0);
  for (let i = 0; i < n; i++) {
    const d = a[a0 + i]! - b[b0 + i]!;
    if (d !== 0) return d;
  }
  return a1 - a0 - (b1 - b0);
}

/**
 * `ca db check`: the pre-encoded CRL entries (migration 9's crl_entries, kept by triggers) must
 * be exactly the entries the revocations give when written by the other encoder, the
 * JavaScript writer of write-tbs-cert-list.ts from the rows (revokedEntryStream). A forged,
 * missing or extra entry is named by its serial. They can only differ when the file was edited
 * outside cardca with the triggers off.
 */
export function crlEntryProblems(store: SqliteStore): CheckProblem[] {
  const problems: CheckProblem[] = [];
  for (const ca of store.listCas()) {
    const what = `CA ${ca.name}`;
    const out: string[] = [];
    let more = 0;
    const say = (m: string): void => void (out.length < MAX_PER_CA ? out.push(m) : more++);
    let ref: Uint8Array;
    let refList;
    let refRevoked: number;
    try {
      const t = writeTbsCertList(
        { issuerName: Uint8Array.of(0x30, 0), aki: Uint8Array.of(0), thisUpdate: '2000-01-01T00:00:00.000Z', nextUpdate: '2000-01-02T00:00:00.000Z', crlNumber: 1n },
        'ecdsa-sha256',
        store.revokedEntryStream(ca.name),
      );
      ref = t.tbs;
      refList = tbsCertListFields(ref).revoked;
      refRevoked = store.db.prepare("SELECT count(*) FROM certificates WHERE issuer_id = ? AND status = 'revoked'").pluck().get(ca.id) as number;
    } catch (e) {
      problems.push({ what, message: `its revocations cannot be written on a CRL: ${(e as Error).message}` });
      continue;
    }
    // The rows as they are (not as the kept totals say: those are checked below).
    const chunks = store.revokedEntryChunks(ca.name);
    const parts: Uint8Array[] = [];
    const perRun: number[] = [];
    let storedCount = 0;
    chunks.forEach((der, n) => {
      parts.push(der);
      storedCount += n;
    });
    const stored = concatBytes(...parts);
    perRun.push(store.db.prepare('SELECT count(*) FROM crl_entries WHERE issuer_id = ? AND grp = 0').pluck().get(ca.id) as number);
    const refCount = refList ? entryOffsetsCount(ref, refList) : 0;
    let a: Int32Array;
    let b: Int32Array;
    try {
      a = refList ? entryOffsets(ref, refList, refCount) : new Int32Array(0);
      b = entryOffsets(stored, { tag: 0x30, start: 0, valueStart: 0, end: stored.length }, storedCount);
    } catch (e) {
      problems.push({ what, message: `the pre-encoded CRL entries (crl_entries) do not parse: ${(e as Error).message}` });
      continue;
    }
    // Merge on (group, serial): group 0 = revoked (the first refRevoked / runs[0] entries).
    let i = 0;
    let j = 0;
    const serial = (buf: Uint8Array, o: Int32Array, k: number): string => toHex(buf.subarray(o[4 * k + 2], o[4 * k + 3])).toUpperCase();
    while (i < refCount || j < storedCount) {
      const gi = i < refRevoked ? 0 : 1;
      const gj = j < perRun[0]! ? 0 : 1;
      const c = i >= refCount ? 1 : j >= storedCount ? -1 : gi !== gj ? gi - gj : compare(ref, a[4 * i + 2]!, a[4 * i + 3]!, stored, b[4 * j + 2]!, b[4 * j + 3]!);
      if (c < 0) {
        say(`serial ${serial(ref, a, i)} is revoked but has no pre-encoded CRL entry (crl_entries edited outside cardca)`);
        i++;
      } else if (c > 0) {
        say(`the pre-encoded CRL entry for serial ${serial(stored, b, j)} has no revocation (crl_entries edited outside cardca)`);
        j++;
      } else {
        if (compare(ref, a[4 * i]!, a[4 * i + 1]!, stored, b[4 * j]!, b[4 * j + 1]!) !== 0) {
          say(`the pre-encoded CRL entry for serial ${serial(ref, a, i)} differs from its revocation (crl_entries edited outside cardca)`);
        }
        i++;
        j++;
      }
    }
    for (const m of out) problems.push({ what, message: m });
    if (more > 0) problems.push({ what, message: `… and ${more} more CRL entry problem(s)` });
  }
  const totals = store.db
    .prepare(
      `SELECT i.name AS ca, a.grp, a.n, a.octets, coalesce(t.n, 0) AS kn, coalesce(t.octets, 0) AS ko
       FROM (SELECT issuer_id, grp, count(*) AS n, sum(length(der)) AS octets FROM crl_entries GROUP BY issuer_id, grp) a
       JOIN cas i ON i.id = a.issuer_id LEFT JOIN crl_entry_totals t ON t.issuer_id = a.issuer_id AND t.grp = a.grp
       UNION ALL
       SELECT i.name, t.grp, 0, 0, t.n, t.octets FROM crl_entry_totals t JOIN cas i ON i.id = t.issuer_id
       WHERE t.n <> 0 AND NOT EXISTS (SELECT 1 FROM crl_entries e WHERE e.issuer_id = t.issuer_id AND e.grp = t.grp)`,
    )
    .all() as { ca: string; grp: number; n: number; octets: number; kn: number; ko: number }[];
  for (const t of totals) {
    if (t.n !== t.kn || t.octets !== t.ko) {
      problems.push({ what: `CA ${t.ca}`, message: `${t.n} pre-encoded CRL entries of ${t.octets} octets in group ${t.grp}, but crl_entry_totals says ${t.kn} of ${t.ko} (edited outside cardca)` });
    }
  }
  return problems;
}

function entryOffsetsCount(buf: Uint8Array, list: { tag: number; start: number; valueStart: number; end: number }): number {
  return walkCrlEntries(buf, list, () => {});
}
