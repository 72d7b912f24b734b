import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { packageRoot } from '../ca/export/template-loader.js';
import type { AuditRecord } from '../ca/store.js';
import { renderCeremonyTranscript, transcriptFiles, type CeremonyRecord, type ParticipantRole } from '../ca/transcript.js';
import { writeFilesAtomically } from '../common/atomic-write.js';
import type { CaContext } from './ca-context.js';
import type { CliContext } from './context.js';

/**
 * Writes a ceremony transcript (Markdown + printable HTML) into `<home>/ceremonies/` and records
 * the SHA-256 of each file in the audit log (`transcript.written`), so a printed or archived
 * binder copy can later be checked with `ca audit verify --transcript FILE`
 * (BR 6.1.1.1 key-generation script and record; ca-invariants.md §4.3).
 */
export const CEREMONIES_DIR = 'ceremonies';
export const TRANSCRIPT_EVENT = 'transcript.written';

// Defined with the other option builders, so that a command's definition imports nothing heavy.
export { withTranscriptOptions, type TranscriptArgs } from './command-options.js';
import type { TranscriptArgs } from './command-options.js';

export function operatorName(ctx: CliContext, args: TranscriptArgs): string {
  if (args.operator) return args.operator;
  const env = ctx.env['USER'] ?? ctx.env['LOGNAME'];
  if (env) return env;
  try {
    return userInfo().username;
  } catch {
    return 'operator';
  }
}

export function transcriptTimeZone(ctx: CliContext, args: TranscriptArgs): string {
  const tz = args['time-zone'] ?? ctx.env['TZ'];
  if (tz && tz.trim() !== '' && !tz.startsWith(':')) return tz;
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

export function participants(ctx: CliContext, args: TranscriptArgs): { name: string; role: ParticipantRole }[] {
  return [{ name: operatorName(ctx, args), role: 'operator' }, ...(args.witness ?? []).map((w) => ({ name: w, role: 'witness' as const }))];
}

export function softwareVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { name?: string; version?: string };
    return `${pkg.name ?? 'cardca'} ${pkg.version ?? '?'}`;
  } catch {
    return 'cardca';
  }
}

export interface WrittenTranscript {
  readonly files: readonly { readonly path: string; readonly fileName: string; readonly sha256: string }[];
  readonly auditSeq: number;
}

/** Render, write atomically (each file), then append one `transcript.written` audit record. */
export async function writeTranscript(ca: CaContext, record: CeremonyRecord): Promise<WrittenTranscript> {
  if (ca.mode.rehearsal && !record.rehearsal) {
    const fake = ca.store.auditTag?.['fakeClock'];
    record = { ...record, rehearsal: typeof fake === 'string' ? { fakeClock: fake } : {} };
  }
  const rendered = renderCeremonyTranscript(record);
  const dir = join(ca.home, CEREMONIES_DIR);
  // Names carry the start second; a second ceremony of the same kind and CA in that second
  // (e.g. two CRLs) gets "-2", "-3", … so no recorded transcript is ever overwritten.
  let entries = transcriptFiles(rendered);
  for (let n = 2; entries.some((e) => existsSync(join(dir, e.path))); n++) {
    entries = transcriptFiles(rendered).map((e) => ({ ...e, path: e.path.replace(/(\.[a-z]+)$/, `-${n}$1`) }));
  }
  const paths = await writeFilesAtomically(dir, entries);
  const files = [rendered.markdown, rendered.html].map((f, i) => ({ path: paths[i]!, fileName: entries[i]!.path, sha256: f.sha256 }));
  const rec = ca.store.audit(
    {
      event: TRANSCRIPT_EVENT,
      ca: record.caName,
      data: { ceremony: record.ceremonyId, kind: record.kind, files: files.map((f) => ({ name: f.fileName, sha256: f.sha256 })) },
    },
    ca.clock.now(),
  );
  return { files, auditSeq: rec.seq };
}

/** The transcript files an audit record lists (empty for other events or malformed data). */
export function transcriptEntries(r: AuditRecord): { name: string; sha256: string }[] {
  if (r.event !== TRANSCRIPT_EVENT) return [];
  const files = (r.data as { files?: unknown }).files;
  if (!Array.isArray(files)) return [];
  return files.flatMap((f) =>
    f && typeof f === 'object' && typeof (f as { name?: unknown }).name === 'string' && typeof (f as { sha256?: unknown }).sha256 === 'string'
      ? [{ name: (f as { name: string }).name, sha256: (f as { sha256: string }).sha256 }]
      : [],
  );
}
