import { join } from 'node:path';
import { pemEncode } from '../../ca/chain.js';
import { crlFreshness } from '../../ca/crl-freshness.js';
import { issueCrl } from '../../ca/crl-cycle.js';
import { assertClockSane, sha256 } from '../../ca/issuance.js';
import type { CeremonyRecord } from '../../ca/transcript.js';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { toHex } from '../../common/hex.js';
import { cardService } from '../card-context.js';
import { CardSlot, type CaContext, type HomeArgs, type SigningCardArgs } from '../ca-context.js';
import { println, type CliContext } from '../context.js';
import { operatorName, participants, softwareVersion, transcriptTimeZone, writeTranscript, type TranscriptArgs } from '../transcript-writer.js';
import { issuingCa, signedByCard, type IssuingCa } from './ca-signing.js';
import type { CardSignature } from '../../ca/ceremony.js';
import { crlNumberFloor } from '../crl-number-floor.js';
import { writeCheckpoints } from '../checkpoints.js';

/**
 * `ca crl --due`: one sitting that signs every CRL inside its profile's overlap window (or
 * expired, or never signed), card by card: the CAs are grouped by the card that holds their
 * key, each card is asked for in turn (`Insert card S (…)` on a terminal; with `--reader` the
 * operator swaps cards in that one reader), its PIN verified once for all its CAs, and the
 * batch gets one "crl" ceremony transcript. Nothing due: says when the next one is, exit 0.
 */
export interface CrlDueArgs extends HomeArgs, SigningCardArgs, TranscriptArgs {
  'crl-number-above-checkpoint'?: boolean;
}

interface Due {
  issuer: IssuingCa;
  why: string;
}

export function dueCrls(ca: CaContext, now: Date): { due: Due[]; next: { name: string; at: Date } | undefined } {
  const due: Due[] = [];
  let next: { name: string; at: Date } | undefined;
  for (const rec of ca.store.listCas()) {
    if (!rec.certificate) continue; // ceremony unfinished: nothing can sign for it
    const last = ca.store.latestCrl(rec.name, 'issued');
    if (!last) {
      due.push({ issuer: issuingCa(ca, rec.name), why: 'no CRL yet' });
      continue;
    }
    const overlap = ca.profiles.caProfile(rec.profileName).crl.overlap.duration.toMillis();
    const f = crlFreshness(now, new Date(last.thisUpdate), new Date(last.nextUpdate), overlap);
    if (f.level !== 'ok') {
      due.push({ issuer: issuingCa(ca, rec.name), why: f.expired ? `CRL #${last.crlNumber} expired at ${last.nextUpdate}` : `CRL #${last.crlNumber} due since ${f.dueFrom.toISOString()}` });
    } else if (!next || f.dueFrom < next.at) {
      next = { name: rec.name, at: f.dueFrom };
    }
  }
  return { due, next };
}

export async function runCrlDue(ctx: CliContext, args: CrlDueArgs, ca: CaContext): Promise<void> {
  const startedAt = ca.clock.now();
  assertClockSane(ca.store, startedAt); // before any card or PIN
  const { due, next } = dueCrls(ca, startedAt);
  if (due.length === 0) {
    println(ctx, `no CRL is due${next ? `; the next is ${next.name}'s, from ${next.at.toISOString()}` : ''}`);
    return;
  }
  // Card by card, in the order the CAs are listed (root first).
  const byCard = new Map<string, Due[]>();
  for (const d of due) byCard.set(d.issuer.ca.cardSerial, [...(byCard.get(d.issuer.ca.cardSerial) ?? []), d]);
  println(ctx, `${due.length} CRL(s) due on ${byCard.size} card(s):`);
  for (const d of due) println(ctx, `  ${d.issuer.ca.name} (card ${d.issuer.ca.cardSerial}): ${d.why}`);

  const operator = [operatorName(ctx, args)];
  const steps: CeremonyRecord['steps'][number][] = [{ at: startedAt, text: 'clock checked against the last recorded activity', confirmedBy: operator, result: 'done' }];
  const cards: CeremonyRecord['cards'][number][] = [];
  const crls: CeremonyRecord['crls'][number][] = [];
  const keys: CeremonyRecord['keys'][number][] = [];
  const signatures: CardSignature[] = [];
  const service = cardService(ctx, {});
  let failure: unknown;
  try {
    for (const [serial, list] of byCard) {
      const roles = list.map((d) => d.issuer.ca.name).join(', ');
      const slot = new CardSlot(ctx, service, `signing card of ${roles}`, serial, {
        reader: args.reader,
        pinFile: args['pin-file'],
        allowLastPinTry: args['allow-last-pin-try'] === true,
      });
      try {
        const session = await slot.get();
        for (const d of list) {
          const { ca: rec, info } = d.issuer;
          const signer = await session.signer(rec.keyId);
          const floor = await crlNumberFloor(ctx, ca, session, rec.name, args['crl-number-above-checkpoint'] === true);
          const r = await issueCrl({
            store: ca.store, clock: ca.clock, signer, issuerName: rec.name, issuer: info, crashHook: ca.crashHook,
            ...(floor !== undefined ? { minCrlNumber: floor } : {}),
          });
          const out = join(ca.home, 'crl', `${rec.name}.crl`);
          await writeFileAtomic(out, pemEncode(r.der, 'X509 CRL'), { mkdirs: true });
          const n = String(r.record.crlNumber);
          steps.push({
            at: ca.clock.now(),
            text: `card ${serial} signed CRL #${n} of ${rec.name} (${r.record.entries} entries) with key ${rec.keyId}; signature verified; wrote ${out}`,
            confirmedBy: operator,
            result: 'done',
          });
          crls.push({ issuer: rec.name, crlNumber: n, thisUpdate: new Date(r.record.thisUpdate), nextUpdate: new Date(r.record.nextUpdate), sha256: toHex(sha256(r.der)) });
          keys.push({ label: `${rec.name} CA key (key id ${rec.keyId})`, algorithm: info.profile.key, cardSerial: serial, spkiSha256: toHex(rec.spkiSha256) });
          signatures.push(signedByCard(d.issuer, session.info, `${rec.name} CRL #${n}`));
          println(ctx, `CRL #${n} of ${rec.name}: ${r.record.entries} entr${r.record.entries === 1 ? 'y' : 'ies'}, next update ${r.record.nextUpdate}`);
        }
        await writeCheckpoints(ctx, ca, [session], `crl --due ${list.map((d) => d.issuer.ca.name).join(', ')}`);
        cards.push({ role: roles, serial, triesLeftBefore: slot.triesLeftBefore, triesLeftAfter: null });
      } finally {
        await slot.release();
      }
    }
  } catch (e) {
    // CRLs already signed stay signed (and recorded); the transcript says where the batch stopped.
    failure = e;
    steps.push({ at: ca.clock.now(), text: `stopped: ${e instanceof Error ? e.message : String(e)}`, confirmedBy: operator, result: 'failed' });
  } finally {
    await service.close();
  }
  if (failure !== undefined && crls.length === 0) throw failure;
  const record: CeremonyRecord = {
    kind: 'crl',
    caName: due.map((d) => d.issuer.ca.name).join('+'),
    ceremonyId: `CRLs due: ${crls.map((c) => `${c.issuer} #${c.crlNumber}`).join(', ')}`,
    startedAt,
    endedAt: ca.clock.now(),
    timeZone: transcriptTimeZone(ctx, args),
    participants: participants(ctx, args),
    cards,
    steps,
    keys,
    certificates: [],
    crls,
    signatures,
    commands: [['ca', 'crl', '--due', ...(args.home ? ['--home', args.home] : []), ...(args.reader ? ['--reader', args.reader] : []), ...(args['pin-file'] ? ['--pin-file', '…'] : [])].join(' ')],
    outcome: {
      status: failure === undefined ? 'success' : 'failed',
      summary: `${crls.length} of ${due.length} due CRL(s) signed: ${crls.map((c) => `${c.issuer} #${c.crlNumber}`).join(', ')}`,
    },
    software: softwareVersion(),
  };
  const t = await writeTranscript(ca, record);
  println(ctx, `  transcript ${t.files.map((f) => f.path).join(', ')} (audit #${t.auditSeq})`);
  if (failure !== undefined) throw failure;
  println(ctx, 'next: `ca export crl --all --out /media/transfer/` for the transfer stick');
}
