import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sha256 } from '../common/sha256.js';
import { bytesEqual, toHex } from '../common/hex.js';
import { fsyncPathSync } from '../common/atomic-write.js';
import { DbError } from './db-error.js';

/**
 * Migration 11 (issue #14 item 3): the TBS of a CRL in a file of its own beside the database,
 * written and fsynced (file, then its directory) inside the intent's transaction before that
 * transaction commits, instead of a 49 MB SQLite insert (a million entries: ≈ 0.8 s CPU and
 * 1–2 s wall in SQLite's page and WAL-frame handling, against ≈ 0.15 s CPU for write + fsync;
 * docs/benchmarks.md "fourth pass"). So the intent is as strong as it was: when the row that
 * reserves the number commits, the exact TBS it names is on stable storage (POSIX fsync(2) of
 * the file, and of the directory for its name), and the card is asked only after the commit.
 * A crash between the fsync and the commit leaves a file no row names: harmless (the number
 * was not reserved, nothing was signed); the next reservation removes every such file before it
 * writes its own (sqlite-store.ts), and `ca db check` notes any it finds (`orphanCrlTbsFiles`).
 *
 * The row `crl_tbs_files (crl_id, length)` says the TBS is in the file; `crls.tbs_sha256`
 * names it and is checked on every read, so a changed or truncated file is refused, never
 * served (`ca db check` names it). `ca db backup` copies every such TBS into the backup's
 * `crl_tbs` (one self-contained file, as before); a TBS in `crl_tbs` is preferred on read.
 */
export const CRL_TBS_DIR = 'crl-tbs';

export const crlTbsFileName = (crlId: number, tbsSha256: Uint8Array): string => `${crlId}-${toHex(tbsSha256).toLowerCase()}.tbs`;

/** Write `tbs` durably as `dir/name` (synchronous: it runs inside a better-sqlite3 transaction). */
export function writeCrlTbsFile(dir: string, name: string, tbs: Uint8Array): string {
  if (!existsSync(dir)) {
    mkdirSync(dir, { mode: 0o700 });
    fsyncPathSync(dirname(dir)); // the new directory's entry in the CA home
  }
  const path = join(dir, name);
  const fd = openSync(path, 'w', 0o600);
  try {
    for (let off = 0; off < tbs.length; ) off += writeSync(fd, tbs, off, tbs.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  fsyncPathSync(dir); // the file's name
  return path;
}

/** `crlTbsFileName`'s shape: the row id and the TBS's SHA-256. */
export const isCrlTbsFileName = (f: string): boolean => /^[1-9][0-9]*-[0-9a-f]{64}\.tbs$/.test(f);

/**
 * The files in `dir` whose names are not in `named` (the `crlTbsFileName` of every committed
 * row): left by a crash between a TBS file's fsync and the commit of its reservation, or put
 * there by hand.
 */
export function orphanCrlTbsFiles(dir: string, named: ReadonlySet<string>): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => !named.has(f)).sort();
}

/** Best effort, for a transaction that rolls back after writing the file (no row names it). */
export function removeCrlTbsFile(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    /* an orphan is harmless: no row names it */
  }
}

/** Read a TBS file back, refusing anything but exactly the bytes the row names. */
export function readCrlTbsFile(dir: string, crlId: number, length: number, tbsSha256: Uint8Array): Uint8Array {
  const path = join(dir, crlTbsFileName(crlId, tbsSha256));
  let b: Buffer;
  try {
    b = readFileSync(path);
  } catch (e) {
    throw new DbError('STORE_CRL_TBS_MISSING', `the TBS file of CRL row ${crlId} cannot be read: ${(e as Error).message}`, { hint: 'Restore the CA home’s crl-tbs directory (or the database from a backup); run `ca db check`.' });
  }
  if (b.length !== length || !bytesEqual(sha256(b), tbsSha256)) {
    throw new DbError('STORE_CRL_TBS_MISMATCH', `the TBS file of CRL row ${crlId} (${path}) is not the TBS its intent stored`, { hint: 'Run `ca db check`; restore the file from a backup.' });
  }
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * `ca db backup`: copy the TBS of every CRL whose TBS is in a file into the backup's own
 * `crl_tbs`, so a backup stays one self-contained database (a restore does not need the
 * home's crl-tbs directory). `read` is the live store's checked reader (SqliteStore.crlTbs).
 */
export function copyCrlTbsFilesInto(
  backup: import('better-sqlite3').Database,
  read: (crlId: number, tbsSha256: Uint8Array) => Uint8Array | undefined,
): number {
  const rows = backup
    .prepare('SELECT f.crl_id, l.tbs_sha256 FROM crl_tbs_files f JOIN crls l ON l.id = f.crl_id WHERE NOT EXISTS (SELECT 1 FROM crl_tbs t WHERE t.crl_id = f.crl_id) ORDER BY f.crl_id')
    .all() as { crl_id: number; tbs_sha256: Buffer }[];
  const insert = backup.prepare('INSERT INTO crl_tbs (crl_id, tbs) VALUES (?,?)');
  for (const r of rows) {
    const tbs = read(r.crl_id, new Uint8Array(r.tbs_sha256));
    if (!tbs) throw new DbError('STORE_CRL_TBS_MISSING', `CRL row ${r.crl_id} has no TBS to back up`, { hint: 'Run `ca db check`.' });
    backup.transaction(() => insert.run(r.crl_id, Buffer.from(tbs.buffer, tbs.byteOffset, tbs.byteLength))).immediate();
  }
  return rows.length;
}
