import type { CaRecord } from '../../../ca/store.js';
import { shq } from '../ceremony.js';
import type { CeremonyRecord } from '../../../ca/transcript.js';
import { toHex } from '../../../common/hex.js';
import type { CaContext } from '../../ca-context.js';
import type { CliContext } from '../../context.js';
import { operatorName, participants, softwareVersion, transcriptTimeZone, writeTranscript, type WrittenTranscript } from '../../transcript-writer.js';

/**
 * The ceremony transcript of a key-custody act (`ca key backup|restore|drill`): the DKEK share
 * custodians are participants next to the operator and witnesses (a backup or restore is only
 * possible because they brought their shares; docs/key-custody.md), and the file hash, KCV and
 * the card that acted are on record, like every other ceremony (BR 6.1.1.1; ca-invariants.md §4.3).
 */
export { withCustodyTranscriptOptions, type CustodyTranscriptArgs } from '../../command-options.js';
import type { CustodyTranscriptArgs } from '../../command-options.js';

export interface CustodyAct {
  readonly kind: 'key-backup' | 'key-restore' | 'key-drill';
  readonly ca: CaRecord;
  readonly algorithm: string;
  readonly ceremonyId: string;
  readonly startedAt: Date;
  readonly card: { readonly serial: string; readonly reader: string; readonly label?: string | undefined; readonly driver: string };
  readonly keyRef: number;
  readonly triesLeftBefore: number | null;
  readonly triesLeftAfter: number | null;
  /** What happened, in order (each confirmed by the operator). */
  readonly steps: readonly { readonly at: Date; readonly text: string }[];
  /** The card signed (restore proof, drill challenge). */
  readonly signed?: string;
  readonly summary: string;
  readonly command: string;
  readonly notes: readonly string[];
}

/** The command line as recorded: secrets' file names are shown as `…`. */
export function custodyCommandLine(words: readonly string[], args: Record<string, unknown>, flags: readonly string[]): string {
  const parts = ['ca', ...words];
  for (const f of flags) if (args[f] !== undefined && args[f] !== false) parts.push(`--${f}`, String(args[f]));
  for (const c of (args['custodian'] as string[] | undefined) ?? []) parts.push('--custodian', c);
  for (const w of (args['witness'] as string[] | undefined) ?? []) parts.push('--witness', w);
  if (args['pin-file']) parts.push('--pin-file', '…');
  return parts.map(shq).join(' ');
}

export async function writeCustodyTranscript(ctx: CliContext, cactx: CaContext, args: CustodyTranscriptArgs, act: CustodyAct): Promise<WrittenTranscript> {
  const operator = [operatorName(ctx, args)];
  const custodians = args.custodian ?? [];
  const record: CeremonyRecord = {
    kind: act.kind,
    caName: act.ca.name,
    ceremonyId: act.ceremonyId,
    startedAt: act.startedAt,
    endedAt: cactx.clock.now(),
    timeZone: transcriptTimeZone(ctx, args),
    participants: [...participants(ctx, args), ...custodians.map((name) => ({ name, role: 'key-custodian' as const }))],
    cards: [{ role: act.ca.name, serial: act.card.serial, reader: act.card.reader, ...(act.card.label ? { label: act.card.label } : {}), triesLeftBefore: act.triesLeftBefore, triesLeftAfter: act.triesLeftAfter }],
    steps: act.steps.map((s) => ({ at: s.at, text: s.text, confirmedBy: operator, result: 'done' as const })),
    keys: [{ label: `${act.ca.name} CA key (key id ${act.ca.keyId})`, algorithm: act.algorithm, cardSerial: act.card.serial, spkiSha256: toHex(act.ca.spkiSha256) }],
    certificates: [],
    crls: [],
    ...(act.signed ? { signatures: [{ what: act.signed, cardSerial: act.card.serial, cardFamily: act.card.driver, keyId: act.ca.keyId, keyRef: act.keyRef }] } : {}),
    commands: [act.command],
    outcome: { status: 'success', summary: act.summary },
    software: softwareVersion(),
    notes: [
      ...act.notes,
      ...(custodians.length === 0 ? ['No DKEK share custodian was named (--custodian).'] : []),
      'PINs were entered at a prompt or read from a PIN file; share passwords are never asked here. Neither appears in this record.',
    ],
  };
  return writeTranscript(cactx, record);
}
