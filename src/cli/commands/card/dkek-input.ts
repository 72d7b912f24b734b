import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { combineShares, parseShare } from '../../../card/dkek/shamir.js';
import type { Progress } from '../../../card/dkek/md5-iterate.js';
import { SC_HSM_TOOL_ITERATIONS } from '../../../card/dkek/share-file.js';
import { usageError } from '../../cli-error.js';
import { eprintln, type CliContext } from '../../context.js';
import { promptHidden, readPinFile } from '../../pin-input.js';
import { CliError } from '../../cli-error.js';

/** Options shared by the DKEK share commands. */
export interface ShareKdfArgs {
  /** Hidden: EVP_BytesToKey iterations (tests only; sc-hsm-tool always uses 10^7). */
  'kdf-iterations'?: number;
}

export function kdfIterations(ctx: CliContext, args: ShareKdfArgs): number {
  const n = args['kdf-iterations'];
  if (n === undefined) return SC_HSM_TOOL_ITERATIONS;
  if (!Number.isInteger(n) || n < 1) throw usageError('--kdf-iterations must be a positive integer');
  if (n !== SC_HSM_TOOL_ITERATIONS) eprintln(ctx, `warning: ${n} key-derivation iterations instead of ${SC_HSM_TOOL_ITERATIONS}: sc-hsm-tool cannot read this share (tests only)`);
  return n;
}

/** A progress bar on a terminal; one line otherwise (logs stay readable). */
export function progressBar(ctx: CliContext, what: string): { progress: Progress; done(): void } {
  const tty = Boolean(ctx.stderr.isTTY);
  const started = Date.now();
  if (!tty) eprintln(ctx, `${what} (3 × ${SC_HSM_TOOL_ITERATIONS.toLocaleString('en')} MD5 rounds, as sc-hsm-tool)…`);
  let last = -1;
  return {
    progress: (done, total) => {
      if (!tty) return;
      const pct = Math.floor((100 * done) / total);
      if (pct === last) return;
      last = pct;
      const width = 30;
      const fill = Math.round((width * pct) / 100);
      ctx.stderr.write(`\r${what} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${pct}%`);
    },
    done: () => {
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      if (tty) ctx.stderr.write(`\r${what} done in ${secs} s${' '.repeat(30)}\n`);
      else eprintln(ctx, `${what}: done in ${secs} s`);
    },
  };
}

/** Host CSPRNG XOR card random: neither alone decides the value. */
export function mixRandom(cardBytes: Uint8Array): Uint8Array {
  const host = randomBytes(cardBytes.length);
  const out = new Uint8Array(cardBytes.length);
  for (let i = 0; i < out.length; i++) out[i] = cardBytes[i]! ^ host[i]!;
  host.fill(0);
  return out;
}

/** The share password from `--password-file`, `--threshold-shares` files, or a no-echo prompt. */
export async function obtainSharePassword(
  ctx: CliContext,
  o: { passwordFile: string | undefined; thresholdShares: readonly string[] | undefined; confirm: boolean },
): Promise<Buffer> {
  if (o.passwordFile !== undefined && o.thresholdShares !== undefined) throw usageError('give either --password-file or --threshold-shares, not both');
  if (o.thresholdShares !== undefined) {
    const shares = o.thresholdShares.map((f) => {
      if (!existsSync(f)) throw new CliError('FS_NOT_FOUND', `password share file ${f} does not exist`);
      return parseShare(readFileSync(f, 'utf8'));
    });
    const pwd = combineShares(shares);
    return Buffer.from(pwd.buffer, pwd.byteOffset, pwd.byteLength); // same memory: the caller zeroes it
  }
  if (o.passwordFile !== undefined) return readPinFile(o.passwordFile, 'share password');
  const a = await promptHidden(ctx, 'DKEK share password: ');
  if (!o.confirm) return a;
  if (a.length < 6) {
    a.fill(0);
    throw new CliError('DKEK_PASSWORD_WEAK', 'the share password must be at least 6 characters (more than 10 recommended)', { hint: 'Run the command again.' });
  }
  const b = await promptHidden(ctx, 'Repeat the DKEK share password: ');
  const same = a.equals(b);
  b.fill(0);
  if (!same) {
    a.fill(0);
    throw new CliError('DKEK_PASSWORD_MISMATCH', 'the two password entries differ', { hint: 'Run the command again.' });
  }
  return a;
}
