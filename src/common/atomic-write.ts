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
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
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
 * Writes `data` to `path` atomically and durably.
 * On any failure the temp file is removed and the previous content of `path` (if any) is left
 * untouched; the error is an {@link AtomicWriteError} with code `FS_WRITE_FAILED`.
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const mode = options.mode ?? PUBLIC_FILE_MODE;
  const dir = dirname(path);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (options.mkdirs) await mkdirDurable(dir);
  await removeStaleTemps(dir);
  // Hidden, unique, same directory: never collides with a real artefact name and is easy to
  // recognise (and clean up) if the process is killed between write and rename.
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let renamed = false;
  try {
    // O_EXCL: never follow or reuse something already at the temp name.
    const fh = await open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, mode);
    try {
      let off = 0;
      while (off < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, off, bytes.length - off);
        off += bytesWritten;
      }
      await fh.chmod(mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    renamed = true;
    await fsyncDirectory(dir);
  } catch (e) {
    if (!renamed) await rm(tmp, { force: true }).catch(() => undefined);
    throw new AtomicWriteError('FS_WRITE_FAILED', `could not write ${path}: ${(e as Error).message}`, {
      hint: 'Check free space, permissions and that the target directory exists; the previous file (if any) is unchanged.',
      cause: e,
      details: { path, errno: (e as NodeJS.ErrnoException).code },
    });
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
