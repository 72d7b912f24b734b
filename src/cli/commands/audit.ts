import type { CommandModule } from 'yargs';
import { DbError } from '../../db/db-error.js';
import { verifyAuditChain } from '../../db/db-check.js';
import { withCa, withHome, type HomeArgs } from '../ca-context.js';
import { println, type CliContext } from '../context.js';

interface AuditArgs extends HomeArgs {
  json: boolean;
}

function verifyCommand(ctx: CliContext): CommandModule<object, AuditArgs> {
  return {
    command: 'verify',
    describe: 'Recompute the audit hash chain; fails on any altered, missing or reordered record',
    builder: (y) => withHome(y) as never,
    handler: async (args) =>
      withCa(ctx, args, { command: 'audit verify', write: false }, async (ca) => {
        const r = verifyAuditChain(ca.store);
        if (r.problems.length > 0) {
          throw new DbError('AUDIT_CHAIN_BROKEN', `audit log is broken: ${r.problems.map((p) => `${p.what}: ${p.message}`).join('; ')}`, {
            hint: 'The database was altered outside cardca. Keep a copy, compare with the backups, and investigate before signing anything.',
          });
        }
        println(ctx, `audit log intact: ${r.records} records, head ${r.head}`);
      }),
  };
}

function showLog(ctx: CliContext): CommandModule<object, AuditArgs> {
  return {
    command: 'log',
    describe: 'Print the audit log',
    builder: (y) => withHome(y).option('json', { type: 'boolean', default: false }) as never,
    handler: async (args) =>
      withCa(ctx, args, { command: 'audit log', write: false }, async (ca) => {
        const recs = ca.store.auditRecords();
        if (args.json) println(ctx, JSON.stringify(recs.map((r) => ({ ...r, prevHash: Buffer.from(r.prevHash).toString('hex'), hash: Buffer.from(r.hash).toString('hex') })), null, 2));
        else for (const r of recs) println(ctx, `#${r.seq} ${r.at} ${r.event}${r.ca ? ` [${r.ca}]` : ''} ${JSON.stringify(r.data)}`);
      }),
  };
}

/** `ca audit verify|log`. */
export function auditCommand(ctx: CliContext): CommandModule<object, object> {
  return {
    command: 'audit <action>',
    describe: 'Check or print the hash-chained audit log',
    builder: (y) => y.command(verifyCommand(ctx)).command(showLog(ctx)).demandCommand(1) as never,
    handler: () => undefined,
  };
}
