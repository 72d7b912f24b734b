import { ALARM_DAYS, WARN_DAYS, type StatusArgs } from './status.js';
import { nameString } from '../../ca/x509/name-string.js';
import { slice } from '../../ca/x509/der.js';
import { tbsFieldTlvs, validityDates } from '../../ca/x509/tbs-fields.js';
import { crlFreshness } from '../../ca/crl-freshness.js';
import type { CaRecord, CaStore, CertificateStatus } from '../../ca/store.js';
import { toHex } from '../../common/hex.js';
import { withCa } from '../ca-context.js';
import { CliError, usageError } from '../cli-error.js';
import { caCards } from '../../db/ca-card-bindings.js';
import { SqliteStore } from '../../db/sqlite-store.js';
import { println, useColour, type CliContext } from '../context.js';
import { collectTrustStatus, REHEARSAL_STATUS_LINE, renderTrustStatus } from '../status-trust.js';

/**
 * `ca status`: one screen for the operator (and cron) — per CA the card and key, how long its
 * certificate is valid, how long its latest CRL is (RFC 5280 §5.1.2.5 nextUpdate: relying
 * parties refuse a CRL past it), and how many certificates it has per status.
 *
 * Levels of a CA certificate: `alarm` when expired or ≤ 7 days left, `warn` at ≤ 30 days.
 * Levels of a CRL come from the CA profile's `crl.overlap` (src/ca/crl-freshness.ts): `warn`
 * inside the overlap window (the next CRL is due), `alarm` in its last quarter or when expired,
 * or when the CA has no CRL; a CRL just signed is `ok`. Exit 0 whatever the level, so
 * `ca status` is safe in scripts that only want the report; `--check` exits 1 on warn
 * (`STATUS_WARN`) and 2 on alarm (`STATUS_ALARM`), the monitoring-plugin convention.
 */
const DAY_MS = 86_400_000;

export type Level = 'ok' | 'warn' | 'alarm';

const STATUSES: readonly CertificateStatus[] = ['reserved', 'issued', 'revoked', 'outcome_unknown', 'abandoned'];

export interface CaStatus {
  name: string;
  parent: string | null;
  card: { serial: string; family: string; keyId: string; keyRef: number };
  /** Further cards holding the same key (restored from a DKEK backup, `ca key restore`). */
  furtherCards: { serial: string; family: string; keyRef: number; kcv: string }[];
  spkiSha256: string;
  certificate: { subject: string; notBefore: string; notAfter: string; daysLeft: number; level: Level } | null;
  crl: {
    number: string;
    thisUpdate: string;
    nextUpdate: string;
    daysToNextUpdate: number;
    entries: number;
    level: Level;
    /** From the profile's crl.overlap (absent when evaluated by day thresholds). */
    dueFrom?: string;
    alarmFrom?: string;
  } | null;
  certificates: Record<CertificateStatus, number> & { total: number };
  level: Level;
  problems: string[];
}

export interface StatusReport {
  now: string;
  thresholds: { warnDays: number; alarmDays: number };
  level: Level;
  cas: CaStatus[];
}

/** Whole days from `now` to `until`, rounded down (negative once past). */
export function daysLeft(now: Date, until: Date): number {
  return Math.floor((until.getTime() - now.getTime()) / DAY_MS);
}

export interface Thresholds {
  warnDays: number;
  alarmDays: number;
}

/** ≤ alarmDays (default 7) or past → alarm; ≤ warnDays (default 30) → warn. */
export function levelFor(now: Date, until: Date, t: Thresholds = { warnDays: WARN_DAYS, alarmDays: ALARM_DAYS }): Level {
  const ms = until.getTime() - now.getTime();
  if (ms <= 0 || ms <= t.alarmDays * DAY_MS) return 'alarm';
  if (ms <= t.warnDays * DAY_MS) return 'warn';
  return 'ok';
}

const worst = (ls: readonly Level[]): Level => (ls.includes('alarm') ? 'alarm' : ls.includes('warn') ? 'warn' : 'ok');

function subjectOf(der: Uint8Array): string {
  try {
    return nameString(slice(der, tbsFieldTlvs(der).subject));
  } catch {
    return '(unparsable)';
  }
}

function validity(der: Uint8Array): { notBefore: Date; notAfter: Date } {
  return validityDates(der, tbsFieldTlvs(der).validity);
}

/**
 * `crlOverlapMs(ca)`: the CA profile's crl.overlap in ms; when given, CRL levels follow it
 * (crlFreshness), otherwise the day thresholds `t` apply to CRLs as to certificates.
 */
export function collectStatus(
  store: CaStore,
  now: Date,
  t: Thresholds = { warnDays: WARN_DAYS, alarmDays: ALARM_DAYS },
  crlOverlapMs?: (ca: CaRecord) => number | undefined,
): StatusReport {
  const cas = store.listCas().map((ca): CaStatus => {
    const problems: string[] = [];
    let certificate: CaStatus['certificate'] = null;
    if (ca.certificate) {
      const v = validity(ca.certificate);
      const level = levelFor(now, v.notAfter, t);
      certificate = { subject: subjectOf(ca.certificate), notBefore: v.notBefore.toISOString(), notAfter: v.notAfter.toISOString(), daysLeft: daysLeft(now, v.notAfter), level };
      if (v.notAfter <= now) problems.push(`CA certificate expired at ${v.notAfter.toISOString()}`);
      else if (level !== 'ok') problems.push(`CA certificate expires in ${certificate.daysLeft} day(s)`);
    } else {
      problems.push('no CA certificate: the ceremony did not finish');
    }
    let crl: CaStatus['crl'] = null;
    const last = store.latestCrl(ca.name, 'issued');
    if (last) {
      const next = new Date(last.nextUpdate);
      const overlap = crlOverlapMs?.(ca);
      const fresh = overlap === undefined ? undefined : crlFreshness(now, new Date(last.thisUpdate), next, overlap);
      const level = fresh ? fresh.level : levelFor(now, next, t);
      crl = { number: String(last.crlNumber), thisUpdate: last.thisUpdate, nextUpdate: last.nextUpdate, daysToNextUpdate: daysLeft(now, next), entries: last.entries, level };
      if (fresh) Object.assign(crl, { dueFrom: fresh.dueFrom.toISOString(), alarmFrom: fresh.alarmFrom.toISOString() });
      if (next <= now) problems.push(`CRL #${last.crlNumber} expired at ${last.nextUpdate}: run \`ca crl --issuer ${ca.name}\``);
      else if (fresh && level !== 'ok') problems.push(`CRL #${last.crlNumber} is due (overlap window since ${fresh.dueFrom.toISOString()}), nextUpdate in ${crl.daysToNextUpdate} day(s): run \`ca crl --due\` or \`ca crl --issuer ${ca.name}\``);
      else if (level !== 'ok') problems.push(`CRL #${last.crlNumber} reaches nextUpdate in ${crl.daysToNextUpdate} day(s): run \`ca crl --issuer ${ca.name}\``);
    } else if (ca.certificate) {
      problems.push(`no CRL yet: run \`ca crl --issuer ${ca.name}\``);
    }
    // Kept by the database (migration 5): no row per certificate is read (issue #14 item 4).
    const counts = store.certificateCounts(ca.name);
    const total = STATUSES.reduce((n, s) => n + counts[s], 0);
    if (counts.outcome_unknown > 0) problems.push(`${counts.outcome_unknown} certificate(s) with unknown outcome (listed on the next CRL)`);
    const level = worst([
      certificate?.level ?? 'alarm',
      crl?.level ?? (ca.certificate ? 'alarm' : 'ok'),
      counts.reserved > 0 || counts.outcome_unknown > 0 ? 'warn' : 'ok',
    ]);
    return {
      name: ca.name,
      parent: ca.parentName ?? null,
      card: { serial: ca.cardSerial, family: ca.cardFamily, keyId: ca.keyId, keyRef: ca.keyRef },
      furtherCards: store instanceof SqliteStore ? caCards(store, ca.name).map((b) => ({ serial: b.cardSerial, family: b.cardFamily, keyRef: b.keyRef, kcv: b.kcv })) : [],
      spkiSha256: toHex(ca.spkiSha256),
      certificate,
      crl,
      certificates: { ...counts, total },
      level,
      problems,
    };
  });
  return { now: now.toISOString(), thresholds: { warnDays: t.warnDays, alarmDays: t.alarmDays }, level: worst(cas.map((c) => c.level)), cas };
}

const COLOURS: Readonly<Record<Level, string>> = { ok: '\x1b[32m', warn: '\x1b[33m', alarm: '\x1b[1;31m' };

function render(ctx: CliContext, r: StatusReport): void {
  const colour = useColour(ctx);
  const tag = (l: Level): string => (colour ? `${COLOURS[l]}${l.toUpperCase()}\x1b[0m` : l.toUpperCase());
  println(ctx, `status at ${r.now}: ${tag(r.level)} (CA certificates: warn ≤ ${r.thresholds.warnDays} days, alarm ≤ ${r.thresholds.alarmDays} days or expired; CRLs: warn inside the profile's overlap window, alarm in its last quarter or expired)`);
  if (r.cas.length === 0) println(ctx, '(no CA yet: run `ca ceremony root`)');
  for (const c of r.cas) {
    println(ctx);
    println(ctx, `${c.name}${c.parent ? ` (under ${c.parent})` : ' (root)'}  ${tag(c.level)}`);
    println(ctx, `  card ${c.card.serial} (${c.card.family}), key id ${c.card.keyId}`);
    for (const f of c.furtherCards) println(ctx, `  also on card ${f.serial} (${f.family}, restored backup, slot ${f.keyRef}, DKEK KCV ${f.kcv})`);
    if (c.certificate) println(ctx, `  certificate ${c.certificate.subject}: valid until ${c.certificate.notAfter} (${c.certificate.daysLeft} days) ${tag(c.certificate.level)}`);
    if (c.crl) println(ctx, `  CRL #${c.crl.number}: ${c.crl.entries} entr${c.crl.entries === 1 ? 'y' : 'ies'}, next update ${c.crl.nextUpdate} (${c.crl.daysToNextUpdate} days) ${tag(c.crl.level)}`);
    else println(ctx, `  CRL: none ${tag(c.certificate ? 'alarm' : 'ok')}`);
    const n = c.certificates;
    println(ctx, `  certificates: ${n.issued} issued, ${n.revoked} revoked, ${n.outcome_unknown} outcome unknown, ${n.reserved} reserved, ${n.abandoned} abandoned (${n.total} total)`);
    for (const p of c.problems) println(ctx, `  ! ${p}`);
  }
}

/** The handler of `ca status` (status.ts holds its definition): loaded only when the command runs, not for `ca status --help`. */
export async function runStatus(ctx: CliContext, args: StatusArgs): Promise<void> {
  await withCa(ctx, args, { command: 'status', write: false }, async (ca) => {
    const t = { warnDays: args['warn-days'], alarmDays: args['alarm-days'] };
    if (!(Number.isFinite(t.warnDays) && Number.isFinite(t.alarmDays) && t.alarmDays >= 0 && t.warnDays >= t.alarmDays)) {
      throw usageError('--warn-days and --alarm-days must be numbers with 0 ≤ alarm ≤ warn', 'Example: --warn-days 14 --alarm-days 3.');
    }
    const overlapOf = (rec: CaRecord): number | undefined => {
      try {
        return ca.profiles.caProfile(rec.profileName).crl.overlap.duration.toMillis();
      } catch {
        return undefined; // profile gone from the home: fall back to the day thresholds
      }
    };
    const r = collectStatus(ca.store, ca.clock.now(), t, overlapOf);
    const trust = collectTrustStatus(ca.store, ca.mode);
    if (args.json) println(ctx, JSON.stringify({ ...r, ...trust }, null, 2));
    else {
      if (trust.rehearsal) println(ctx, REHEARSAL_STATUS_LINE);
      render(ctx, r);
      renderTrustStatus(ctx, trust);
    }
    if (args.check && r.level === 'alarm') {
      const names = r.cas.filter((c) => c.level === 'alarm').map((c) => c.name);
      throw new CliError('STATUS_ALARM', `CA(s) at alarm level: ${names.join(', ')}`, {
        hint: 'See the "!" lines of `ca status`: sign fresh CRLs with `ca crl --due`, plan a re-key for an expiring CA.',
      });
    }
    if (args.check && r.level === 'warn') {
      const names = r.cas.filter((c) => c.level === 'warn').map((c) => c.name);
      throw new CliError('STATUS_WARN', `CA(s) at warn level: ${names.join(', ')}`, {
        hint: 'See the "!" lines of `ca status`: `ca crl --due` signs every CRL inside its overlap window.',
      });
    }
  });
}
