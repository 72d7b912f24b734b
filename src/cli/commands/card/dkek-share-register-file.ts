import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { EMPTY_REGISTER, parseShareRegister, type ShareRegister } from '../../../card/dkek/share-register.js';
import { writeFileAtomic } from '../../../common/atomic-write.js';
import type { CliContext } from '../../context.js';

/**
 * Where `ca card dkek import` keeps its share register (card/dkek/share-register.ts):
 * `$XDG_STATE_HOME/cardca/dkek-share-register.json`, default `~/.local/state/cardca/…`
 * (XDG Base Directory spec: state that persists between runs but is not configuration).
 * It holds share check values and partial KCVs only, nothing secret; mode 0600 all the same.
 */
export function shareRegisterPath(ctx: CliContext): string {
  const xdg = ctx.env['XDG_STATE_HOME'];
  const base = xdg && xdg.startsWith('/') ? xdg : join(ctx.env['HOME'] ?? homedir(), '.local', 'state');
  return resolve(base, 'cardca', 'dkek-share-register.json');
}

export function readShareRegister(path: string): ShareRegister {
  return existsSync(path) ? parseShareRegister(readFileSync(path, 'utf8')) : EMPTY_REGISTER;
}

export async function writeShareRegister(path: string, register: ShareRegister): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(register, null, 2)}\n`, { mode: 0o600, mkdirs: true });
}
