import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { readDkekStatus, wrapCardKey } from '../../../card/dkek/dkek-operations.js';
import { encodeWrapFile } from '../../../card/dkek/wrap-file.js';
import { writeFileAtomic } from '../../../common/atomic-write.js';
import { cardService } from '../../card-context.js';
import { CardSlot, withCa, type HomeArgs, type SigningCardArgs } from '../../ca-context.js';
import { CliError } from '../../cli-error.js';
import { println, type CliContext } from '../../context.js';
import { custodyCommandLine, writeCustodyTranscript, type CustodyTranscriptArgs } from './custody-transcript.js';
import { cardsOf, keyRefOf, requireCa } from './key-options.js';
import { sha256Hex } from '../../../common/sha256.js';

export interface BackupArgs extends HomeArgs, SigningCardArgs, CustodyTranscriptArgs {
  ca: string;
  out: string;
  json: boolean;
}

/** `keyBackupCommand`'s handler (the definition is backup.ts). */
export async function runKeyBackup(ctx: CliContext, args: BackupArgs): Promise<void> {
  if (existsSync(args.out)) throw new CliError('FS_EXISTS', `${args.out} exists; a key backup is never overwritten`, { hint: 'Choose a new file name.' });
  await withCa(ctx, args, { command: 'key backup', write: true }, async (cactx) => {
    const ca = requireCa(cactx.store, args.ca);
    const cards = cardsOf(cactx.store, ca);
    const serial = args.card ?? ca.cardSerial;
    if (!cards.includes(serial)) throw new CliError('CARD_WRONG', `card ${serial} does not hold the key of CA ${ca.name} (${cards.join(', ')})`);
    const service = cardService(ctx, {});
    const slot = new CardSlot(ctx, service, `card of ${ca.name}`, serial, { reader: args.reader, pinFile: args['pin-file'], allowLastPinTry: args['allow-last-pin-try'] === true });
    try {
      const startedAt = cactx.clock.now();
      const session = await slot.get();
      const opened = cactx.clock.now();
      const keyRef = await keyRefOf(session, ca);
      const dkek = await readDkekStatus(session);
      const wrapped = await wrapCardKey(session, keyRef);
      const wrappedAt = cactx.clock.now();
      const bytes = encodeWrapFile(wrapped);
      const sha256 = sha256Hex(bytes);
      await writeFileAtomic(args.out, bytes, { mode: 0o600 });
      const rec = cactx.store.audit(
        { event: 'key.backup', ca: ca.name, data: { card: serial, keyId: ca.keyId, keyRef, kcv: wrapped.kcv, file: basename(args.out), sha256, bytes: bytes.length } },
        cactx.clock.now(),
      );
      const triesLeftAfter = (await session.pinStatus()).triesLeft ?? null;
      const t = await writeCustodyTranscript(ctx, cactx, args, {
        kind: 'key-backup',
        ca,
        algorithm: cactx.profiles.caProfile(ca.profileName).key,
        ceremonyId: `${ca.name} key backup (audit #${rec.seq})`,
        startedAt,
        card: session.info,
        keyRef,
        triesLeftBefore: slot.triesLeftBefore,
        triesLeftAfter,
        steps: [
          { at: opened, text: `card ${serial} (${session.info.driver}) in "${session.info.reader}" opened, PIN verified` },
          { at: opened, text: `DKEK complete: ${dkek.shares} of ${dkek.shares} shares in, key check value ${dkek.kcv}` },
          { at: wrappedAt, text: `card ${serial} wrapped key ${keyRef} (iD ${ca.keyId}) of CA ${ca.name} under the DKEK, with its PRKD${wrapped.certificate ? ' and certificate' : ''}` },
          { at: new Date(rec.at), text: `wrote ${basename(args.out)} (${bytes.length} bytes, SHA-256 ${sha256}); recorded in the audit log (#${rec.seq})` },
        ],
        summary: `key of CA ${ca.name} backed up from card ${serial}: ${basename(args.out)}, DKEK KCV ${wrapped.kcv}`,
        command: custodyCommandLine(['key', 'backup'], args as unknown as Record<string, unknown>, ['home', 'ca', 'out', 'card', 'reader', 'operator', 'time-zone']),
        notes: [
          `The backup file is encrypted and authenticated under the DKEK with key check value ${wrapped.kcv}: only a card holding the same ${dkek.shares} DKEK share(s) can restore it (\`ca key restore\`).`,
          'Keep the copies of the file in different places, apart from the share files and their passwords.',
        ],
      });
      if (args.json) println(ctx, JSON.stringify({ ca: ca.name, card: serial, kcv: wrapped.kcv, sha256, file: args.out, transcript: { files: t.files, auditSeq: t.auditSeq } }));
      else {
        println(ctx, `backed up the key of CA ${ca.name} from card ${serial} to ${args.out} (DKEK KCV ${wrapped.kcv}, SHA-256 ${sha256})`);
        for (const f of t.files) println(ctx, `  transcript ${f.path} (SHA-256 ${f.sha256}, audit #${t.auditSeq})`);
      }
    } finally {
      await slot.release();
      await service.close();
    }
  });
}
