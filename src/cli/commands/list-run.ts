import type { ListArgs } from './list.js';
import { DateTime, Duration } from 'luxon';
import { isoUtc, LUXON_LOCALE, LUXON_UTC } from '../../ca/clock.js';
import type { CertificateStatus, CertificateSummary } from '../../ca/store.js';
import { tokenBindings } from '../../ca/token-records.js';
import { withCa } from '../ca-context.js';
import { certJsonInList } from './list-json.js';
import { usageError } from '../cli-error.js';
import { println, type CliContext } from '../context.js';
import { drained } from '../output-drain.js';

/** "30d", "12h", "2w" or an ISO 8601 duration. */
export function parseSpan(s: string): Duration {
  const m = /^(\d+)([dhw])$/.exec(s);
  if (m) return Duration.fromObject({ [m[2] === 'd' ? 'days' : m[2] === 'h' ? 'hours' : 'weeks']: Number(m[1]) }, LUXON_LOCALE);
  const d = Duration.fromISO(s, LUXON_LOCALE);
  if (!d.isValid) throw usageError(`--expiring ${s} is not a duration`, 'Use e.g. 30d, 12h, 2w or P30D.');
  return d;
}

export function certJson(c: CertificateSummary): Record<string, unknown> {
  return {
    issuer: c.issuerName,
    serial: c.serialHex,
    status: c.status,
    profile: c.profile,
    subject: c.subject,
    sans: c.sans,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    isCa: c.isCa,
    reservedAt: c.reservedAt,
    issuedAt: c.issuedAt ?? null,
    revocation: c.revocation ?? null,
  };
}

/** The handler of `ca list` (list.ts holds its definition): loaded only when the command runs, not for `ca list --help`. */
export async function runList(ctx: CliContext, args: ListArgs): Promise<void> {
  await withCa(ctx, args, { command: 'list', write: false, profiles: false }, async (ca) => {
    const now = ca.clock.now();
    const filter = {
      ...(args.issuer ? { issuer: args.issuer } : {}),
      ...(args.status ? { status: args.status as CertificateStatus } : args.expiring ? { status: 'issued' as const } : {}),
      ...(args.expiring
        ? { notAfterAfter: isoUtc(now), notAfterBefore: isoUtc(DateTime.fromJSDate(now, LUXON_UTC).plus(parseSpan(args.expiring)).toJSDate()) }
        : {}),
    };
    const bindings = args.card === undefined ? undefined : tokenBindings(ca.store.auditRecords(), args.card);
    const bindingOf = (c: CertificateSummary) => bindings?.find((b) => b.issuerName === c.issuerName && b.serialHex === c.serialHex);
    // Streamed row by row (issue #14 item 4): a million certificates never sit in memory.
    // The JSON is byte-identical to JSON.stringify(array, null, 2) of the whole list.
    // Rows (JSON or text) are gathered into writes of ≈ 64 KB, so a million rows are not a million
    // writes, and the next rows are read only once the output has taken the last write: into a
    // pipe (`ca list --json | jq`) Node queues what the reader has not taken yet, and 2,000,000
    // rows written without waiting grew the process by the whole output, then failed (ENOBUFS).
    let n = 0;
    let pending = '';
    const flush = async (): Promise<void> => {
      if (!pending) return;
      const chunk = pending;
      pending = '';
      if (!ctx.stdout.write(chunk)) await drained(ctx.stdout);
    };
    for (const c of ca.store.eachCertificate(filter)) {
      if (bindings && bindingOf(c) === undefined) continue;
      if (args.json) {
        const b = bindingOf(c);
        pending += n === 0 ? '[\n' : ',\n';
        if (b) pending += `  ${JSON.stringify({ ...certJson(c), token: { card: b.cardSerial, keyId: b.keyId, label: b.label ?? null } }, null, 2).replace(/\n/g, '\n  ')}`;
        else pending += certJsonInList(c);
      } else {
        // Gathered like the JSON: one write per row cost a system call each (10,000 rows of
        // `--expiring 30d` at the scale of issue #14 item 4).
        pending += `${c.issuerName.padEnd(10)} ${c.serialHex}  ${c.status.padEnd(15)} ${c.notAfter}  ${c.subject}${c.sans.length ? `  [${c.sans.join(', ')}]` : ''}\n`;
      }
      n++;
      if (pending.length >= 65_536) await flush();
    }
    await flush();
    if (args.json) println(ctx, n === 0 ? '[]' : '\n]');
    else if (n === 0) println(ctx, '(no certificates)');
  });
}
