import { join } from 'node:path';
import { pemEncode } from '../../ca/chain.js';
import { checkCommandClock } from '../clock-check.js';
import { rootCeremony, subCaCeremony, type CeremonyCard, type CeremonyResult } from '../../ca/ceremony.js';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { cardService } from '../card-context.js';
import type { PcscCardService } from '../../card/pcsc-card-service.js';
import { CardSlot, withCa, type CaContext } from '../ca-context.js';
import { assertKeyCanBeBackedUp } from './key/ceremony-backup-guard.js';
import { CliError } from '../cli-error.js';
import { externalSubCa } from './ceremony-external.js';
import { shq, type CeremonyArgs } from './ceremony.js';
import { CardcaError } from '../../common/cardca-error.js';
import { eprintln, println, type CliContext } from '../context.js';
import { promptLine } from '../pin-input.js';
import { writeCheckpoints } from '../checkpoints.js';
import { printResumeNote } from '../ceremony-resume-note.js';
import type { DriverCardSession } from '../../card/card-session-impl.js';
import { authenticateAdminIfNeeded } from '../mgmt-key-input.js';
import { keyPlacementOf } from './card/key-placement-options.js';
import type { CeremonyRecord } from '../../ca/transcript.js';
import { caCards } from '../../db/ca-card-bindings.js';
import { participants, softwareVersion, transcriptTimeZone, writeTranscript, operatorName, type WrittenTranscript } from '../transcript-writer.js';


/** The new CA's card: PIV management key and slot/policies, where the card family has them. */
function prepareSubjectCard(ctx: CliContext, args: CeremonyArgs): (s: DriverCardSession) => Promise<void> {
  return async (s) => {
    await authenticateAdminIfNeeded(ctx, s, args['mgmt-key-file']);
    s.keyPlacement = await keyPlacementOf(ctx, s, args);
  };
}


/** Returns how the operator confirmed (for the transcript). */
async function confirm(ctx: CliContext, args: CeremonyArgs, what: string): Promise<string> {
  if (args.yes) return `scripted run: the operator confirmed the ${what} ceremony with --yes`;
  if (!ctx.stdin.isTTY) {
    throw new CliError('USAGE_CONFIRMATION_REQUIRED', `the ${what} ceremony needs a confirmation`, { hint: 'Run it in a terminal, or pass --yes for a scripted ceremony.' });
  }
  const a = await promptLine(ctx, `About to run the ${what} ceremony. Type "yes" to continue: `);
  if (a.trim() !== 'yes') throw new CliError('USAGE_ABORTED', 'ceremony aborted by the operator');
  return `the operator typed "yes" to start the ${what} ceremony`;
}

/** PIN tries of one card: before the first VERIFY (from the slot) and now (after the last). */
interface CardTries {
  role: string;
  serial: string;
  triesLeftBefore: number | null;
  triesLeftAfter: number | null;
}

/**
 * Tries left after the ceremony. While the session is PIN-verified the card answers the status
 * query with 9000 and no count (ISO 7816-4 §11.5.6: VERIFY with no data), so the slot is
 * released (the transport disconnects with a card reset, which drops the verified state) and
 * the count is read on a fresh connection: after a successful VERIFY it shows the reset counter.
 */
async function triesOf(slot: CardSlot, service: PcscCardService): Promise<CardTries | undefined> {
  const s = slot.open;
  if (!s) return slot.serial ? { role: slot.role, serial: slot.serial, triesLeftBefore: slot.triesLeftBefore, triesLeftAfter: null } : undefined;
  const { serial, reader } = s.info;
  let after: number | null = null;
  try {
    const st = await s.pinStatus();
    if (st.state !== 'verified') after = st.triesLeft ?? null;
    else {
      await slot.release();
      const fresh = await service.open({ reader });
      try {
        if (fresh.info.serial === serial) after = (await fresh.pinStatus()).triesLeft ?? null;
      } finally {
        await fresh.close();
      }
    }
  } catch {
    /* the card went away after the ceremony; the transcript says "not read" */
  }
  return { role: slot.role, serial, triesLeftBefore: slot.triesLeftBefore, triesLeftAfter: after };
}

/** The transcript record of a finished ceremony (ca/transcript.ts `CeremonyRecord`). */
export function ceremonyRecord(
  ctx: CliContext,
  r: CeremonyResult,
  args: CeremonyArgs,
  o: { command: string; confirmation: string; tries: readonly CardTries[] },
): CeremonyRecord {
  const operator = operatorName(ctx, args);
  return {
    kind: r.kind,
    caName: r.caName,
    ceremonyId: r.ceremonyId,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    timeZone: transcriptTimeZone(ctx, args),
    participants: participants(ctx, args),
    cards: r.cards.map((c) => {
      const t = o.tries.find((x) => x.serial === c.serial);
      return {
        role: c.role,
        serial: c.serial,
        reader: c.reader,
        ...(c.label ? { label: c.label } : {}),
        triesLeftBefore: t?.triesLeftBefore ?? null,
        triesLeftAfter: t?.triesLeftAfter ?? null,
      };
    }),
    steps: r.steps.map((s) => ({ at: s.at, text: s.text, confirmedBy: [operator], result: s.result })),
    keys: r.keys.map((k) => ({ label: `${k.label} (key id ${k.keyId})`, algorithm: k.algorithm, cardSerial: k.cardSerial, spkiSha256: k.spkiSha256 })),
    certificates: r.certificates,
    crls: [],
    signatures: r.signatures,
    commands: [o.command],
    outcome: { status: 'success', summary: `${r.kind === 'root' ? 'root' : 'sub-CA'} ${r.caName} created; certificate serial ${r.certificates[0]?.serialHex ?? '?'}` },
    software: softwareVersion(),
    notes: [o.confirmation, 'PINs were entered at a prompt or read from a PIN file; they appear nowhere in this record.'],
  };
}

/**
 * A ceremony that started (it has a `ceremony.start` audit record) and then failed still gets a
 * transcript, outcome "failed", rebuilt from its audit records: the binder must show aborted
 * ceremonies too (BR 6.1.1.1). Best effort: a failure here never hides the ceremony's error.
 */
async function writeFailedTranscript(
  ctx: CliContext,
  ca: CaContext,
  args: CeremonyArgs,
  f: { kind: 'root' | 'subca'; caName: string; headBefore: number; error: unknown; command: string; confirmation: string; tries: readonly CardTries[] },
): Promise<void> {
  try {
    const recs = ca.store.auditRecords().filter((r) => r.seq > f.headBefore);
    const start = recs.find((r) => r.event === 'ceremony.start' && r.ca === f.caName);
    if (!start) return; // refused before anything happened: the refusal is in the audit log
    const id = String(start.seq);
    const ofThis = recs.filter((r) => (r.data as { ceremony?: unknown }).ceremony === id);
    const operator = [operatorName(ctx, args)];
    const end = ofThis.find((r) => r.event === 'ceremony.end');
    const code = f.error instanceof CardcaError ? f.error.code : 'INTERNAL';
    const message = f.error instanceof Error ? f.error.message : String(f.error);
    const endedAt = end ? new Date(end.at) : ca.clock.now();
    const bound = recs.find((r) => r.event === 'ca.bound' && r.ca === f.caName)?.data as { card?: string; keyId?: string; spkiSha256?: string } | undefined;
    const record: CeremonyRecord = {
      kind: f.kind,
      caName: f.caName,
      ceremonyId: id,
      startedAt: new Date(start.at),
      endedAt,
      timeZone: transcriptTimeZone(ctx, args),
      participants: participants(ctx, args),
      cards: f.tries.map((t) => ({ role: t.role, serial: t.serial, triesLeftBefore: t.triesLeftBefore, triesLeftAfter: t.triesLeftAfter })),
      steps: [
        ...ofThis.filter((r) => r.event === 'ceremony.step').map((r) => ({ at: new Date(r.at), text: String((r.data as { step?: unknown }).step), confirmedBy: operator, result: 'done' as const })),
        { at: endedAt, text: `failed [${code}]: ${message}`, confirmedBy: operator, result: 'failed' as const },
      ],
      keys:
        bound?.keyId && bound.spkiSha256
          ? [{ label: `cardca ${f.caName} (key id ${bound.keyId})`, algorithm: ca.profiles.ca(f.caName).profile.key, ...(bound.card ? { cardSerial: bound.card } : {}), spkiSha256: bound.spkiSha256 }]
          : [],
      certificates: [],
      crls: [],
      commands: [f.command],
      outcome: { status: 'failed', summary: `${code}: ${message}` },
      software: softwareVersion(),
      notes: [f.confirmation, 'The ceremony failed; see the audit records of this ceremony id for details.'],
    };
    const t = await writeTranscript(ca, record);
    for (const file of t.files) eprintln(ctx, `transcript of the failed ceremony: ${file.path} (audit #${t.auditSeq})`);
  } catch (e) {
    eprintln(ctx, `warning: could not write the transcript of the failed ceremony: ${(e as Error).message}`);
  }
}

/** Print the result; record for the transcript engine (`--json`), and the CA certificate under certs/. */
async function report(ctx: CliContext, ca: CaContext, r: CeremonyResult, args: CeremonyArgs, o: { command: string; confirmation: string; tries: readonly CardTries[] }): Promise<void> {
  const certPath = join(ca.home, 'certs', `${r.caName}.crt`);
  await writeFileAtomic(certPath, pemEncode(r.certificate, 'CERTIFICATE'), { mkdirs: true });
  const t: WrittenTranscript = await writeTranscript(ca, ceremonyRecord(ctx, r, args, o));
  if (args.json) {
    const { certificate, cards, ...rest } = r;
    const withTries = cards.map((c) => {
      const x = o.tries.find((y) => y.serial === c.serial);
      return { ...c, triesLeftBefore: x?.triesLeftBefore ?? null, triesLeftAfter: x?.triesLeftAfter ?? null };
    });
    println(
      ctx,
      JSON.stringify(
        {
          ...rest,
          cards: withTries,
          certificatePem: pemEncode(certificate, 'CERTIFICATE'),
          certificateFile: certPath,
          commands: [o.command],
          transcript: { files: t.files, auditSeq: t.auditSeq },
        },
        null,
        2,
      ),
    );
    return;
  }
  const c = r.certificates[0]!;
  println(ctx, `${r.kind} ceremony for ${r.caName} complete (ceremony #${r.ceremonyId})`);
  println(ctx, `  certificate: ${c.subject}, serial ${c.serialHex}`);
  println(ctx, `  valid ${c.notBefore.toISOString()} → ${c.notAfter.toISOString()}`);
  println(ctx, `  SHA-256 ${c.sha256}`);
  println(ctx, `  key: ${r.keys[0]!.algorithm} id ${r.keys[0]!.keyId} on card ${r.keys[0]!.cardSerial}`);
  println(ctx, `  written to ${certPath}`);
  for (const f of t.files) println(ctx, `  transcript ${f.path} (SHA-256 ${f.sha256}, audit #${t.auditSeq})`);
}


function commandLine(args: CeremonyArgs, kind: string): string {
  const parts = ['ca', 'ceremony', kind];
  if (args.name) parts.push(args.name);
  for (const k of ['home', 'card', 'reader', 'issuer-card', 'issuer-reader', 'key-id', 'slot', 'pin-policy', 'touch-policy', 'operator', 'time-zone'] as const) if (args[k]) parts.push(`--${k}`, String(args[k]));
  if (args['mgmt-key-file']) parts.push('--mgmt-key-file', '…');
  for (const w of args.witness ?? []) parts.push('--witness', w);
  if (args['pin-file']) parts.push('--pin-file', '…');
  if (args['issuer-pin-file']) parts.push('--issuer-pin-file', '…');
  if (args.resume) parts.push('--resume');
  if (args.yes) parts.push('--yes');
  if (args.json) parts.push('--json');
  return parts.map(shq).join(' ');
}

/** `ca ceremony root` (definition in ceremony.ts). */
export async function runRootCeremony(ctx: CliContext, args: CeremonyArgs): Promise<void> {
  return withCa(ctx, args, { command: 'ceremony root', write: true }, async (ca) => {
    const confirmation = await confirm(ctx, args, 'root');
    checkCommandClock(ca, args, 'ceremony root'); // before any card or PIN
    const service = cardService(ctx, args['card-timeout'] === undefined ? {} : { 'card-timeout': args['card-timeout'] });
    const rootNode = ca.profiles.cas.find((c) => c.parent === undefined);
    const bound = args.resume && rootNode ? ca.store.getCa(rootNode.name)?.cardSerial : undefined;
    const slot = new CardSlot(ctx, service, 'root', args.card ?? bound, {
      reader: args.reader,
      pinFile: args['pin-file'],
      allowLastPinTry: args['allow-last-pin-try'],
      refuseEmulated: !ca.mode.rehearsal,
      prepare: prepareSubjectCard(ctx, args),
    });
    try {
      const headBefore = ca.store.auditRecords().at(-1)?.seq ?? 0;
      let r: CeremonyResult;
      try {
        const card: CeremonyCard = await slot.get();
        const rootName = ca.profiles.cas.find((c) => c.parent === undefined)?.name ?? 'root';
        await assertKeyCanBeBackedUp(ctx, { card: await slot.get(), store: ca.store, at: ca.clock.now(), caName: rootName, noBackup: args['no-backup'] === true, generating: !args['key-id'] && !args.resume });
        r = await rootCeremony({ store: ca.store, clock: ca.clock, profiles: ca.profiles, say: (l) => eprintln(ctx, l) }, {
          card,
          ...(args['key-id'] ? { keyId: args['key-id'] } : {}),
          ...(args.resume ? { resume: true } : {}),
        });
      } catch (e) {
        await writeCheckpoints(ctx, ca, [slot.open], 'ceremony root (failed)');
        const tries = [await triesOf(slot, service)].filter((x): x is CardTries => x !== undefined);
        const rootName = ca.profiles.cas.find((c) => c.parent === undefined)?.name ?? 'root';
        await writeFailedTranscript(ctx, ca, args, { kind: 'root', caName: rootName, headBefore, error: e, command: commandLine(args, 'root'), confirmation, tries });
        printResumeNote(ctx, ca, 'root', rootName, e);
        throw e;
      }
      await writeCheckpoints(ctx, ca, [slot.open], `ceremony root ${r.caName}`);
      const tries = [await triesOf(slot, service)].filter((x): x is CardTries => x !== undefined);
      await report(ctx, ca, r, args, { command: commandLine(args, 'root'), confirmation, tries });
    } finally {
      await slot.release();
      await service.close();
    }
  });
}

/** `ca ceremony subca NAME` (definition in ceremony.ts). */
export async function runSubCaCeremony(ctx: CliContext, args: CeremonyArgs): Promise<void> {
  return withCa(ctx, args, { command: `ceremony subca ${args.name}`, write: true }, async (ca) => {
    const node = ca.profiles.ca(args.name!);
    const parent = node.parent ? ca.store.getCa(node.parent) : undefined;
    const confirmation = await confirm(ctx, args, `sub-CA ${args.name}`);
    if (args['external-root'] || args['import-cert']) return externalSubCa(ctx, ca, args);
    checkCommandClock(ca, args, `ceremony subca ${args.name}`);
    const service = cardService(ctx, args['card-timeout'] === undefined ? {} : { 'card-timeout': args['card-timeout'] });
    const slots: CardSlot[] = [];
    const others = (me: CardSlot) => () => slots.filter((s) => s !== me);
    const bound = args.resume ? ca.store.getCa(args.name!)?.cardSerial : undefined;
    const subject: CardSlot = new CardSlot(ctx, service, `${args.name} (new sub-CA)`, args.card ?? bound, {
      reader: args.reader,
      pinFile: args['pin-file'],
      allowLastPinTry: args['allow-last-pin-try'],
      others: () => others(subject)(),
      prepare: prepareSubjectCard(ctx, args),
      refuseEmulated: !ca.mode.rehearsal,
    });
    const issuer: CardSlot = new CardSlot(ctx, service, `${node.parent ?? 'parent'} (issuer)`, args['issuer-card'] ?? parent?.cardSerial, {
      reader: args['issuer-reader'],
      pinFile: args['issuer-pin-file'],
      allowLastPinTry: args['allow-last-pin-try'],
      others: () => others(issuer)(),
      refuseEmulated: !ca.mode.rehearsal,
    });
    slots.push(subject, issuer);
    let backupChecked = false;
    try {
      const headBefore = ca.store.auditRecords().at(-1)?.seq ?? 0;
      let r: CeremonyResult;
      try {
        r = await subCaCeremony({ store: ca.store, clock: ca.clock, profiles: ca.profiles, say: (l) => eprintln(ctx, l) }, {
          caName: args.name!,
          subjectCard: async (): Promise<CeremonyCard> => {
            const c = await subject.get();
            if (!backupChecked) await assertKeyCanBeBackedUp(ctx, { card: c, store: ca.store, at: ca.clock.now(), caName: args.name!, noBackup: args['no-backup'] === true, generating: !args['key-id'] && !args.resume });
            backupChecked = true;
            return c;
          },
          issuerCard: async (): Promise<CeremonyCard> => (await issuer.get()),
          ...(parent ? { issuerCards: [{ serial: parent.cardSerial, keyRef: parent.keyRef }, ...caCards(ca.store, parent.name).map((b) => ({ serial: b.cardSerial, keyRef: b.keyRef }))] } : {}),
          ...(args['key-id'] ? { keyId: args['key-id'] } : {}),
          ...(args.resume ? { resume: true } : {}),
        });
      } catch (e) {
        await writeCheckpoints(ctx, ca, slots.map((x) => x.open), `ceremony subca ${args.name} (failed)`);
        const tries: CardTries[] = [];
        for (const s of slots) {
          const t = await triesOf(s, service);
          if (t && !tries.some((x) => x.serial === t.serial)) tries.push(t);
        }
        await writeFailedTranscript(ctx, ca, args, { kind: 'subca', caName: args.name!, headBefore, error: e, command: commandLine(args, 'subca'), confirmation, tries });
        printResumeNote(ctx, ca, 'subca', args.name!, e);
        throw e;
      }
      await writeCheckpoints(ctx, ca, slots.map((x) => x.open), `ceremony subca ${args.name}`);
      const tries: CardTries[] = [];
      for (const s of slots) {
        const t = await triesOf(s, service);
        if (t && !tries.some((x) => x.serial === t.serial)) tries.push(t);
      }
      await report(ctx, ca, r, args, { command: commandLine(args, 'subca'), confirmation, tries });
    } finally {
      for (const s of slots) await s.release();
      await service.close();
    }
  });
}

