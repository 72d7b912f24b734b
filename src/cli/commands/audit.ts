import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { sha256Hex } from '../../ca/transcript.js';
import type { AuditRecord } from '../../ca/store.js';
import { DbError } from '../../db/db-error.js';
import { verifyAuditChain } from '../../db/db-check.js';
import { withCa, withHome, type HomeArgs } from '../ca-context.js';
import { insertedCardCheckpoints, loadCheckpointFile, withCheckpointSources, type CardReadArgs } from '../checkpoints.js';
import { assertMatchesCheckpoints } from '../../db/checkpoint-compare.js';
import { println, type CliContext } from '../context.js';
import { transcriptEntries } from '../transcript-writer.js';

interface AuditArgs extends HomeArgs, CardReadArgs {
  'skip-card-checkpoints'?: boolean;
  json: boolean;
  transcript?: string[];
}

/**
 * Checks a binder copy of a ceremony transcript against the `transcript.written` audit records:
 * its SHA-256 must be one recorded there. Returns the line to print; throws
 * `AUDIT_TRANSCRIPT_MISMATCH` (the file name is recorded, its content differs) or
 * `AUDIT_TRANSCRIPT_UNKNOWN` (neither name nor hash is recorded).
 */
export function checkTranscript(store: { auditRecords(): AuditRecord[] }, path: string, bytes: Uint8Array): string {
  const sha = sha256Hex(bytes);
  const name = basename(path);
  let sameName: number | undefined;
  for (const r of store.auditRecords()) {
    for (const f of transcriptEntries(r)) {
      if (f.sha256.toLowerCase() === sha) {
        const ceremony = (r.data as { ceremony?: unknown }).ceremony;
        return `${path}: matches audit record #${r.seq} (${f.name}${r.ca ? `, CA ${r.ca}` : ''}${ceremony !== undefined ? `, ceremony #${String(ceremony)}` : ''}, recorded ${r.at}), SHA-256 ${sha}`;
      }
      if (f.name === name) sameName ??= r.seq;
    }
  }
  if (sameName !== undefined) {
    throw new DbError('AUDIT_TRANSCRIPT_MISMATCH', `${path} does not match audit record #${sameName}: the file was changed after the ceremony (SHA-256 ${sha})`, {
      hint: 'Do not rely on this copy. Compare it with HOME/ceremonies/ and the archived originals; the audit log holds the hashes of the files as written.',
      details: { path, sha256: sha, auditSeq: sameName },
    });
  }
  throw new DbError('AUDIT_TRANSCRIPT_UNKNOWN', `${path} is not a transcript recorded in this CA's audit log (SHA-256 ${sha})`, {
    hint: 'Check --home points at the CA that ran the ceremony and that this is the .md or .html file cardca wrote (see `ca audit log` for transcript.written records).',
    details: { path, sha256: sha },
  });
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
    handler: async (args) =>
      withCa(ctx, args, { command: 'audit verify', write: false }, async (ca) => {
        const r = verifyAuditChain(ca.store);
        if (r.problems.length > 0) {
          throw new DbError('AUDIT_CHAIN_BROKEN', `audit log is broken: ${r.problems.map((p) => `${p.what}: ${p.message}`).join('; ')}`, {
            hint: 'The database was altered outside cardca. Keep a copy, compare with the backups, and investigate before signing anything.',
          });
        }
        const skipped: string[] = [];
        // Files first: a database behind a binder copy is reported (exit 14) even when a card cannot be read.
        const files = (args.checkpoint ?? []).map((f) => loadCheckpointFile(ctx, f));
        assertMatchesCheckpoints(ca.store, ca.mode.homeId, files);
        const cps = [...files, ...(await insertedCardCheckpoints(ctx, ca.store, args, { onUnreadable: 'refuse', skip: args['skip-card-checkpoints'] === true, skipped }))];
        assertMatchesCheckpoints(ca.store, ca.mode.homeId, cps);
        println(ctx, `audit log intact: ${r.records} records, head ${r.head}${skipped.length > 0 ? ` (card checkpoints NOT checked: ${skipped.join(', ')})` : ''}`);
        for (const { cp, source } of cps) println(ctx, `  matches the checkpoint from ${source}: audit #${cp.auditSeq} (${cp.reason}, ${cp.at}); the database is ${r.records - cp.auditSeq} record(s) past it`);
        for (const t of args.transcript ?? []) {
          const path = resolve(ctx.cwd, t);
          let bytes: Uint8Array;
          try {
            bytes = readFileSync(path);
          } catch (e) {
            throw new DbError('AUDIT_TRANSCRIPT_UNREADABLE', `cannot read ${path}: ${(e as Error).message}`, { hint: 'Give the path of a transcript file (.md or .html).' });
          }
          println(ctx, checkTranscript(ca.store, t, bytes));
        }
      }),
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
    builder: (y) =>
      y
        .command(verifyCommand(ctx))
        .command(showLog(ctx))
        .demandCommand(1)
        .example('$0 audit verify --transcript ceremony.html', 'check the log and a transcript copy') as never,
    handler: () => undefined,
  };
}
