import { join } from 'node:path';
import { hashProfileSet, type ProfileSetHash } from '../ca/profile/profile-set-hash.js';
import { CardcaError } from '../common/cardca-error.js';
import type { SqliteStore } from '../db/sqlite-store.js';
import { NEWEST_PROFILE_PIN_SQL } from '../db/audit-by-event.js';

/**
 * Pinned profiles (issue #8 item 6): `ca init` records the SHA-256 of the home's profile set
 * (and the texts, so a change can be shown); every later command compares the profiles on disk
 * with the newest pin (`ca.init` or `profiles.accepted`) and refuses a different set with
 * `PROFILES_CHANGED`, showing the diff, until `ca profiles accept` records the new one.
 */
export interface ProfilePin {
  readonly sha256: string;
  readonly seq: number;
  readonly at: string;
  readonly files: Readonly<Record<string, { sha256: string; text: string }>>;
}

export function pinnedFiles(h: ProfileSetHash): Record<string, { sha256: string; text: string }> {
  return Object.fromEntries(Object.entries(h.files).map(([n, f]) => [n, { sha256: f.sha256, text: f.text }]));
}

/** The newest pin in the audit log, or undefined for a home made before pinning existed. */
export function currentPin(store: SqliteStore): ProfilePin | undefined {
  const r = store.db
    .prepare(NEWEST_PROFILE_PIN_SQL)
    .get() as { seq: number; at: string; data: string } | undefined;
  if (!r) return undefined;
  const d = JSON.parse(r.data) as { profilesSha256?: unknown; profileFiles?: unknown };
  if (typeof d.profilesSha256 !== 'string') return undefined;
  return { sha256: d.profilesSha256, seq: r.seq, at: r.at, files: (d.profileFiles ?? {}) as ProfilePin['files'] };
}

/** A line diff of two texts (longest common subsequence), `-`/`+` lines with 1 line of context. */
export function lineDiff(a: string, b: string): string[] {
  const x = a.split('\n');
  const y = b.split('\n');
  const n = x.length;
  const m = y.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: { k: ' ' | '-' | '+'; line: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) ops.push({ k: ' ', line: x[i++]! }), j++;
    else if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) ops.push({ k: '+', line: y[j++]! });
    else ops.push({ k: '-', line: x[i++]! });
  }
  const changed = (idx: number): boolean => (ops[idx]?.k ?? ' ') !== ' ';
  const keep = ops.map((_, idx) => changed(idx) || changed(idx - 1) || changed(idx + 1));
  return ops.filter((_, idx) => keep[idx]).map((o) => `${o.k} ${o.line}`);
}

export function profileDiff(pin: ProfilePin, now: ProfileSetHash): string[] {
  const out: string[] = [];
  const names = [...new Set([...Object.keys(pin.files), ...Object.keys(now.files)])].sort();
  for (const name of names) {
    const was = pin.files[name];
    const is = now.files[name];
    if (was && is && was.sha256 === is.sha256) continue;
    if (!is) out.push(`--- ${name} (removed)`);
    else if (!was) out.push(`+++ ${name} (added)`);
    else out.push(`--- ${name} (pinned, sha256 ${was.sha256.slice(0, 16)}…)`, `+++ ${name} (now, sha256 ${is.sha256.slice(0, 16)}…)`);
    out.push(...lineDiff(was?.text ?? '', is?.text ?? ''));
  }
  return out;
}

/** Refuse to work with a profile set other than the pinned one. */
export function assertProfilesPinned(store: SqliteStore, home: string, profilesDir: string): void {
  const pin = currentPin(store);
  if (!pin) return; // a home made before pinning: nothing recorded to compare with
  const now = hashProfileSet(profilesDir);
  if (now.sha256 === pin.sha256) return;
  const diff = profileDiff(pin, now);
  throw new CardcaError('PROFILES_CHANGED', `the profiles in ${join(home, 'profiles')} differ from the set pinned by audit record #${pin.seq} (${pin.at}):\n${diff.join('\n')}`, {
    hint: 'If the change is intended and reviewed, record it with `ca profiles accept` (typed confirmation, audited); otherwise restore the pinned files.',
    details: { pinned: pin.sha256, now: now.sha256, pinSeq: pin.seq },
  });
}
