import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../ca/checkpoint.js';
import { sha256Hex } from '../common/sha256.js';
import { CardcaError } from '../common/cardca-error.js';
import { writeFileAtomic } from '../common/atomic-write.js';
import type { DriverCardSession } from '../card/card-session-impl.js';
import { checkpointNow } from '../db/checkpoint-compare.js';
import { DbError } from '../db/db-error.js';
import type { SqliteStore } from '../db/sqlite-store.js';
import type { CaContext } from './ca-context.js';
import type { CardReadArgs } from './command-options.js';
import { cardService } from './card-context.js';
import { eprintln, type CliContext } from './context.js';
import { verifyOnSession } from './pin-input.js';
import { CliError } from './cli-error.js';
import { CHECKPOINT_EVENT } from './checkpoint-event.js';

/**
 * Where checkpoints live (issue #8 item 1): on the card, in the PIN-protected data object
 * `CHECKPOINT_OBJECT_ID` (SmartCard-HSM `CD CA`; on a PKCS#15 file-system card such as the MyEID
 * the private data object labelled `CHECKPOINT_OBJECT_LABEL`, which `pkcs15-tool -D` lists and
 * `pkcs15-tool --read-data-object` reads), and as a copy next to the transcripts' directory,
 * HOME/checkpoints/checkpoint-CARD.json (the newest one per card). Every write is audited
 * (`checkpoint.written`), which is what `ca status` reports.
 */
export const CHECKPOINT_OBJECT_ID = 0xca;
export const CHECKPOINT_OBJECT_LABEL = 'cardca checkpoint';
export { CHECKPOINT_EVENT } from './checkpoint-event.js';
/** HOME/checkpoints/: beside HOME/ceremonies/, not in it (that directory holds transcripts only). */
export const CHECKPOINTS_DIR = 'checkpoints';

export function checkpointCopyPath(home: string, card: string): string {
  return join(home, CHECKPOINTS_DIR, `checkpoint-${card.replace(/[^A-Za-z0-9_-]/g, '_')}.json`);
}

/** Every checkpoint copy in HOME/checkpoints/ (one per card that ever got one). */
export function checkpointCopyFiles(home: string): string[] {
  const dir = join(home, CHECKPOINTS_DIR);
  return existsSync(dir) ? readdirSync(dir).filter((f) => /^checkpoint-.*\.json$/.test(f)).sort().map((f) => join(dir, f)) : [];
}

/** Write a checkpoint of the database as it is now onto `session`'s card (PIN verified) and beside the transcripts. */
export async function writeCheckpoint(ctx: CliContext, ca: CaContext, session: DriverCardSession, reason: string): Promise<Checkpoint> {
  const card = session.info.serial;
  const cp = checkpointNow(ca.store, { homeId: ca.mode.homeId, card, reason, at: ca.clock.now(), rehearsal: ca.mode.rehearsal });
  let onCard = true;
  let cardError: string | undefined;
  try {
    await session.writeDataObject(CHECKPOINT_OBJECT_ID, encodeCheckpoint(cp), CHECKPOINT_OBJECT_LABEL);
  } catch (e) {
    onCard = false;
    cardError = e instanceof CardcaError ? `${e.code}: ${e.message}` : (e as Error).message;
    eprintln(ctx, `warning: the checkpoint (audit #${cp.auditSeq}) could not be written to card ${card}: ${cardError}; only the file copy has it`);
  }
  const json = `${JSON.stringify(cp, null, 2)}\n`;
  const file = checkpointCopyPath(ca.home, card);
  await writeFileAtomic(file, json, { mkdirs: true });
  ca.store.audit(
    { event: CHECKPOINT_EVENT, data: { card, auditSeq: cp.auditSeq, auditHead: cp.auditHead, reason, onCard, ...(cardError ? { cardError } : {}), file: file.slice(ca.home.length + 1), sha256: sha256Hex(Buffer.from(json)) } },
    ca.clock.now(),
  );
  return cp;
}

/** Best effort at the end of a ceremony: every open, PIN-verified slot gets a checkpoint. */
export async function writeCheckpoints(ctx: CliContext, ca: CaContext, sessions: readonly (DriverCardSession | undefined)[], reason: string): Promise<void> {
  const seen = new Set<string>();
  for (const s of sessions) {
    if (!s || seen.has(s.info.serial)) continue;
    seen.add(s.info.serial);
    try {
      await writeCheckpoint(ctx, ca, s, reason);
    } catch (e) {
      eprintln(ctx, `warning: no checkpoint for card ${s.info.serial}: ${(e as Error).message}`);
    }
  }
}

/** The checkpoint on a PIN-verified card, or undefined when it has none (or no data objects). */
export async function readCardCheckpoint(session: DriverCardSession): Promise<Checkpoint | undefined> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = await session.readDataObject(CHECKPOINT_OBJECT_ID, CHECKPOINT_OBJECT_LABEL);
  } catch (e) {
    if (e instanceof CardcaError && e.code === 'CARD_NO_DATA_OBJECTS') return undefined;
    throw e;
  }
  if (!bytes || bytes.length === 0) return undefined;
  return decodeCheckpoint(bytes, `checkpoint on card ${session.info.serial}`);
}

export function loadCheckpointFile(ctx: CliContext, file: string): { cp: Checkpoint; source: string } {
  const path = resolve(ctx.cwd, file);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new DbError('CHECKPOINT_UNREADABLE', `cannot read the checkpoint ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      hint: 'Give a checkpoint file written by cardca (HOME/checkpoints/checkpoint-CARD.json, or the binder copy).',
    });
  }
  return { cp: decodeCheckpoint(bytes, path), source: path };
}

export { withCheckpointSources, type CardReadArgs } from './command-options.js';

/**
 * Checkpoints from the inserted cards that belong to this home's CAs (or the card named by
 * --card). Reading `CD xx` needs the user PIN: from --pin-file, or a prompt on a terminal. A
 * bound card inserted in a non-interactive run without --pin-file cannot be read: by default it
 * is named and skipped with a note; with `onUnreadable: 'refuse'` (`ca audit verify`) the command
 * fails (USAGE_CHECKPOINT_PIN_REQUIRED) unless `skip` (--skip-card-checkpoints) says to go on,
 * and then every skipped card is named in a WARNING and returned in `skipped`.
 */
export async function insertedCardCheckpoints(
  ctx: CliContext,
  store: SqliteStore,
  args: CardReadArgs,
  policy: { onUnreadable: 'note' | 'refuse'; skip?: boolean; skipped?: string[] } = { onUnreadable: 'note' },
): Promise<{ cp: Checkpoint; source: string }[]> {
  const bound = new Set(store.listCas().map((c) => c.cardSerial));
  if (args.card) bound.add(args.card);
  const out: { cp: Checkpoint; source: string }[] = [];
  const unread: string[] = [];
  const service = cardService(ctx, {});
  try {
    let readers;
    try {
      readers = await service.readers();
    } catch (e) {
      // No PC/SC (no pcscd, no reader): nothing inserted to compare with, unless a card was asked for.
      if (args.card !== undefined || args['pin-file'] !== undefined) throw e;
      return out;
    }
    for (const r of readers) {
      if (!r.cardPresent || (args.reader !== undefined && r.name !== args.reader)) continue;
      let s: DriverCardSession;
      try {
        s = await service.open({ reader: r.name });
      } catch {
        continue; // not a card we can read (or busy): not one of ours to check
      }
      try {
        const serial = s.info.serial;
        if (args.card !== undefined ? serial !== args.card : !bound.has(serial)) continue;
        if (args['pin-file'] === undefined && (!ctx.stdin.isTTY || policy.skip)) {
          if (policy.onUnreadable === 'note') {
            eprintln(ctx, `note: card ${serial} in "${r.name}" holds a checkpoint of this CA, but reading it needs the PIN: pass --pin-file FILE`);
          } else {
            unread.push(`card ${serial} in "${r.name}"`);
          }
          continue;
        }
        await verifyOnSession(ctx, s, { pinFile: args['pin-file'], allowLastPinTry: false });
        const cp = await readCardCheckpoint(s);
        if (cp) out.push({ cp, source: `card ${serial} in "${r.name}"` });
        else eprintln(ctx, `note: card ${serial} holds no checkpoint yet`);
      } finally {
        await s.close();
      }
    }
  } finally {
    await service.close();
  }
  if (unread.length > 0 && !policy.skip) {
    throw new CliError(
      'USAGE_CHECKPOINT_PIN_REQUIRED',
      `${unread.join(', ')} hold${unread.length === 1 ? 's' : ''} a checkpoint of this CA, and reading it needs the user PIN, but this run has no terminal and no --pin-file: the database was not compared with ${unread.length === 1 ? 'it' : 'them'}`,
      { hint: 'Pass --pin-file FILE (the user PIN of the inserted card), run it on a terminal (PIN prompt), or remove the card; --skip-card-checkpoints checks without the card, and says so.' },
    );
  }
  for (const u of unread) eprintln(ctx, `WARNING: the checkpoint on ${u} was not compared with the database (--skip-card-checkpoints): a truncated or rewritten audit log is only caught by a card's checkpoint or a --checkpoint file`);
  policy.skipped?.push(...unread);
  return out;
}
