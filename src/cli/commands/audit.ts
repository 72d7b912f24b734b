import type { CommandModule } from 'yargs';
import { withCheckpointSources, withHome, type CardReadArgs, type HomeArgs } from '../command-options.js';
import type { CliContext } from '../context.js';

export interface AuditArgs extends HomeArgs, CardReadArgs {
  'skip-card-checkpoints'?: boolean;
  json: boolean;
  transcript?: string[];
}

function verifyCommand(ctx: CliContext): CommandModule<object, AuditArgs> {
  return {
    command: 'verify',
    describe: 'Recompute the audit hash chain; fails on any altered, missing or reordered record',
    builder: (y) =>
      withCheckpointSources(withHome(y))
        .option('transcript', {
          type: 'string',
          array: true,
          describe: 'also check this ceremony transcript copy (.md or .html) against its SHA-256 in the audit log (repeatable)',
        })
        .option('skip-card-checkpoints', {
          type: 'boolean',
          describe:
            'do not read the checkpoints on inserted CA cards (their PIN is needed); without it a run with no terminal and no --pin-file fails (USAGE_CHECKPOINT_PIN_REQUIRED, exit 2) when such a card is inserted. Each skipped card is named in a WARNING',
        })
        .example('$0 audit verify', 'check the hash chain of the whole audit log')
        .example('$0 audit verify --card DECM0102330001', 'also compare with the checkpoint on that card (PIN prompt)')
        .example('$0 audit verify --checkpoint binder/checkpoint-DECM0102330001.json', 'compare with a checkpoint copy')
        .example('$0 audit verify --transcript binder/ceremony-20261127T100000Z-root-root.html', 'check a printed/archived transcript copy')
        .epilogue(
          'Exit 0: intact (and every --transcript matches). Exit 2: USAGE_CHECKPOINT_PIN_REQUIRED (an inserted CA card could not be read: no terminal, no --pin-file; see --skip-card-checkpoints). Exit 11: AUDIT_CHAIN_BROKEN, AUDIT_TRANSCRIPT_MISMATCH or AUDIT_TRANSCRIPT_UNKNOWN. ' +
            'Exit 14: the database is behind a checkpoint (CHECKPOINT_BEHIND: truncated or rolled back), disagrees with it (CHECKPOINT_MISMATCH: rewritten), ' +
            'or the checkpoint is of another home (CHECKPOINT_FOREIGN) or not a checkpoint (CHECKPOINT_MALFORMED).',
        ) as never,
    handler: async (args) => (await import('./audit-run.js')).runVerify(ctx, args),
  };
}

function showLog(ctx: CliContext): CommandModule<object, AuditArgs> {
  return {
    command: 'log',
    describe: 'Print the audit log',
    builder: (y) =>
      withHome(y)
        .option('json', { type: 'boolean', default: false, describe: 'JSON output (hashes in hex)' })
        .example('$0 audit log --json | jq \'.[] | select(.event == "transcript.written")\'', 'the recorded transcript hashes') as never,
    handler: async (args) => (await import('./audit-run.js')).runShowLog(ctx, args),
  };
}

/** `ca audit verify|log`. */
export function auditCommand(ctx: CliContext): CommandModule<object, object> {
  return {
    command: 'audit <action>',
    describe: 'Check or print the hash-chained audit log',
    builder: (y) =>
      y
        .command(verifyCommand(ctx))
        .command(showLog(ctx))
        .demandCommand(1)
        .example('$0 audit verify --transcript ceremony.html', 'check the log and a transcript copy') as never,
    handler: () => undefined,
  };
}
