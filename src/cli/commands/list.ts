import type { CommandModule } from 'yargs';
import type { CertificateStatus } from '../../ca/store.js';
import { withHome, type HomeArgs } from '../command-options.js';
import type { CliContext } from '../context.js';

export interface ListArgs extends HomeArgs {
  issuer?: string;
  status?: string;
  expiring?: string;
  card?: string;
  json: boolean;
}

const STATUSES: CertificateStatus[] = ['reserved', 'issued', 'revoked', 'outcome_unknown', 'abandoned'];

/** `ca list`: certificates in the database. */
export function listCommand(ctx: CliContext): CommandModule<object, ListArgs> {
  return {
    command: 'list',
    describe: 'List certificates (filter by issuer, status, expiry)',
    builder: (y) =>
      withHome(y)
        .option('issuer', { type: 'string', describe: 'only this CA' })
        .option('status', { type: 'string', choices: STATUSES, describe: 'only this status' })
        .option('expiring', { type: 'string', describe: 'only valid certificates expiring within this span (e.g. 30d)' })
        .option('card', { type: 'string', describe: "only certificates enrolled on this user token's keys (`ca enroll`)" })
        .option('json', { type: 'boolean', default: false, describe: 'JSON output' }) as never,
    handler: async (args) => (await import('./list-run.js')).runList(ctx, args),
  };
}
