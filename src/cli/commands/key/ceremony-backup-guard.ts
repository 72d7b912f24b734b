import type { CaStore } from '../../../ca/store.js';
import type { DriverCardSession } from '../../../card/card-session-impl.js';
import { readDkekStatus } from '../../../card/dkek/dkek-operations.js';
import { CardError } from '../../../card/errors.js';
import { eprintln, type CliContext } from '../../context.js';

/**
 * Before a ceremony generates a CA key: on a card that backs keys up under a DKEK
 * (`capabilities.dkekBackup`: the SmartCard-HSM) whose DKEK still misses shares the
 * key could never be backed up (the card refuses to wrap it), so refuse unless the operator
 * says `--no-backup`, which is recorded in the audit log (issue 10 item 4).
 */
export async function assertKeyCanBeBackedUp(
  ctx: CliContext,
  o: { card: DriverCardSession; store: CaStore; at: Date; caName: string; noBackup: boolean; generating: boolean },
): Promise<void> {
  if (!o.generating || !o.card.capabilities.dkekBackup) return;
  const s = await readDkekStatus(o.card);
  if (s.shares === 0 || s.missing === 0) return;
  if (!o.noBackup) {
    throw new CardError('DKEK_INCOMPLETE', `card ${o.card.info.serial} still misses ${s.missing} of ${s.shares} DKEK shares: a key generated now could never be backed up`, {
      hint: 'Import the missing shares first (`ca card dkek import FILE`), or pass --no-backup to generate a key that stays on this card only (recorded in the audit log).',
    });
  }
  eprintln(ctx, `warning: card ${o.card.info.serial} misses ${s.missing} DKEK share(s); the ${o.caName} key will never be backed up (--no-backup)`);
  o.store.audit({ event: 'ceremony.no-backup', ca: o.caName, data: { card: o.card.info.serial, shares: s.shares, missing: s.missing } }, o.at);
}
