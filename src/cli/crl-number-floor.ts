import type { DriverCardSession } from '../card/card-session-impl.js';
import { crlNumberFloorDecision, type CheckpointSource } from '../ca/checkpoint-crl-floor.js';
import type { CaContext } from './ca-context.js';
import { checkpointCopyFiles, loadCheckpointFile, readCardCheckpoint } from './checkpoints.js';
import { eprintln, type CliContext } from './context.js';

/**
 * A CRL number is never issued twice (RFC 5280 §5.2.3; issue #8 item 3; the rule is
 * src/ca/checkpoint-crl-floor.ts). The floor is taken from every checkpoint the home has: the
 * one on the signing card (PIN already verified), and every copy in HOME/checkpoints/ — one per
 * card that ever signed for this home, the root card's and any backup card's included; a
 * database restore does not touch them. A copy that does not parse stops the command
 * (CHECKPOINT_MALFORMED, naming the file): a floor nobody can read is not skipped.
 *
 * Below the floor: CHECKPOINT_CRL_NUMBER_BEHIND (exit 14), nothing signed. With
 * `aboveCheckpoint` (--crl-number-above-checkpoint): returns the floor, the new CRL number goes
 * above it, and the decision is audited (`crl.number-floor`).
 */
export async function crlNumberFloor(
  ctx: CliContext,
  ca: CaContext,
  session: DriverCardSession,
  issuer: string,
  aboveCheckpoint: boolean,
): Promise<bigint | undefined> {
  const cps: CheckpointSource[] = [];
  try {
    const cp = await readCardCheckpoint(session);
    if (cp) cps.push({ cp, source: `card ${session.info.serial}` });
  } catch (e) {
    eprintln(ctx, `warning: the checkpoint on card ${session.info.serial} cannot be read (${(e as Error).message}); the floor is taken from the checkpoint copies in ${ca.home}/checkpoints/`);
  }
  for (const f of checkpointCopyFiles(ca.home)) {
    const { cp } = loadCheckpointFile(ctx, f);
    cps.push({ cp, source: `file ${f}` });
  }
  const inDb = ca.store.latestCrl(issuer)?.crlNumber ?? 0n;
  for (const c of cps) if (c.cp.homeId !== ca.mode.homeId) eprintln(ctx, `warning: ${c.source} holds a checkpoint of another CA home (${c.cp.homeId}); it is not used`);
  const f = crlNumberFloorDecision({ inDb, cps, homeId: ca.mode.homeId, issuer, aboveCheckpoint });
  if (!f) return undefined;
  eprintln(ctx, `warning: the database's highest CRL number of ${issuer} is ${inDb}, but ${f.holders.map((h) => h.source).join(', ')} record${f.holders.length === 1 ? 's' : ''} ${f.crlNumber}: the database was rolled back; as asked, the new CRL gets a number above ${f.crlNumber}`);
  ca.store.audit(
    {
      event: 'crl.number-floor',
      ca: issuer,
      data: {
        card: session.info.serial,
        sources: f.holders.map((h) => h.source),
        checkpointCrlNumber: f.crlNumber.toString(),
        databaseCrlNumber: inDb.toString(),
        checkpointAuditSeq: f.holders[0]!.cp.auditSeq,
      },
    },
    ca.clock.now(),
  );
  return f.crlNumber;
}
