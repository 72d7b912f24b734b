import { sha256Hex } from '../../common/sha256.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The pinned identity of a profile set (issue #8 item 6): the SHA-256 of every `*.yaml`/`*.yml`
 * file of the directory, and one SHA-256 over the sorted (name, file hash) list. `files` keeps
 * the texts so a refusal can show what changed.
 */
export interface ProfileSetHash {
  readonly sha256: string;
  readonly files: Readonly<Record<string, { readonly sha256: string; readonly text: string }>>;
}

const hex = (b: Uint8Array | string): string => sha256Hex(typeof b === 'string' ? Buffer.from(b, 'utf8') : b);

export function hashProfileSet(dir: string): ProfileSetHash {
  const files: Record<string, { sha256: string; text: string }> = {};
  for (const f of readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort()) {
    const bytes = readFileSync(join(dir, f));
    files[f] = { sha256: hex(bytes), text: bytes.toString('utf8') };
  }
  const list = Object.entries(files).map(([n, v]) => `${n}\0${v.sha256}\n`).join('');
  return { sha256: hex(list), files };
}
