import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { sha256Hex } from '../../common/sha256.js';
import type { AuditRecord } from '../../ca/store.js';
import { DbError } from '../../db/db-error.js';
import { verifyAuditChain } from '../../db/db-check.js';
import { withCa } from '../ca-context.js';
import { insertedCardCheckpoints, loadCheckpointFile } from '../checkpoints.js';
import { assertMatchesCheckpoints } from '../../db/checkpoint-compare.js';
import { println, type CliContext } from '../context.js';
import { transcriptEntries } from '../transcript-writer.js';
import type { AuditArgs } from './audit.js';

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

// `ca audit`'s handlers; the definitions are audit.ts, what `--help` loads.

export async function runVerify(ctx: CliContext, args: AuditArgs): Promise<void> {
  await withCa(ctx, args, { command: 'audit verify', write: false }, async (ca) => {
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
  });
}

export async function runShowLog(ctx: CliContext, args: AuditArgs): Promise<void> {
  await withCa(ctx, args, { command: 'audit log', write: false }, async (ca) => {
    const recs = ca.store.auditRecords();
    if (args.json) println(ctx, JSON.stringify(recs.map((r) => ({ ...r, prevHash: Buffer.from(r.prevHash).toString('hex'), hash: Buffer.from(r.hash).toString('hex') })), null, 2));
    else for (const r of recs) println(ctx, `#${r.seq} ${r.at} ${r.event}${r.ca ? ` [${r.ca}]` : ''} ${JSON.stringify(r.data)}`);
  });
}
