import { copyFileSync, existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { isoUtc } from '../../ca/clock.js';
import { sha256Hex } from '../../common/sha256.js';
import { fsyncDirectory, fsyncPathSync } from '../../common/atomic-write.js';
import { APPLICATION_ID, newDatabase, openDatabase, type Db } from '../../db/database.js';
import { DbError } from '../../db/db-error.js';
import { copyCrlTbsFilesInto } from '../../db/crl-tbs-file.js';
import { verifyAuditChain } from '../../db/db-check.js';
import { auditHead, compareWithCheckpoint } from '../../db/checkpoint-compare.js';
import { acquireLock } from '../../db/lock-file.js';
import { MIGRATIONS } from '../../db/migrations.js';
import { SqliteStore } from '../../db/sqlite-store.js';
import { DB_FILE, homeClock, LOCK_FILE, resolveHome, withCa } from '../ca-context.js';
import { checkpointCopyFiles, insertedCardCheckpoints, loadCheckpointFile } from '../checkpoints.js';
import { eprintln, println, type CliContext } from '../context.js';
import { readHomeMode } from '../home-mode.js';
import type { BackupArgs, RestoreArgs } from './db.js';

/**
 * `ca db backup --out FILE` and `ca db restore FILE` (issue #8 item 3; ca-invariants.md G19).
 * A backup is SQLite's online backup of the live database (consistent while nothing else
 * writes: it runs under the CA-home lock), integrity-checked, fsynced and hashed into the audit
 * log. A restore refuses a file that is not a healthy cardca database of this home, and one
 * that is older than any checkpoint it can find — on inserted CA cards, in --checkpoint files,
 * and the copies beside the transcripts — with `DB_ROLLBACK`, naming what the backup lacks.
 */
/** Open a candidate backup read-only and check it is a healthy cardca database. */
export function inspectBackup(path: string): { store: SqliteStore; sha256: string; head: { seq: number; hash: string } } {
  if (!existsSync(path)) throw new DbError('DB_BACKUP_UNREADABLE', `no file ${path}`, { hint: 'Give the path of a file written by `ca db backup --out FILE`.' });
  let db: Db;
  try {
    db = newDatabase(path, { readonly: true, fileMustExist: true });
    db.pragma('schema_version'); // forces the header to be read: "file is not a database" surfaces here
  } catch (e) {
    throw new DbError('DB_BACKUP_INVALID', `${path} is not an SQLite database: ${(e as Error).message}`, { hint: 'Give a file written by `ca db backup`.' });
  }
  const fail = (code: string, message: string): never => {
    db.close();
    throw new DbError(code, `${path}: ${message}`, { hint: 'Do not restore this file. Use another backup, and compare this one with its recorded SHA-256 (`ca audit log`, event db.backup).' });
  };
  const appId = db.pragma('application_id', { simple: true }) as number;
  if (appId !== APPLICATION_ID) fail('DB_BACKUP_INVALID', `not a cardca database (application_id ${appId})`);
  const version = db.pragma('user_version', { simple: true }) as number;
  const latest = MIGRATIONS.reduce((m, x) => Math.max(m, x.version), 0);
  if (version > latest) fail('DB_TOO_NEW', `schema version ${version}; this cardca knows up to ${latest}`);
  const integrity = db.pragma('integrity_check') as { integrity_check: string }[];
  if (integrity.length !== 1 || integrity[0]?.integrity_check !== 'ok') fail('DB_BACKUP_CORRUPT', `integrity_check: ${integrity.map((x) => x.integrity_check).join('; ')}`);
  const store = new SqliteStore(db);
  const chain = verifyAuditChain(store);
  if (chain.problems.length > 0) fail('DB_BACKUP_TAMPERED', `its audit log is broken: ${chain.problems.slice(0, 5).map((p) => `${p.what}: ${p.message}`).join('; ')}`);
  return { store, sha256: sha256Hex(readFileSync(path)), head: auditHead(store) };
}

/** `ca db backup` (definition in db.ts). */
export async function runDbBackup(ctx: CliContext, args: BackupArgs): Promise<void> {
  return withCa(ctx, args, { command: 'db backup', write: true }, async (ca) => {
    const out = resolve(ctx.cwd, args.out);
    if (existsSync(out)) throw new DbError('DB_BACKUP_EXISTS', `${out} already exists`, { hint: 'Choose a new file name; a backup never overwrites another.' });
    const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
    try {
      await ca.store.db.backup(tmp);
      // Migration 11: TBS files beside the database go into the backup's crl_tbs (one self-contained file).
      const withFiles = newDatabase(tmp, { fileMustExist: true });
      try {
        copyCrlTbsFilesInto(withFiles, (id, h) => ca.store.crlTbs(id, h));
      } finally {
        withFiles.close();
      }
      fsyncPathSync(tmp);
      const b = inspectBackup(tmp);
      b.store.db.close();
      renameSync(tmp, out);
      await fsyncDirectory(dirname(out));
      const rec = ca.store.audit({ event: 'db.backup', data: { file: basename(out), sha256: b.sha256, auditSeq: b.head.seq, auditHead: b.head.hash, bytes: statSync(out).size } }, ca.clock.now());
      println(ctx, `backup written to ${out}`);
      println(ctx, `  SHA-256 ${b.sha256}, ${statSync(out).size} bytes, audit log up to #${b.head.seq} (recorded as audit #${rec.seq})`);
    } finally {
      rmSync(tmp, { force: true });
    }
  });
}

/** `ca db restore` (definition in db.ts). */
export async function runDbRestore(ctx: CliContext, args: RestoreArgs): Promise<void> {
  const home = resolveHome(ctx, args);
  const dbPath = join(home, DB_FILE);
  const src = resolve(ctx.cwd, args.file);
  const lock = await acquireLock(join(home, LOCK_FILE), Number(ctx.env['CA_LOCK_TIMEOUT_MS'] ?? 10_000));
  try {
    const b = inspectBackup(src);
    let replaced: string | undefined;
    try {
      const mode = readHomeMode(b.store);
      if (existsSync(dbPath)) {
        const cur = new SqliteStore(openDatabase(dbPath));
        try {
          const curMode = readHomeMode(cur);
          if (curMode.homeId !== mode.homeId) {
            throw new DbError('DB_BACKUP_FOREIGN', `${src} is a backup of CA home ${mode.homeId}, not of this one (${curMode.homeId})`, { hint: 'Check --home and the backup file.' });
          }
        } finally {
          cur.db.close();
        }
      }
      const copies = checkpointCopyFiles(home);
      const cps = [
        ...[...(args.checkpoint ?? []), ...copies].map((f) => loadCheckpointFile(ctx, f)),
        ...(await insertedCardCheckpoints(ctx, b.store, args)),
      ];
      const findings = cps.flatMap(({ cp, source }) => compareWithCheckpoint(b.store, mode.homeId, cp).map((f) => ({ ...f, source, cp })));
      const foreign = findings.filter((f) => f.kind === 'foreign');
      for (const f of foreign) eprintln(ctx, `note: ${f.source} is a checkpoint of another home; not used (${f.message})`);
      const stale = findings.filter((f) => f.kind !== 'foreign');
      if (stale.length > 0 && !args['allow-rollback']) {
        throw new DbError('DB_ROLLBACK', `the backup ${src} is older than a checkpoint: ${stale.map((f) => `${f.source} (${f.cp.reason}, ${f.cp.at}): ${f.message}`).join('; ')}`, {
          hint: 'Use a newer backup. Restoring this one would forget what the listed checkpoints prove happened (certificates, revocations, CRL numbers). Only if there is no newer one: --allow-rollback (recorded), then review `ca list` and re-revoke what is missing.',
          details: { findings: stale.map((f) => ({ kind: f.kind, source: f.source, message: f.message })) },
        });
      }
      // Swap the files: the current database (WAL folded in) is kept beside it, never deleted.
      const stamp = isoUtc(new Date()).replace(/[:.]/g, '');
      if (existsSync(dbPath)) {
        const cur = openDatabase(dbPath);
        cur.pragma('wal_checkpoint(TRUNCATE)');
        cur.close();
        replaced = `${dbPath}.before-restore-${stamp}`;
        renameSync(dbPath, replaced);
        for (const x of ['-wal', '-shm']) rmSync(`${dbPath}${x}`, { force: true });
      }
      const tmp = `${dbPath}.restore-${process.pid}.tmp`;
      copyFileSync(src, tmp);
      fsyncPathSync(tmp);
      renameSync(tmp, dbPath);
      await fsyncDirectory(home);
      const store = new SqliteStore(openDatabase(dbPath));
      try {
        const clock = homeClock(ctx, readHomeMode(store), store);
        const rec = store.audit(
          {
            event: 'db.restored',
            data: {
              file: basename(src), sha256: b.sha256, auditSeq: b.head.seq, replaced: replaced ? basename(replaced) : null,
              rollbackAllowed: stale.length > 0, findings: stale.map((f) => `${f.source}: ${f.message}`),
            },
          },
          clock.now(),
        );
        println(ctx, `restored ${src} (SHA-256 ${b.sha256}, audit log up to #${b.head.seq}) as ${dbPath} (audit #${rec.seq})`);
      } finally {
        store.db.close();
      }
      if (replaced) println(ctx, `  the previous database is kept as ${replaced}`);
      if (cps.length === 0) eprintln(ctx, 'warning: no checkpoint was available to compare with (insert a CA card and pass --pin-file, or --checkpoint FILE)');
      else println(ctx, `  checked against ${cps.length} checkpoint(s)${stale.length ? `; ROLLBACK allowed past ${stale.length} finding(s)` : ''}`);
    } finally {
      if (b.store.db.open) b.store.db.close();
    }
  } finally {
    lock.release();
  }
}

