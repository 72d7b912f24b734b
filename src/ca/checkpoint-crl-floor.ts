import type { Checkpoint } from './checkpoint.js';
import { CaError } from './errors.js';

/**
 * The CRL-number floor (issue #8 item 3). RFC 5280 §5.2.3: CRL numbers are monotonically
 * increasing, so a number relying parties have seen is never issued again — even after the
 * database was rolled back (a stale backup restored with --allow-rollback, a file copied back
 * by hand). Every checkpoint of the home counts: the one on the signing card and the copies of
 * every card's (each checkpoint records every CA's highest CRL number, so the root card's also
 * bounds the sub-CAs'). A database below the floor is refused; signing past it takes an
 * explicit, audited flag.
 */
export const CRL_FLOOR_OVERRIDE_FLAG = '--crl-number-above-checkpoint';

export interface CheckpointSource {
  readonly cp: Checkpoint;
  /** Where it was read: `card S in "READER"`, `file PATH`. */
  readonly source: string;
}

export interface CrlFloor {
  readonly crlNumber: bigint;
  /** The checkpoints that record `crlNumber`. */
  readonly holders: readonly CheckpointSource[];
  /** Checkpoints of another home: never used. */
  readonly foreign: readonly CheckpointSource[];
}

export function checkpointedCrlFloor(cps: readonly CheckpointSource[], homeId: string, issuer: string): CrlFloor | undefined {
  const foreign = cps.filter((c) => c.cp.homeId !== homeId);
  let crlNumber = 0n;
  let holders: CheckpointSource[] = [];
  for (const c of cps) {
    if (c.cp.homeId !== homeId) continue;
    const n = BigInt(c.cp.cas[issuer]?.crlNumber ?? '0');
    if (n > crlNumber) {
      crlNumber = n;
      holders = [c];
    } else if (n === crlNumber && n > 0n) {
      holders.push(c);
    }
  }
  return crlNumber > 0n || foreign.length > 0 ? { crlNumber, holders, foreign } : undefined;
}

/**
 * undefined: the database is at or past every checkpoint, sign as usual. A floor: the operator
 * passed the override, the new CRL number goes above it. Otherwise CHECKPOINT_CRL_NUMBER_BEHIND.
 */
export function crlNumberFloorDecision(o: {
  inDb: bigint;
  cps: readonly CheckpointSource[];
  homeId: string;
  issuer: string;
  aboveCheckpoint: boolean;
}): CrlFloor | undefined {
  const f = checkpointedCrlFloor(o.cps, o.homeId, o.issuer);
  if (!f || f.crlNumber <= o.inDb) return undefined;
  if (o.aboveCheckpoint) return f;
  const where = f.holders.map((h) => `${h.source} (${h.cp.reason}, ${h.cp.at})`).join('; ');
  throw new CaError(
    'CHECKPOINT_CRL_NUMBER_BEHIND',
    `the database's highest CRL number of ${o.issuer} is ${o.inDb}, but a checkpoint records ${f.crlNumber}: ${where}. ` +
      `Signing now would issue CRL #${o.inDb + 1n}${o.inDb + 1n < f.crlNumber ? `..#${f.crlNumber}` : ''} again, a number relying parties may already have seen (RFC 5280 §5.2.3); nothing was signed`,
    {
      hint:
        'The database was rolled back (a restored backup or a copied file). Restore a newer backup with `ca db restore FILE` if there is one. ' +
        `If there is none, sign past the checkpoint: \`ca crl --issuer ${o.issuer} ${CRL_FLOOR_OVERRIDE_FLAG}\` (recorded in the audit log; the new CRL gets #${f.crlNumber + 1n}), ` +
        'then re-enter the revocations the rolled-back database lacks and sign another CRL.',
      details: { issuer: o.issuer, databaseCrlNumber: o.inDb.toString(), checkpointCrlNumber: f.crlNumber.toString(), sources: f.holders.map((h) => h.source) },
    },
  );
}
