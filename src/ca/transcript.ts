/**
 * Ceremony transcripts: a structured record of one signing ceremony (root key generation, sub-CA
 * signing, CRL signing, batch signing) rendered to Markdown and to a printable standalone HTML
 * page for the ceremony binder (BR 6.1.1.1: a key-generation script, witnessed, with the
 * activities logged; ca-invariants.md §4.3).
 *
 * Both renderings are deterministic: the same record gives the same bytes (no clock, fixed
 * locale and formats), so the SHA-256 of each file, recorded in the audit log, lets an auditor
 * check a printed or archived copy later (`ca audit verify --transcript FILE`).
 *
 * Templates: templates/transcripts/ceremony.md.hbs and ceremony.html.hbs, loaded from the
 * package root (see export/template-loader.ts) unless the caller passes template text.
 * HTML escaping is handlebars' own `{{…}}` escaping (the templates never use `{{{…}}}`);
 * Markdown values are escaped here (CommonMark §2.4 backslash escapes) before rendering.
 */
import { DateTime } from 'luxon';
import { LUXON_UTC } from './clock.js';
import { CardcaError } from '../common/cardca-error.js';
import { bytesEqual, fromHex, toHex } from '../common/hex.js';
import { sha256, sha256Hex } from '../common/sha256.js';
import type { ExportFile } from './export/export-types.js';
import { loadTemplate, renderTemplate } from './export/template-loader.js';

export class TranscriptError extends CardcaError {}

export type CeremonyKind = 'root' | 'subca' | 'crl' | 'sign-batch' | 'key-backup' | 'key-restore' | 'key-drill';
export const CEREMONY_KINDS: readonly CeremonyKind[] = ['root', 'subca', 'crl', 'sign-batch', 'key-backup', 'key-restore', 'key-drill'];

export type ParticipantRole = 'operator' | 'security-officer' | 'witness' | 'key-custodian' | 'auditor';

/**
 * Everything a ceremony transcript shows. The ceremony engine fills it as the ceremony runs;
 * the renderer only formats it. All times are instants (`Date`), shown in UTC and in
 * `timeZone`. Fingerprints are SHA-256 in hex (upper/lower case, colons optional).
 */
export interface CeremonyRecord {
  readonly kind: CeremonyKind;
  /** The CA the ceremony is for (the root, the sub-CA being created, the CRL issuer, …). */
  readonly caName: string;
  /** Stable id, e.g. the audit sequence number of the ceremony-start record. */
  readonly ceremonyId: string;
  readonly startedAt: Date;
  readonly endedAt: Date;
  /** IANA zone for the "local" column, e.g. "Europe/Berlin" (the ceremony room's clock). */
  readonly timeZone: string;
  /** The operator's statement of the wall-clock time at ceremony start (G12), if taken. */
  readonly timeAttestation?: {
    readonly attestedBy: string;
    /** What the person read from an independent clock, as typed. */
    readonly statedTime: string;
    /** The machine's clock at that moment. */
    readonly systemTime: Date;
  };
  readonly participants: readonly { readonly name: string; readonly role: ParticipantRole }[];
  /** Cards used, with the user-PIN tries left before the first and after the last VERIFY. */
  readonly cards: readonly {
    readonly role: string;
    readonly serial: string;
    readonly label?: string;
    readonly reader?: string;
    readonly triesLeftBefore: number | null;
    readonly triesLeftAfter: number | null;
  }[];
  /** Scripted steps, each confirmed by the named people, in order. */
  readonly steps: readonly {
    readonly at: Date;
    readonly text: string;
    readonly confirmedBy: readonly string[];
    readonly result: 'done' | 'failed' | 'skipped';
  }[];
  /** Keys generated or used (SHA-256 of the DER SubjectPublicKeyInfo). */
  readonly keys: readonly {
    readonly label: string;
    readonly algorithm: string;
    readonly cardSerial?: string;
    readonly spkiSha256: string;
  }[];
  /** Certificates issued in the ceremony (SHA-256 of the DER certificate). */
  readonly certificates: readonly {
    readonly label: string;
    readonly subject: string;
    readonly serialHex: string;
    readonly notBefore: Date;
    readonly notAfter: Date;
    readonly sha256: string;
  }[];
  /** CRLs signed in the ceremony (SHA-256 of the DER CRL). */
  readonly crls: readonly {
    readonly issuer: string;
    readonly crlNumber: string;
    readonly thisUpdate: Date;
    readonly nextUpdate: Date;
    readonly sha256: string;
  }[];
  /**
   * Every signature a card made in the ceremony, with the card that made it: with a CA key on
   * more than one card (a DKEK backup restored, docs/key-custody.md) the record must say which
   * card signed. `cardFamily` is the card driver ("sc-hsm", "piv"), `keyId` the PKCS#15 iD.
   */
  readonly signatures?: readonly {
    readonly what: string;
    readonly cardSerial: string;
    readonly cardFamily: string;
    readonly keyId: string;
    readonly keyRef?: number;
  }[];
  /** The cardca commands run, as typed (never containing a PIN: cardca never takes one on argv). */
  readonly commands: readonly string[];
  readonly outcome: { readonly status: 'success' | 'failed' | 'aborted'; readonly summary: string };
  /** cardca version that ran the ceremony. */
  readonly software: string;
  readonly notes?: readonly string[];
  /**
   * Made in a rehearsal home (`ca init --rehearsal`): the transcript says REHEARSAL in its title
   * and, printed, on every page (a watermark), so it can never pass for a production record.
   * `fakeClock`: the rehearsal's pinned time (CA_FAKE_NOW), when one was used.
   */
  readonly rehearsal?: { readonly fakeClock?: string };
}

export interface RenderedTranscriptFile {
  readonly fileName: string;
  readonly bytes: Uint8Array;
  /** Lowercase hex SHA-256 of `bytes`, for the audit log. */
  readonly sha256: string;
}

export interface RenderedTranscript {
  readonly markdown: RenderedTranscriptFile;
  readonly html: RenderedTranscriptFile;
}

export interface TranscriptTemplates {
  readonly markdown: string;
  readonly html: string;
}

export const TRANSCRIPT_TEMPLATE_FILES = {
  markdown: 'transcripts/ceremony.md.hbs',
  html: 'transcripts/ceremony.html.hbs',
} as const;

/** Reads the two transcript templates from `<root>/templates/` (default: the package root). */
export function loadTranscriptTemplates(root?: string): TranscriptTemplates {
  return {
    markdown: loadTemplate(TRANSCRIPT_TEMPLATE_FILES.markdown, root),
    html: loadTemplate(TRANSCRIPT_TEMPLATE_FILES.html, root),
  };
}

/**
 * True when `bytes` hash to `expectedSha256` (hex, any case, colons allowed). This is the
 * check behind `ca audit verify --transcript FILE`.
 */
export function transcriptMatches(bytes: Uint8Array, expectedSha256: string): boolean {
  let expected: Uint8Array;
  try {
    expected = fromHex(expectedSha256);
  } catch {
    return false;
  }
  return expected.length === 32 && bytesEqual(sha256(bytes), expected);
}

/**
 * Renders `record` to Markdown and HTML. Throws `TRANSCRIPT_INVALID` for a malformed record
 * and `EXPORT_TEMPLATE` when a template does not render.
 */
export function renderCeremonyTranscript(
  record: CeremonyRecord,
  templates: TranscriptTemplates = loadTranscriptTemplates(),
): RenderedTranscript {
  validateRecord(record);
  const base = transcriptBaseName(record);
  const md = renderTemplate(TRANSCRIPT_TEMPLATE_FILES.markdown, templates.markdown, buildView(record, escapeMarkdown), {
    noEscape: true,
    helpers: { fence: fenceHelper },
  });
  const html = renderTemplate(TRANSCRIPT_TEMPLATE_FILES.html, templates.html, buildView(record, (s) => s), {
    noEscape: false,
  });
  const file = (ext: string, text: string): RenderedTranscriptFile => {
    const bytes = new Uint8Array(Buffer.from(text, 'utf8'));
    return { fileName: `${base}.${ext}`, bytes, sha256: sha256Hex(bytes) };
  };
  return { markdown: file('md', md), html: file('html', html) };
}

/** The rendered files as export entries (mode 0644), for `writeFilesAtomically`. */
export function transcriptFiles(rendered: RenderedTranscript): ExportFile[] {
  return [rendered.markdown, rendered.html].map((f) => ({ path: f.fileName, bytes: f.bytes, mode: 0o644 }));
}

/** `ceremony-<yyyyMMdd'T'HHmmss'Z'>-<kind>-<ca>`; the CA name is reduced to file-safe characters. */
export function transcriptBaseName(record: CeremonyRecord): string {
  const ts = DateTime.fromJSDate(record.startedAt, LUXON_UTC).toFormat("yyyyLLdd'T'HHmmss'Z'");
  const ca = record.caName.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._-]+/, '').slice(0, 48) || 'ca';
  return `ceremony-${ts}-${record.kind}-${ca}`;
}

// ---------------------------------------------------------------------------------------------

const KIND_TITLE: Readonly<Record<CeremonyKind, string>> = {
  root: 'Root CA key generation and self-signing',
  subca: 'Sub-CA key generation and certification',
  crl: 'CRL signing',
  'sign-batch': 'Batch certificate signing',
  'key-backup': 'CA key backup under the DKEK',
  'key-restore': 'CA key restore onto a further card',
  'key-drill': 'CA key backup drill',
};

/** CommonMark §2.4: any ASCII punctuation may be backslash-escaped; these are the ones that matter. */
export function escapeMarkdown(s: string): string {
  return s
    .replace(/[\\`*_{}[\]<>#|~!&]/g, (c) => `\\${c}`)
    .replace(/\r?\n/g, ' ');
}

/** A fenced code block whose fence is longer than any backtick run inside (CommonMark §4.5). */
function fenceHelper(text: unknown): string {
  const s = String(text);
  const longest = Math.max(0, ...Array.from(s.matchAll(/`+/g), (m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}\n${s}\n${fence}`;
}

function fingerprint(hex: string): string {
  return toHex(fromHex(hex), ':');
}

function buildView(r: CeremonyRecord, esc: (s: string) => string): Record<string, unknown> {
  const utc = (d: Date): string => DateTime.fromJSDate(d, LUXON_UTC).toFormat("yyyy-LL-dd HH:mm:ss 'UTC'");
  const local = (d: Date): string =>
    DateTime.fromJSDate(d, { zone: r.timeZone }).setLocale('en').toFormat('yyyy-LL-dd HH:mm:ss ZZ');
  const tries = (n: number | null): string => (n === null ? 'not read' : String(n));
  return {
    title: esc(KIND_TITLE[r.kind]),
    kind: esc(r.kind),
    caName: esc(r.caName),
    ceremonyId: esc(r.ceremonyId),
    timeZone: esc(r.timeZone),
    startedUtc: utc(r.startedAt),
    startedLocal: local(r.startedAt),
    endedUtc: utc(r.endedAt),
    endedLocal: local(r.endedAt),
    software: esc(r.software),
    rehearsal: r.rehearsal ? { fakeClock: r.rehearsal.fakeClock ? esc(r.rehearsal.fakeClock) : undefined } : undefined,
    timeAttestation: r.timeAttestation
      ? {
          attestedBy: esc(r.timeAttestation.attestedBy),
          statedTime: esc(r.timeAttestation.statedTime),
          systemUtc: utc(r.timeAttestation.systemTime),
          systemLocal: local(r.timeAttestation.systemTime),
        }
      : null,
    participants: r.participants.map((p) => ({ name: esc(p.name), role: esc(p.role) })),
    cards: r.cards.map((c) => ({
      role: esc(c.role),
      serial: esc(c.serial),
      label: esc(c.label ?? ''),
      reader: esc(c.reader ?? ''),
      triesLeftBefore: tries(c.triesLeftBefore),
      triesLeftAfter: tries(c.triesLeftAfter),
      triesDropped: c.triesLeftBefore !== null && c.triesLeftAfter !== null && c.triesLeftAfter < c.triesLeftBefore,
    })),
    steps: r.steps.map((s, i) => ({
      n: i + 1,
      utc: utc(s.at),
      local: local(s.at),
      text: esc(s.text),
      confirmedBy: esc(s.confirmedBy.join(', ')),
      result: esc(s.result),
    })),
    keys: r.keys.map((k) => ({
      label: esc(k.label),
      algorithm: esc(k.algorithm),
      cardSerial: esc(k.cardSerial ?? ''),
      spkiSha256: fingerprint(k.spkiSha256),
    })),
    certificates: r.certificates.map((c) => ({
      label: esc(c.label),
      subject: esc(c.subject),
      serialHex: toHex(fromHex(c.serialHex), ':'),
      notBeforeUtc: utc(c.notBefore),
      notAfterUtc: utc(c.notAfter),
      sha256: fingerprint(c.sha256),
    })),
    crls: r.crls.map((c) => ({
      issuer: esc(c.issuer),
      crlNumber: esc(c.crlNumber),
      thisUpdateUtc: utc(c.thisUpdate),
      nextUpdateUtc: utc(c.nextUpdate),
      sha256: fingerprint(c.sha256),
    })),
    signatures: (r.signatures ?? []).map((g) => ({
      what: esc(g.what),
      cardSerial: esc(g.cardSerial),
      cardFamily: esc(g.cardFamily),
      keyId: esc(g.keyId),
      keyRef: g.keyRef === undefined ? '' : String(g.keyRef),
    })),
    // Commands go into code blocks/<pre>: Markdown code spans take text literally (no escaping),
    // HTML is escaped by handlebars.
    commands: r.commands.join('\n'),
    hasCommands: r.commands.length > 0,
    outcome: { status: esc(r.outcome.status), summary: esc(r.outcome.summary), success: r.outcome.status === 'success' },
    notes: (r.notes ?? []).map(esc),
  };
}

function invalid(what: string): TranscriptError {
  return new TranscriptError('TRANSCRIPT_INVALID', `ceremony record: ${what}`, {
    hint: 'This is a bug in the ceremony engine that filled the record; the ceremony data itself is in the audit log.',
  });
}

function validateRecord(r: CeremonyRecord): void {
  if (!CEREMONY_KINDS.includes(r.kind)) throw invalid(`unknown kind ${JSON.stringify(r.kind)}`);
  if (r.caName.trim() === '') throw invalid('empty CA name');
  const dates: [string, Date][] = [
    ['startedAt', r.startedAt],
    ['endedAt', r.endedAt],
    ...r.steps.map((s, i): [string, Date] => [`steps[${i}].at`, s.at]),
    ...r.certificates.flatMap((c, i): [string, Date][] => [
      [`certificates[${i}].notBefore`, c.notBefore],
      [`certificates[${i}].notAfter`, c.notAfter],
    ]),
    ...r.crls.flatMap((c, i): [string, Date][] => [
      [`crls[${i}].thisUpdate`, c.thisUpdate],
      [`crls[${i}].nextUpdate`, c.nextUpdate],
    ]),
  ];
  if (r.timeAttestation) dates.push(['timeAttestation.systemTime', r.timeAttestation.systemTime]);
  for (const [name, d] of dates) {
    if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw invalid(`${name} is not a valid date`);
  }
  if (r.endedAt < r.startedAt) throw invalid('endedAt is before startedAt');
  if (!DateTime.now().setZone(r.timeZone).isValid) throw invalid(`unknown time zone ${JSON.stringify(r.timeZone)}`);
  for (const [i, c] of r.cards.entries()) {
    for (const t of [c.triesLeftBefore, c.triesLeftAfter]) {
      if (t !== null && !(Number.isInteger(t) && t >= 0 && t <= 15)) throw invalid(`cards[${i}] tries left ${t} out of range`);
    }
  }
  const hex64 = (s: string): boolean => /^[0-9a-fA-F]{64}$/.test(s.replace(/:/g, ''));
  for (const [i, k] of r.keys.entries()) if (!hex64(k.spkiSha256)) throw invalid(`keys[${i}].spkiSha256 is not a SHA-256`);
  for (const [i, c] of r.certificates.entries()) {
    if (!hex64(c.sha256)) throw invalid(`certificates[${i}].sha256 is not a SHA-256`);
    if (!/^[0-9a-fA-F:]+$/.test(c.serialHex) || c.serialHex.replace(/:/g, '').length % 2 !== 0) {
      throw invalid(`certificates[${i}].serialHex is not hex`);
    }
  }
  for (const [i, c] of r.crls.entries()) if (!hex64(c.sha256)) throw invalid(`crls[${i}].sha256 is not a SHA-256`);
  for (const [i, g] of (r.signatures ?? []).entries()) {
    if (g.cardSerial.trim() === '' || g.cardFamily.trim() === '' || g.keyId.trim() === '') throw invalid(`signatures[${i}] does not name the card and key that signed`);
  }
}
