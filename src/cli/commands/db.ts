import type { CommandModule } from 'yargs';
import { withCheckpointSources, withHome, type CardReadArgs, type HomeArgs } from '../command-options.js';
import type { CliContext } from '../context.js';

/**
 * `ca db check|backup|restore`. This module is only the commands' definitions (all
 * `ca db --help` loads); the handlers, with the database behind them, are db-run.ts and
 * db-backup-run.ts, imported when one runs (issue #14 item 1).
 */
export interface BackupArgs extends HomeArgs {
  out: string;
}

export interface RestoreArgs extends HomeArgs, CardReadArgs {
  file: string;
  'allow-rollback': boolean;
}

function checkCommand(ctx: CliContext): CommandModule<object, HomeArgs> {
  return {
    command: 'check',
    describe: 'integrity_check, every row against its DER and signature, audit chain, no reserved rows',
    builder: (y) => withHome(y) as never,
    handler: async (args) => (await import('./db-run.js')).runDbCheck(ctx, args),
  };
}

/** `ca db backup --out FILE` and `ca db restore FILE` (issue #8 item 3; ca-invariants.md G19): db-backup-run.ts says how. */
function backupCommand(ctx: CliContext): CommandModule<object, BackupArgs> {
  return {
    command: 'backup',
    describe: 'Online backup of the issuance database to FILE (integrity-checked, SHA-256 into the audit log)',
    builder: (y) =>
      withHome(y)
        .option('out', { type: 'string', demandOption: true, describe: 'backup file to create (refuses an existing file)' })
        .example('$0 db backup --out /media/backup/ca-20261201.db', 'after a ceremony: copy to the backup stick') as never,
    handler: async (args) => (await import('./db-backup-run.js')).runDbBackup(ctx, args),
  };
}

function restoreCommand(ctx: CliContext): CommandModule<object, RestoreArgs> {
  return {
    command: 'restore <file>',
    describe: 'Replace the database with a backup; refuses one older than any checkpoint (DB_ROLLBACK)',
    builder: (y) =>
      withCheckpointSources(withHome(y))
        .positional('file', { type: 'string', describe: 'a file written by `ca db backup`' })
        .option('allow-rollback', {
          type: 'boolean',
          default: false,
          describe: 'restore even a backup behind a checkpoint (recorded in the audit log; CRL numbers still never repeat)',
        })
        .example('$0 db restore /media/backup/ca-20261201.db --card DECM0102330001', 'restore, checked against the root card') as never,
    handler: async (args) => (await import('./db-backup-run.js')).runDbRestore(ctx, args),
  };
}

/** `ca db …`. */
export function dbCommand(ctx: CliContext): CommandModule<object, object> {
  return {
    command: 'db <action>',
    describe: 'Database maintenance',
    builder: (y) => y.command(checkCommand(ctx)).command(backupCommand(ctx)).command(restoreCommand(ctx)).demandCommand(1) as never,
    handler: () => undefined,
  };
}
