import { refuseInCeremonyBuild } from '../../common/build-flavour.js';
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPackageRoot } from '../../common/package-root.js';
import { loadProfiles } from '../../ca/profile/load-profiles.js';
import { openDatabase } from '../../db/database.js';
import { DbError } from '../../db/db-error.js';
import { SqliteStore } from '../../db/sqlite-store.js';
import { fsyncDirectory } from '../../common/atomic-write.js';
import { randomBytes } from 'node:crypto';
import { isoUtc } from '../../ca/clock.js';
import { hashProfileSet } from '../../ca/profile/profile-set-hash.js';
import { pinnedFiles } from '../profile-pin.js';
import { usageError } from '../cli-error.js';
import { homeClock, DB_FILE, PROFILES_DIR, resolveHome } from '../ca-context.js';
import { println, type CliContext } from '../context.js';
import type { InitArgs } from './init.js';

/** The repository's example hierarchy (profiles/ at the package root; the bundled CLI sits elsewhere than dist/src/cli/commands). */
function defaultProfilesDir(): string {
  return join(findPackageRoot(import.meta.url) ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..'), 'profiles');
}

// `ca init`'s handlers; the definitions are init.ts, what `--help` loads.

export async function runInit(ctx: CliContext, args: InitArgs): Promise<void> {
  if (args.rehearsal) refuseInCeremonyBuild('`ca init --rehearsal`');
  const home = resolveHome(ctx, args);
  const src = args.profiles ? resolve(ctx.cwd, args.profiles) : defaultProfilesDir();
  if (existsSync(join(home, DB_FILE)) || existsSync(join(home, PROFILES_DIR))) {
    throw new DbError('HOME_EXISTS', `${home} already holds a CA`, { hint: 'Refusing to overwrite it. Choose another --home, or keep using this one.' });
  }
  const days = args['clock-max-ahead-days'];
  if (!Number.isFinite(days) || days <= 0) throw usageError(`--clock-max-ahead-days ${String(days)} is not a positive number of days`);
  // Validate first: a broken profile set or clock must not leave a half-made home behind.
  const mode = { rehearsal: args.rehearsal, homeId: randomBytes(16).toString('hex'), clockMaxAheadDays: days };
  const clock = homeClock(ctx, mode);
  const at = clock.now();
  const profiles = loadProfiles(src);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const dest = join(home, PROFILES_DIR);
  mkdirSync(dest, { mode: 0o755 });
  for (const f of readdirSync(src)) if (/\.ya?ml$/.test(f)) cpSync(join(src, f), join(dest, f));
  await fsyncDirectory(dest);
  const db = openDatabase(join(home, DB_FILE), { create: true });
  try {
    const store = new SqliteStore(db);
    if (mode.rehearsal && ctx.env['CA_FAKE_NOW']) store.auditTag = { fakeClock: isoUtc(at) };
    const pinned = hashProfileSet(dest);
    store.audit(
      {
        event: 'ca.init',
        data: { profiles: src, cas: profiles.cas.map((c) => c.name), ...mode, profilesSha256: pinned.sha256, profileFiles: pinnedFiles(pinned) },
      },
      at,
    );
  } finally {
    db.close();
  }
  await fsyncDirectory(home);
  println(ctx, `created CA home ${home}${args.rehearsal ? ' (REHEARSAL)' : ''}`);
  if (args.rehearsal) println(ctx, '  REHEARSAL: emulated cards and CA_FAKE_NOW are accepted here; nothing this home issues is for production');
  println(ctx, `  hierarchy: ${profiles.cas.map((c) => (c.parent ? `${c.name} (under ${c.parent})` : `${c.name} (root)`)).join(', ')}`);
  println(ctx, '  next: `ca ceremony root`');
}
