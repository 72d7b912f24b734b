import { DbError } from '../../db/db-error.js';
import { checkDatabase } from '../../db/db-check.js';
import { withCa, type HomeArgs } from '../ca-context.js';
import { println, type CliContext } from '../context.js';

/** `ca db check` (definition in db.ts). */
export async function runDbCheck(ctx: CliContext, args: HomeArgs): Promise<void> {
  // Takes the lock (and recovers crashed reservations) so it checks a quiescent database.
  return withCa(ctx, args, { command: 'db check', write: true }, async (ca) => {
    const r = checkDatabase(ca.store);
    if (r.problems.length > 0) {
      for (const p of r.problems) println(ctx, `PROBLEM ${p.what}: ${p.message}`);
      throw new DbError('INTEGRITY_CHECK_FAILED', `${r.problems.length} problem(s) found`, { hint: 'See the lines above; restore from backup or investigate before signing.' });
    }
    println(ctx, `database OK: ${r.certificates} certificates, ${r.crls} CRLs, ${r.auditRecords} audit records`);
    // A valid end state after a crash or card fault, not a problem: say so, by serial.
    for (const f of ca.store.orphanCrlTbsFiles()) {
      println(ctx, `note: crl-tbs/${f}: no CRL row names it, so cardca never reads it; the next \`ca crl\` removes one a crash left (a reservation that never committed: nothing was signed with it)`);
    }
    for (const c of ca.store.findCertificates({ status: 'outcome_unknown' })) {
      println(ctx, `note: certificate ${c.issuerName}/${c.serialHex} is outcome_unknown (the card may have signed it); it is listed on every CRL of ${c.issuerName} from now on (docs/ceremony-guide.md)`);
    }
  });
}
