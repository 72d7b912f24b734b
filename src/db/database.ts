import type BetterSqlite3 from 'better-sqlite3';
import { createRequire } from 'node:module';
import { DbError } from './db-error.js';
import { latestVersion, MIGRATIONS, type Migration } from './migrations.js';

export type Db = BetterSqlite3.Database;
type DatabaseOptions = BetterSqlite3.Options;

let addonPath: string | null | undefined;
let databaseClass: typeof BetterSqlite3 | undefined;

/**
 * A better-sqlite3 connection. The package is CommonJS, and is required as CommonJS on first
 * use instead of imported: an `import` from the CLI's ES module bundle goes through the ESM
 * loader's CommonJS interop (15–18 ms for the package alone, against 7–9 ms for require()); in a
 * whole `ca status` the difference is 2–3 ms of ≈ 200 (docs/benchmarks.md, 2026-12-04). The
 * native addon is given by path (sqliteNativeBinding).
 */
export function newDatabase(path: string, options: DatabaseOptions = {}): Db {
  databaseClass ??= createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  return new databaseClass(path, { ...options, ...sqliteNativeBinding() });
}

/**
 * better-sqlite3's native addon, found once by Node's resolver. Without `nativeBinding`
 * better-sqlite3 asks the `bindings` package, which builds stack traces and probes about ten
 * candidate paths with stat calls in every process (≈ 5–10 ms of each `ca` command,
 * docs/benchmarks.md). When the file is not where the package puts it (another build layout),
 * undefined: better-sqlite3 then searches as before.
 */
function sqliteNativeBinding(): { nativeBinding?: string } {
  if (addonPath === undefined) {
    try {
      addonPath = createRequire(import.meta.url).resolve('better-sqlite3/build/Release/better_sqlite3.node');
    } catch {
      addonPath = null;
    }
  }
  return addonPath === null ? {} : { nativeBinding: addonPath };
}

/** Application id written into the SQLite header (`PRAGMA application_id`): "cCA1". */
export const APPLICATION_ID = 0x63434131;

/**
 * Open (or create) the issuance database: WAL, `synchronous=FULL`, `foreign_keys=ON`, each
 * read back and asserted (a pragma SQLite silently ignores would otherwise weaken durability
 * without anyone noticing), then the forward-only migrations.
 */
export function openDatabase(path: string, options: { create?: boolean; migrations?: readonly Migration[] } = {}): Db {
  let db: Db;
  try {
    db = newDatabase(path, { fileMustExist: options.create !== true, timeout: 10_000 });
  } catch (e) {
    throw new DbError('DB_OPEN_FAILED', `cannot open the database ${path}: ${(e as Error).message}`, {
      hint: options.create ? 'Check that the directory exists and is writable.' : 'Run `ca init` first, or point --home / CA_HOME at the CA home.',
      cause: e,
    });
  }
  try {
    configure(db, path);
    migrate(db, options.migrations ?? MIGRATIONS);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

function configure(db: Db, path: string): void {
  const memory = path === ':memory:';
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  // SQLite's own default page cache (2 MB) instead of the 16 MB better-sqlite3 compiles in
  // (deps/defines.gypi SQLITE_DEFAULT_CACHE_SIZE=-16000). A `ca` process is short-lived and reads
  // most pages once, so a larger cache keeps nothing it reads again, but filling it costs a fresh
  // heap page and its page fault per 4 KB page read: `ca list --expiring 30d` over 2,000,000
  // certificates spent 55 ms of system time in its query faulting in the 16 MB, 13 ms with 2 MB
  // (docs/benchmarks.md, 2026-12-04). The generator of the scale bench sets its own larger cache.
  db.pragma('cache_size = -2000');
  assertPragmas(db, memory);
  const appId = db.pragma('application_id', { simple: true }) as number;
  if (appId !== 0 && appId !== APPLICATION_ID) {
    throw new DbError('DB_NOT_CARDCA', `${path} is not a cardca database (application_id ${appId})`, { hint: 'Point --home at a CA home created by `ca init`.' });
  }
}

/** Read the durability pragmas back; refuse to work with anything weaker. */
export function assertPragmas(db: Db, memory = false): void {
  const journal = String(db.pragma('journal_mode', { simple: true }));
  const sync = Number(db.pragma('synchronous', { simple: true }));
  const fk = Number(db.pragma('foreign_keys', { simple: true }));
  // An in-memory database cannot use WAL (it reports "memory"); everything else must.
  const journalOk = memory ? journal === 'memory' || journal === 'wal' : journal === 'wal';
  if (!journalOk || sync !== 2 || fk !== 1) {
    throw new DbError('DB_PRAGMA_MISMATCH', `database pragmas are not as required: journal_mode=${journal} synchronous=${sync} foreign_keys=${fk}`, {
      hint: 'cardca needs journal_mode=wal, synchronous=FULL (2) and foreign_keys=ON; check the file system supports WAL (no network mounts).',
    });
  }
}

function migrate(db: Db, migrations: readonly Migration[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = latestVersion(migrations);
  if (current > latest) {
    throw new DbError('DB_TOO_NEW', `the database schema is version ${current}; this cardca knows up to ${latest}`, {
      hint: 'Use the cardca version that last wrote this database (migrations are forward-only).',
    });
  }
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
      if (m.version === 1) db.pragma(`application_id = ${APPLICATION_ID}`);
      db.exec('COMMIT');
    } catch (e) {
      db.exec('ROLLBACK');
      throw new DbError('DB_MIGRATION_FAILED', `migration ${m.version} (${m.name}) failed: ${(e as Error).message}`, { cause: e });
    }
  }
}

/** Run `fn` in a `BEGIN IMMEDIATE` transaction (takes the write lock up front: no upgrade deadlocks). */
export function writeTransaction<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}

/**
 * Whether opening `path` would run a migration. A read-only command then takes the CA-home
 * lock for the open, so a migration never races a writer (issue #8 item 7).
 */
export function needsMigration(path: string, migrations: readonly Migration[] = MIGRATIONS): boolean {
  let db: Db | undefined;
  try {
    db = newDatabase(path, { readonly: true, fileMustExist: true });
    const current = db.pragma('user_version', { simple: true }) as number;
    return current < latestVersion(migrations);
  } catch {
    return false; // unreadable: openDatabase reports it properly
  } finally {
    db?.close();
  }
}
