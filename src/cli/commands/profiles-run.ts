import { join } from 'node:path';
import { hashProfileSet } from '../../ca/profile/profile-set-hash.js';
import { loadProfiles } from '../../ca/profile/load-profiles.js';
import { PROFILES_DIR, withCa } from '../ca-context.js';
import { CliError } from '../cli-error.js';
import { println, type CliContext } from '../context.js';
import { promptLine } from '../pin-input.js';
import { currentPin, pinnedFiles, profileDiff } from '../profile-pin.js';
import type { AcceptArgs } from './profiles.js';

/** `ca profiles accept`'s handler (the definition is profiles.ts, what `--help` loads). */
export async function runProfilesAccept(ctx: CliContext, args: AcceptArgs): Promise<void> {
  await withCa(ctx, args, { command: 'profiles accept', write: true, profilesCheck: false }, async (ca) => {
    const dir = join(ca.home, PROFILES_DIR);
    loadProfiles(dir); // a broken set is never pinned
    const now = hashProfileSet(dir);
    const pin = currentPin(ca.store);
    if (pin?.sha256 === now.sha256) {
      println(ctx, `profiles unchanged: SHA-256 ${now.sha256} pinned by audit record #${pin.seq}`);
      return;
    }
    if (pin) for (const l of profileDiff(pin, now)) println(ctx, l);
    const code = now.sha256.slice(0, 8);
    println(ctx, `new profile set SHA-256 ${now.sha256}`);
    let typed = args.confirm;
    if (typed === undefined) {
      if (!ctx.stdin.isTTY) throw new CliError('USAGE_CONFIRMATION_REQUIRED', 'accepting changed profiles needs a typed confirmation', { hint: `Run it in a terminal, or pass --confirm ${code} after reviewing the diff above.` });
      typed = (await promptLine(ctx, `Type ${code} to pin this profile set: `)).trim();
    }
    if (typed.toLowerCase() !== code) throw new CliError('USAGE_ABORTED', `the confirmation "${typed}" is not ${code}; nothing was changed`, { hint: 'Review the diff and type the digits shown.' });
    const r = ca.store.audit(
      { event: 'profiles.accepted', data: { profilesSha256: now.sha256, previous: pin?.sha256 ?? null, profileFiles: pinnedFiles(now) } },
      ca.clock.now(),
    );
    println(ctx, `profiles pinned: SHA-256 ${now.sha256} (audit #${r.seq})`);
  });
}
