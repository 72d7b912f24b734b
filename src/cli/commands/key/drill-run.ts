import { cardService } from '../../card-context.js';
import { CardSlot, withCa, type HomeArgs, type SigningCardArgs } from '../../ca-context.js';
import { CliError, usageError } from '../../cli-error.js';
import { println, type CliContext } from '../../context.js';
import { custodyCommandLine, writeCustodyTranscript, type CustodyTranscriptArgs } from './custody-transcript.js';
import { cardsOf, keyRefOf, requireCa } from './key-options.js';
import { proveCaKey } from './prove-key.js';

export interface DrillArgs extends HomeArgs, SigningCardArgs, CustodyTranscriptArgs {
  ca: string;
  json: boolean;
}

/** `keyDrillCommand`'s handler (the definition is drill.ts). */
export async function runKeyDrill(ctx: CliContext, args: DrillArgs): Promise<void> {
  if (!args.card) throw usageError('name the backup card with --card SERIAL');
  await withCa(ctx, args, { command: 'key drill', write: true }, async (cactx) => {
    const ca = requireCa(cactx.store, args.ca);
    const cards = cardsOf(cactx.store, ca);
    if (!cards.includes(args.card!)) {
      throw new CliError('CARD_WRONG', `card ${args.card} is not bound to CA ${ca.name} (${cards.join(', ')})`, { hint: 'Restore the backup onto it first: `ca key restore FILE --card SERIAL`.' });
    }
    const service = cardService(ctx, {});
    const slot = new CardSlot(ctx, service, `backup card of ${ca.name}`, args.card, { reader: args.reader, pinFile: args['pin-file'], allowLastPinTry: args['allow-last-pin-try'] === true });
    try {
      const startedAt = cactx.clock.now();
      const session = await slot.get();
      const opened = cactx.clock.now();
      const keyRef = await keyRefOf(session, ca);
      const proof = await proveCaKey(await session.signer(ca.keyId), ca.publicKey);
      const rec = cactx.store.audit({ event: 'key.drill', ca: ca.name, data: { card: args.card, algorithm: proof.algorithm, challenge: proof.challenge, result: 'verified' } }, cactx.clock.now());
      const t = await writeCustodyTranscript(ctx, cactx, args, {
        kind: 'key-drill',
        ca,
        algorithm: cactx.profiles.caProfile(ca.profileName).key,
        ceremonyId: `${ca.name} drill on ${session.info.serial} (audit #${rec.seq})`,
        startedAt,
        card: session.info,
        keyRef,
        triesLeftBefore: slot.triesLeftBefore,
        triesLeftAfter: (await session.pinStatus()).triesLeft ?? null,
        steps: [
          { at: opened, text: `card ${session.info.serial} (${session.info.driver}) in "${session.info.reader}" opened, PIN verified` },
          { at: new Date(rec.at), text: `key ${keyRef} signed the random challenge ${proof.challenge} (${proof.algorithm}); verified against the recorded public key of CA ${ca.name}; nothing issued` },
        ],
        signed: `drill challenge ${proof.challenge.slice(0, 16)}… (${proof.algorithm}), verified`,
        summary: `drill passed: card ${session.info.serial} signs for CA ${ca.name}`,
        command: custodyCommandLine(['key', 'drill'], args as unknown as Record<string, unknown>, ['home', 'ca', 'card', 'reader', 'operator', 'time-zone']),
        notes: [],
      });
      if (args.json) println(ctx, JSON.stringify({ ca: ca.name, card: args.card, verified: true, algorithm: proof.algorithm, transcript: { files: t.files, auditSeq: t.auditSeq } }));
      else {
        println(ctx, `drill passed: card ${args.card} signed a random challenge for CA ${ca.name} (${proof.algorithm}), verified against the CA public key`);
        for (const f of t.files) println(ctx, `  transcript ${f.path} (SHA-256 ${f.sha256}, audit #${t.auditSeq})`);
      }
    } finally {
      await slot.release();
      await service.close();
    }
  });
}
