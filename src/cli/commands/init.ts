import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandModule } from 'yargs';
import { loadProfiles } from '../../ca/profile/load-profiles.js';
import { openDatabase } from '../../db/database.js';
import { DbError } from '../../db/db-error.js';
import { SqliteStore } from '../../db/sqlite-store.js';
import { fsyncDirectory } from '../../common/atomic-write.js';
import { cliClock, DB_FILE, PROFILES_DIR, resolveHome, withHome, type HomeArgs } from '../ca-context.js';
import { println, type CliContext } from '../context.js';

interface InitArgs extends HomeArgs {
  profiles?: string;
}

/** The repository's example hierarchy (dist/src/cli/commands → repo root). */
function defaultProfilesDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'profiles');
}

/** `ca init`: create the CA home (database + a copy of the chosen profiles). */
export function initCommand(ctx: CliContext): CommandModule<object, InitArgs> {
  return {
    command: 'init',
    describe: 'Create a CA home: the issuance database and a copy of the profiles',
    builder: (y) =>
      withHome(y)
        .option('profiles', { type: 'string', describe: 'hierarchy and profiles to copy (default: the example profiles/)' })
        .example('$0 init --home /media/ca', 'create the CA home on the ceremony stick') as never,
    handler: async (args) => {
      const home = resolveHome(ctx, args);
      const src = args.profiles ? resolve(ctx.cwd, args.profiles) : defaultProfilesDir();
      if (existsSync(join(home, DB_FILE)) || existsSync(join(home, PROFILES_DIR))) {
        throw new DbError('HOME_EXISTS', `${home} already holds a CA`, { hint: 'Refusing to overwrite it. Choose another --home, or keep using this one.' });
      }
      // Validate first: a broken profile set must not leave a half-made home behind.
      const profiles = loadProfiles(src);
      mkdirSync(home, { recursive: true, mode: 0o700 });
      const dest = join(home, PROFILES_DIR);
      mkdirSync(dest, { mode: 0o755 });
      for (const f of readdirSync(src)) if (/\.ya?ml$/.test(f)) cpSync(join(src, f), join(dest, f));
      await fsyncDirectory(dest);
      const db = openDatabase(join(home, DB_FILE), { create: true });
      try {
        new SqliteStore(db).audit({ event: 'ca.init', data: { profiles: src, cas: profiles.cas.map((c) => c.name) } }, cliClock(ctx).now());
      } finally {
        db.close();
      }
      await fsyncDirectory(home);
      println(ctx, `created CA home ${home}`);
      println(ctx, `  hierarchy: ${profiles.cas.map((c) => (c.parent ? `${c.name} (under ${c.parent})` : `${c.name} (root)`)).join(', ')}`);
      println(ctx, '  next: `ca ceremony root`');
    },
  };
}
