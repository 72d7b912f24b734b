import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { CaError } from '../../../ca/errors.js';
import type { CaRecord } from '../../../ca/store.js';
import { unwrapToCard } from '../../../card/dkek/dkek-operations.js';
import { parseWrapFile, type WrapFile } from '../../../card/dkek/wrap-file.js';
import { addCaCard } from '../../../db/ca-card-bindings.js';
import type { SqliteStore } from '../../../db/sqlite-store.js';
import { cardService } from '../../card-context.js';
import { CardSlot, withCa, type HomeArgs, type SigningCardArgs } from '../../ca-context.js';
import { CliError, usageError } from '../../cli-error.js';
import { println, type CliContext } from '../../context.js';
import { custodyCommandLine, writeCustodyTranscript, type CustodyTranscriptArgs } from './custody-transcript.js';
import { cardsOf } from './key-options.js';
import { proveCaKey } from './prove-key.js';
import { sha256Hex } from '../../../common/sha256.js';

export interface RestoreArgs extends HomeArgs, SigningCardArgs, CustodyTranscriptArgs {
  file: string;
  'key-ref'?: number;
  ca?: string;
  json: boolean;
}

/** Which CA a backup belongs to: `--ca`, else the CA whose certificate the file carries. */
function caOfBackup(store: SqliteStore, file: WrapFile, name: string | undefined): CaRecord {
  if (name !== undefined) {
    const ca = store.getCa(name);
    if (!ca) throw new CaError('UNKNOWN_ISSUER', `CA ${name} has not been created yet`, { hint: 'See `ca list`.' });
    return ca;
  }
  if (file.certificate && file.certificate[0] === 0x30) {
    try {
      const cert = AsnConvert.parse(file.certificate, Certificate);
      const spki = new Uint8Array(AsnConvert.serialize(cert.tbsCertificate.subjectPublicKeyInfo));
      const match = store.listCas().find((c) => Buffer.from(c.publicKey).equals(Buffer.from(spki)));
      if (match) return match;
    } catch {
      /* fall through to the refusal */
    }
  }
  throw usageError('the backup carries no certificate of a CA in this home; name the CA with --ca NAME');
}

/** `keyRestoreCommand`'s handler (the definition is restore.ts). */
export async function runKeyRestore(ctx: CliContext, args: RestoreArgs): Promise<void> {
  if (!args.card) throw usageError('name the target card with --card SERIAL');
  const ref = args['key-ref'];
  if (ref !== undefined && (!Number.isInteger(ref) || ref < 1 || ref > 255)) throw usageError('--key-ref must be 1..255');
  if (!existsSync(args.file)) throw new CliError('FS_NOT_FOUND', `backup file ${args.file} does not exist`);
  const raw = new Uint8Array(readFileSync(args.file));
  const file = parseWrapFile(raw);
  await withCa(ctx, args, { command: 'key restore', write: true }, async (cactx) => {
    const ca = caOfBackup(cactx.store, file, args.ca);
    const service = cardService(ctx, {});
    const slot = new CardSlot(ctx, service, `target card for ${ca.name}`, args.card, { reader: args.reader, pinFile: args['pin-file'], allowLastPinTry: args['allow-last-pin-try'] === true });
    try {
      const startedAt = cactx.clock.now();
      const session = await slot.get();
      const opened = cactx.clock.now();
      const serial = session.info.serial;
      if (cardsOf(cactx.store, ca).includes(serial)) throw new CliError('CARD_WRONG', `card ${serial} already holds the key of CA ${ca.name}`, { hint: 'Restore onto another card. Nothing was written.' });
      const r = await unwrapToCard(session, file, ref);
      const unwrappedAt = cactx.clock.now();
      const proof = await proveCaKey(await session.signer(ca.keyId), ca.publicKey);
      const provedAt = cactx.clock.now();
      const sha256 = sha256Hex(raw);
      addCaCard(
        cactx.store,
        ca.name,
        { cardSerial: serial, cardFamily: session.info.driver, keyRef: r.keyRef, kcv: r.kcv },
        { event: 'key.restore', ca: ca.name, data: { card: serial, cardFamily: session.info.driver, keyRef: r.keyRef, kcv: r.kcv, sha256, proofAlgorithm: proof.algorithm, challenge: proof.challenge } },
        cactx.clock.now(),
      );
      const t = await writeCustodyTranscript(ctx, cactx, args, {
        kind: 'key-restore',
        ca,
        algorithm: cactx.profiles.caProfile(ca.profileName).key,
        ceremonyId: `${ca.name} key restore onto ${serial}`,
        startedAt,
        card: session.info,
        keyRef: r.keyRef,
        triesLeftBefore: slot.triesLeftBefore,
        triesLeftAfter: (await session.pinStatus()).triesLeft ?? null,
        steps: [
          { at: opened, text: `card ${serial} (${session.info.driver}) in "${session.info.reader}" opened, PIN verified` },
          { at: unwrappedAt, text: `checked the card's DKEK (KCV ${r.kcv}) against the backup ${basename(args.file)} (SHA-256 ${sha256}); card ${serial} unwrapped it into key ${r.keyRef}, PRKD${file.certificate ? ' and certificate' : ''} written` },
          { at: provedAt, text: `the restored key signed a random challenge (${proof.algorithm}); verified against the recorded public key of CA ${ca.name}` },
          { at: provedAt, text: `bound card ${serial} to CA ${ca.name} as a further card (audit event key.restore)` },
        ],
        signed: `test signature over a random challenge (${proof.algorithm}), verified`,
        summary: `key of CA ${ca.name} restored onto card ${serial} (key ${r.keyRef}); the card now signs for ${ca.name}`,
        command: custodyCommandLine(['key', 'restore', args.file], args as unknown as Record<string, unknown>, ['home', 'ca', 'card', 'reader', 'key-ref', 'operator', 'time-zone']),
        notes: [],
      });
      if (args.json) println(ctx, JSON.stringify({ ca: ca.name, card: serial, keyRef: r.keyRef, kcv: r.kcv, transcript: { files: t.files, auditSeq: t.auditSeq } }));
      else {
        println(ctx, `restored the key of CA ${ca.name} onto card ${serial} (slot ${r.keyRef}, DKEK KCV ${r.kcv})`);
        println(ctx, `test signature (${proof.algorithm}) verified against the CA public key; card ${serial} now signs for ${ca.name}`);
        for (const f of t.files) println(ctx, `  transcript ${f.path} (SHA-256 ${f.sha256}, audit #${t.auditSeq})`);
      }
    } finally {
      await slot.release();
      await service.close();
    }
  });
}
