import { existsSync, readFileSync } from 'node:fs';
import { assertShareWanted, cardRandom, importShare, readDkekStatus } from '../../../card/dkek/dkek-operations.js';
import { formatShare, randomSharedPassword, splitSecret } from '../../../card/dkek/shamir.js';
import { checkShareFile, decryptShare, encryptShare } from '../../../card/dkek/share-file.js';
import { checkShare, recordImport, shareCheckValue } from '../../../card/dkek/share-register.js';
import { CardError } from '../../../card/errors.js';
import { writeFileAtomic } from '../../../common/atomic-write.js';
import { cardSelector, withCardService, type CardGlobalArgs } from '../../card-context.js';
import { CliError, usageError } from '../../cli-error.js';
import { eprintln, println, type CliContext } from '../../context.js';
import { kdfIterations, mixRandom, obtainSharePassword, progressBar, type ShareKdfArgs } from './dkek-input.js';
import { readShareRegister, shareRegisterPath, writeShareRegister } from './dkek-share-register-file.js';

export interface DkekArgs extends CardGlobalArgs, ShareKdfArgs {
  action: 'create-share' | 'import' | 'status';
  file?: string;
  'password-file'?: string;
  threshold?: number;
  shares?: number;
  'threshold-shares'?: string[];
  json: boolean;
}

const SECRET_FILE_MODE = 0o600;

/** `cardDkekCommand`'s handler (the definition is dkek.ts). */
export async function runCardDkek(ctx: CliContext, args: DkekArgs): Promise<void> {
  if (args.action === 'status') return status(ctx, args);
  if (!args.file) throw usageError(`ca card dkek ${args.action} needs a FILE`);
  return args.action === 'create-share' ? createShare(ctx, args, args.file) : importFile(ctx, args, args.file);
}

async function status(ctx: CliContext, args: DkekArgs): Promise<void> {
  await withCardService(ctx, args, async (service) => {
    const s = await service.open(cardSelector(args));
    try {
      const st = await readDkekStatus(s);
      if (args.json) {
        println(ctx, JSON.stringify({ shares: st.shares, missing: st.missing, kcv: st.kcv }));
        return;
      }
      println(ctx, `card ${s.info.serial}: ${st.shares} DKEK share(s), ${st.missing} missing`);
      if (st.shares > 0 && st.missing === 0) println(ctx, `key check value ${st.kcv} (backup-compatible with every card showing the same value)`);
    } finally {
      await s.close();
    }
  });
}

async function createShare(ctx: CliContext, args: DkekArgs, file: string): Promise<void> {
  if (existsSync(file)) throw new CliError('FS_EXISTS', `${file} exists; a share file is never overwritten`, { hint: 'Choose a new file name.' });
  const split = args.threshold !== undefined || args.shares !== undefined;
  if (split) {
    if (args.threshold === undefined || args.shares === undefined) throw usageError('give both --threshold T and --shares N');
    if (!Number.isInteger(args.threshold) || args.threshold < 2) throw usageError('--threshold must be 2 or more');
    if (!Number.isInteger(args.shares) || args.shares < 3 || args.shares > 16) throw usageError('--shares must be 3..16');
    if (args.threshold > args.shares) throw usageError('--threshold cannot exceed --shares');
    if (args['password-file'] !== undefined) throw usageError('--threshold/--shares generate the password; do not give --password-file');
  }
  const iterations = kdfIterations(ctx, args);
  await withCardService(ctx, args, async (service) => {
    const s = await service.open(cardSelector(args));
    let password: Buffer | undefined;
    let share: Uint8Array | undefined;
    try {
      const cardBytes = await cardRandom(s, 32 + 8 + 8);
      share = mixRandom(cardBytes.subarray(0, 32));
      const salt = mixRandom(cardBytes.subarray(32, 40));
      const shareFiles: { path: string; text: string }[] = [];
      if (split) {
        const pwd = randomSharedPassword();
        password = Buffer.from(pwd.buffer, pwd.byteOffset, pwd.byteLength); // same memory: zeroed below
        for (const ps of splitSecret(password, args.threshold!, args.shares!)) {
          shareFiles.push({ path: `${file}.pwd-share-${ps.id}.txt`, text: formatShare(ps) });
        }
        const clash = shareFiles.find((f) => existsSync(f.path));
        if (clash) throw new CliError('FS_EXISTS', `${clash.path} exists; password shares are never overwritten`, { hint: 'Choose a new share file name.' });
      } else {
        password = await obtainSharePassword(ctx, { passwordFile: args['password-file'], thresholdShares: undefined, confirm: true });
      }
      const bar = progressBar(ctx, 'Enciphering the DKEK share');
      const bytes = encryptShare(share, password, salt, { iterations, progress: bar.progress });
      bar.done();
      await writeFileAtomic(file, bytes, { mode: SECRET_FILE_MODE });
      for (const f of shareFiles) await writeFileAtomic(f.path, f.text, { mode: SECRET_FILE_MODE });
      println(ctx, `wrote DKEK share ${file} (64 bytes, sc-hsm-tool format) using card ${s.info.serial}'s random generator`);
      for (const f of shareFiles) println(ctx, `wrote password share ${f.path}: give it to one custodian, then delete this copy`);
      if (split) println(ctx, `any ${args.threshold} of the ${args.shares} password shares rebuild the password`);
    } finally {
      password?.fill(0);
      share?.fill(0);
      await s.close();
    }
  });
}

async function importFile(ctx: CliContext, args: DkekArgs, file: string): Promise<void> {
  if (!existsSync(file)) throw new CliError('FS_NOT_FOUND', `share file ${file} does not exist`);
  const bytes = new Uint8Array(readFileSync(file));
  checkShareFile(bytes, file); // size and magic before any password is asked
  const iterations = kdfIterations(ctx, args);
  await withCardService(ctx, args, async (service) => {
    const s = await service.open(cardSelector(args));
    let password: Buffer | undefined;
    let share: Uint8Array | undefined;
    try {
      // Before any password is asked: a card that takes no (more) shares.
      assertShareWanted(await readDkekStatus(s), s.info.serial);
      password = await obtainSharePassword(ctx, { passwordFile: args['password-file'], thresholdShares: args['threshold-shares'], confirm: false });
      const bar = progressBar(ctx, 'Deciphering the DKEK share');
      share = decryptShare(bytes, password, { iterations, progress: bar.progress });
      bar.done();
      const registerPath = shareRegisterPath(ctx);
      const register = readShareRegister(registerPath);
      const shareKcv = shareCheckValue(share);
      const { before, after } = await importShare(s, share, (now) => {
        const c = checkShare(register, now, shareKcv);
        if (c.verdict === 'duplicate') {
          throw new CardError('DKEK_SHARE_DUPLICATE', `share ${file} (check value ${shareKcv}) is already in card ${s.info.serial}`, {
            hint: `Nothing was imported: a share imported twice cancels itself out of the DKEK. Import the other ${now.missing} share(s); \`ca card dkek status\` shows the state.`,
          });
        }
        if (c.verdict === 'unknown') {
          eprintln(ctx, `warning: card ${s.info.serial} holds ${now.shares - now.missing} shares imported outside this machine's register (${registerPath}); cardca cannot tell whether this share is already in. Compare the final KCV with the binder.`);
        }
      });
      try {
        await writeShareRegister(registerPath, recordImport(register, before, shareKcv, after));
      } catch (e) {
        eprintln(ctx, `warning: the share was imported, but the share register ${registerPath} could not be written (${(e as Error).message}); a later duplicate of this share cannot be detected`);
      }
      println(ctx, `imported DKEK share ${file} into card ${s.info.serial}: ${after.shares - after.missing} of ${after.shares} shares in`);
      if (after.missing === 0) println(ctx, `DKEK complete, key check value ${after.kcv}`);
      else println(ctx, `${after.missing} share(s) still missing`);
    } finally {
      password?.fill(0);
      share?.fill(0);
      await s.close();
    }
  });
}
