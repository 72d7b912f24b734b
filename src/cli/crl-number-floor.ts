import type { DriverCardSession } from '../card/card-session-impl.js';
import type { CaContext } from './ca-context.js';
import { readCardCheckpoint } from './checkpoints.js';
import { eprintln, type CliContext } from './context.js';

/**
 * A CRL number is never issued twice (RFC 5280 §5.2.3; issue #8 item 3). After a database
 * rollback (a stale backup restored with --allow-rollback, or a file copied back by hand) the
 * database's highest CRL number can be below one relying parties have already seen; the
 * checkpoint on the CA's own card still has it. Returns that number when it is above the
 * database's, so `ca crl` signs a number past it (audited), never one at or below it.
 */
export async function crlNumberFloor(ctx: CliContext, ca: CaContext, session: DriverCardSession, issuer: string): Promise<bigint | undefined> {
  let cp;
  try {
    cp = await readCardCheckpoint(session);
  } catch (e) {
    eprintln(ctx, `warning: the checkpoint on card ${session.info.serial} cannot be read (${(e as Error).message}); CRL numbers are taken from the database only`);
    return undefined;
  }
  if (!cp) return undefined;
  if (cp.homeId !== ca.mode.homeId) {
    eprintln(ctx, `warning: card ${session.info.serial} holds a checkpoint of another CA home (${cp.homeId}); it is not used`);
    return undefined;
  }
  const onCard = BigInt(cp.cas[issuer]?.crlNumber ?? '0');
  const inDb = ca.store.latestCrl(issuer)?.crlNumber ?? 0n;
  if (onCard <= inDb) return undefined;
  eprintln(ctx, `warning: the database's highest CRL number of ${issuer} is ${inDb}, but the checkpoint on card ${session.info.serial} (${cp.at}) records ${onCard}: the database was rolled back; the new CRL gets a number above ${onCard}`);
  ca.store.audit(
    { event: 'crl.number-floor', ca: issuer, data: { card: session.info.serial, checkpointCrlNumber: onCard.toString(), databaseCrlNumber: inDb.toString(), checkpointAuditSeq: cp.auditSeq } },
    ca.clock.now(),
  );
  return onCard;
}
