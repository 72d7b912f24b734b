import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every regular file below `root`, recursively ([] when `root` does not exist). */
export function filesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const name of readdirSync(root)) {
    const p = join(root, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...filesUnder(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}
