/**
 * Crash-safe file writes for exports, transcripts and other artefacts.
 *
 * The sequence is the classic POSIX one: write a temp file in the *same* directory (rename(2)
 * is only atomic within one file system), fsync it, rename it over the target, then fsync the
 * directory so the new directory entry itself is durable. A reader therefore sees either the
 * old file or the complete new one, never a torn one, and "success" is only reported after
 * the data and the name are on stable storage (ca-invariants.md §3.2, "Disk full" and
 * "Power loss" rows; G2/G4).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants as fsConstants, fchmodSync, fsync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { basename, dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { CardcaError } from './cardca-error.js';
import { processExists } from './process-alive.js';

/** Mode for public artefacts (certificates, CRLs, bundles, transcripts). */
export const PUBLIC_FILE_MODE = 0o644;

export class AtomicWriteError extends CardcaError {}

export interface AtomicWriteOptions {
  /** File mode of the final file (default 0644). Applied explicitly, so the umask cannot widen or narrow it. */
  mode?: number;
  /** Create missing parent directories (mode 0755). Default false. */
  mkdirs?: boolean;
}

/** One file of a set written by {@link writeFilesAtomically}. `path` is relative to the target directory. */
export interface FileToWrite {
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly mode?: number;
}

/**
 * What a file is written from: bytes, a string (UTF-8), or pieces written in order, each written
 * before the next is taken (a piece may reuse the previous one's memory: chain.ts pemEncodePieces).
 */
export type FileData = Uint8Array | string | Iterable<Uint8Array>;

/**
 * Writes `data` to `path` atomically and durably.
 * On any failure the temp file is removed and the previous content of `path` (if any) is left
 * untouched; the error is an {@link AtomicWriteError} with code `FS_WRITE_FAILED`.
 */
export async function writeFileAtomic(
  path: string,
  data: FileData,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const dir = dirname(path);
  if (options.mkdirs) await mkdirDurable(dir);
  await removeStaleTemps(dir);
  const t = writeTemp(path, data, options.mode ?? PUBLIC_FILE_MODE);
  let renamed = false;
  try {
    try {
      await fsyncFd(t.fd);
    } finally {
      closeSync(t.fd);
    }
    await rename(t.tmp, path);
    renamed = true;
    await fsyncDirectory(dir);
  } catch (e) {
    if (!renamed) await rm(t.tmp, { force: true }).catch(() => undefined);
    throw writeFailed(path, e);
  }
}

/** A temp file written completely but not yet fsynced, its descriptor still open. */
interface TempFile {
  readonly path: string;
  readonly tmp: string;
  readonly fd: number;
}

/**
 * fsync(2) of a file or directory by path, synchronously: for a write that must be durable inside
 * a better-sqlite3 transaction (the CRL's TBS file, db backup), where nothing may be awaited.
 */
export function fsyncPathSync(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync(2) on the libuv thread pool: the one step of a write that waits for the disk. */
const fsyncFd = promisify(fsync);

/**
 * Write `data` to a new temp file next to `path` (same directory: rename(2) is only atomic
 * within one file system), mode set explicitly. No fsync: the caller syncs before the rename.
 * On failure the temp file is gone and the error is `FS_WRITE_FAILED`.
 *
 * Synchronous on purpose: create, write and chmod of a small file only touch the page cache
 * (microseconds each), while the same calls through fs/promises are three thread-pool round
 * trips, measured at 0.6–1 ms per certificate file in a 200-CSR `ca sign` on the shared machine
 * (docs/benchmarks.md "Batches, fourth pass"). Only the fsyncs, which wait for the disk, stay
 * asynchronous (and run in parallel in {@link AtomicFileBatch.flush}).
 */
function writeTemp(path: string, data: FileData, mode: number): TempFile {
  const pieces: Iterable<Uint8Array> = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  // Hidden, unique, same directory: never collides with a real artefact name and is easy to
  // recognise (and clean up) if the process is killed between write and rename.
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    // O_EXCL: never follow or reuse something already at the temp name.
    fd = openSync(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, mode);
    for (const bytes of pieces) {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    }
    fchmodSync(fd, mode);
    return { path, tmp, fd };
  } catch (e) {
    if (fd !== undefined) {
      closeQuietly(fd);
      rmSync(tmp, { force: true });
    }
    throw writeFailed(path, e);
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    /* already closed, or nothing more to say than the error being reported */
  }
}

function writeFailed(path: string, e: unknown): AtomicWriteError {
  return new AtomicWriteError('FS_WRITE_FAILED', `could not write ${path}: ${(e as Error).message}`, {
    hint: 'Check free space, permissions and that the target directory exists; the previous file (if any) is unchanged.',
    cause: e,
    details: { path, errno: (e as NodeJS.ErrnoException).code },
  });
}

/**
 * Many files, each written atomically as by {@link writeFileAtomic}, with the fsyncs shared
 * (issue #14 item 2: `ca sign` of a batch). `write` puts the bytes into a temp file next to
 * the target and nothing more; `flush` then fsyncs every pending temp file (in parallel: the
 * disk serves them together, ≈ 0.5 ms per file against ≈ 1.8 ms one after the other), renames
 * them onto their targets in the order written (the same target twice: the later write wins,
 * as with writeFileAtomic in sequence), and fsyncs each target directory once.
 *
 * What a crash or power loss can leave is what writeFileAtomic can: every file under its final
 * name was fsynced before it was renamed there, so a final name never holds a torn or empty file;
 * an unflushed write is only a hidden temp file, removed by the next write into that directory
 * ({@link removeStaleTemps}). What changes is *when* a file is durable: at `flush`, not at
 * `write`, so a caller reports success only after `flush` returned. A write or a flush that
 * fails throws `FS_WRITE_FAILED`; the files renamed before the failure stay, their directories
 * fsynced as far as possible, and no temp file of the batch is left behind.
 *
 * At most `maxPending` files wait (their handles are open until the flush): the next write
 * flushes first, so a batch of any size keeps a bounded number of descriptors.
 */
export class AtomicFileBatch {
  readonly #maxPending: number;
  #pending: TempFile[] = [];
  /** Directories already created durably / cleaned of stale temps by this batch. */
  readonly #prepared = new Set<string>();

  constructor(options: { maxPending?: number } = {}) {
    this.#maxPending = Math.max(1, options.maxPending ?? 64);
  }

  /** Files written and not yet flushed. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Write `data` for `path` (not durable, not under its name yet: see {@link flush}). */
  async write(path: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): Promise<void> {
    if (this.#pending.length >= this.#maxPending) await this.flush();
    const dir = dirname(path);
    const key = `${options.mkdirs ? 'm' : '-'}${dir}`;
    if (!this.#prepared.has(key)) {
      if (options.mkdirs) await mkdirDurable(dir);
      // One readdir per directory and batch, not per file: a stale temp is another (dead)
      // process's, and none can appear in the middle of this one's batch.
      await removeStaleTemps(dir);
      this.#prepared.add(key);
    }
    this.#pending.push(writeTemp(path, data, options.mode ?? PUBLIC_FILE_MODE));
  }

  /** Make every pending file durable under its final name; returns their paths, in write order. */
  async flush(): Promise<string[]> {
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return [];
    const renamedDirs = new Set<string>();
    let k = 0;
    let closed = false;
    try {
      // Data first, every file; a failed fsync fails the batch before any rename.
      const synced = await Promise.allSettled(batch.map((t) => fsyncFd(t.fd)));
      for (const t of batch) closeQuietly(t.fd);
      closed = true;
      const bad = synced.findIndex((r) => r.status === 'rejected');
      if (bad >= 0) {
        k = bad;
        throw (synced[bad] as PromiseRejectedResult).reason;
      }
      // rename(2) is a metadata update in the page cache: synchronous, in write order (the
      // directory fsync below makes the names durable).
      for (; k < batch.length; k++) {
        renameSync(batch[k]!.tmp, batch[k]!.path);
        renamedDirs.add(dirname(batch[k]!.path));
      }
      await Promise.all([...renamedDirs].map((d) => fsyncDirectory(d)));
      return batch.map((t) => t.path);
    } catch (e) {
      if (!closed) for (const t of batch) closeQuietly(t.fd);
      await Promise.allSettled(batch.map((t) => rm(t.tmp, { force: true })));
      await Promise.allSettled([...renamedDirs].map((d) => fsyncDirectory(d)));
      throw writeFailed(batch[k]?.path ?? batch[0]!.path, e);
    }
  }

  /** Drop every pending file (temp files removed, targets untouched). */
  async discard(): Promise<void> {
    const batch = this.#pending;
    this.#pending = [];
    for (const t of batch) closeQuietly(t.fd);
    await Promise.allSettled(batch.map((t) => rm(t.tmp, { force: true })));
  }
}

/** `.NAME.PID.RANDOM.tmp`, as written by {@link writeFileAtomic}. */
const TEMP_NAME = /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/;

/**
 * A write killed between create and rename leaves its temp file behind; the next write into
 * the same directory removes every such file whose process is gone (issue #8 item 8). A temp
 * file of a live process (another writer, right now) is left alone.
 */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const m = TEMP_NAME.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processExists(pid)) continue;
    await rm(join(dir, n), { force: true }).catch(() => undefined);
    removed.push(n);
  }
  return removed;
}

/**
 * Writes a set of files below `dir`, each one atomically (see {@link writeFileAtomic}).
 * The set as a whole is not atomic: if file k fails, files < k are already in place. Paths are
 * checked first, so a bad path (absolute, `..`) fails before anything is written.
 * Returns the absolute paths written, in input order.
 */
export async function writeFilesAtomically(dir: string, files: readonly FileToWrite[]): Promise<string[]> {
  const targets = files.map((f) => join(dir, safeRelativePath(f.path)));
  const written: string[] = [];
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    const target = targets[i]!;
    await writeFileAtomic(target, f.bytes, { mode: f.mode ?? PUBLIC_FILE_MODE, mkdirs: true });
    written.push(target);
  }
  return written;
}

/** fsync a directory so that entries created/renamed in it survive a power loss. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** mkdir -p, then fsync each created directory's parent so the new entries are durable. */
async function mkdirDurable(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: 0o755 });
  if (first === undefined) return;
  // `first` is the top-most directory created; fsync from its parent down to `dir`'s parent.
  let d = dir;
  const parents: string[] = [];
  while (d.length >= first.length) {
    parents.push(dirname(d));
    if (d === first) break;
    d = dirname(d);
  }
  for (const p of parents.reverse()) await fsyncDirectory(p);
}

function safeRelativePath(p: string): string {
  const n = normalize(p);
  if (p === '' || isAbsolute(p) || n === '..' || n.startsWith(`..${sep}`) || n.split(sep).includes('..')) {
    throw new AtomicWriteError('FS_PATH_INVALID', `refusing to write outside the target directory: ${JSON.stringify(p)}`, {
      hint: 'Export file names must be relative paths without "..".',
    });
  }
  return n;
}
