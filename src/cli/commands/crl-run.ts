import type { CrlArgs } from './crl.js';
import { join, resolve } from 'node:path';
import { pemEncodePieces } from '../../ca/chain.js';
import { checkCommandClock } from '../clock-check.js';
import { issueCrl } from '../../ca/crl-cycle.js';
import type { CeremonyRecord } from '../../ca/transcript.js';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { toHex } from '../../common/hex.js';
import { withCa } from '../ca-context.js';
import { println, type CliContext } from '../context.js';
import { operatorName, participants, softwareVersion, transcriptTimeZone, writeTranscript } from '../transcript-writer.js';
import { issuingCa, signedByCard, withIssuerSigner } from './ca-signing.js';
import { runCrlDue } from './crl-due.js';
import { usageError } from '../cli-error.js';
import { crlNumberFloor } from '../crl-number-floor.js';
import { CRL_FLOOR_OVERRIDE_FLAG } from '../../ca/checkpoint-crl-floor.js';
import { writeCheckpoints } from '../checkpoints.js';

function commandLine(args: CrlArgs): string {
  const parts = ['ca', 'crl', '--issuer', args.issuer];
  for (const k of ['home', 'card', 'reader', 'out', 'operator'] as const) if (args[k]) parts.push(`--${k}`, String(args[k]));
  if (args['pin-file']) parts.push('--pin-file', '…');
  if (args['crl-number-above-checkpoint']) parts.push(CRL_FLOOR_OVERRIDE_FLAG);
  return parts.map((v) => (/^[A-Za-z0-9_@%+=:,./…-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** The handler of `ca crl` (crl.ts holds its definition): loaded only when the command runs, not for `ca crl --help`. */
export async function runCrl(ctx: CliContext, args: CrlArgs): Promise<void> {
  await withCa(ctx, args, { command: args.due ? 'crl --due' : `crl --issuer ${args.issuer}`, write: true }, async (ca) => {
    if (args.due) return runCrlDue(ctx, args, ca);
    if (!args.issuer) throw usageError('give --issuer NAME or --due', 'Example: `ca crl --issuer servers`, or `ca crl --due` for every CRL inside its overlap window.');
    const startedAt = ca.clock.now();
    checkCommandClock(ca, args, `crl --issuer ${args.issuer}`); // before any card or PIN
    const issuer = issuingCa(ca, args.issuer);
    const r = await withIssuerSigner(ctx, args, issuer, async (signer, session) => {
      const floor = await crlNumberFloor(ctx, ca, session, issuer.ca.name, args['crl-number-above-checkpoint'] === true);
      const crl = await issueCrl({
        store: ca.store, clock: ca.clock, signer, issuerName: issuer.ca.name, issuer: issuer.info, crashHook: ca.crashHook,
        ...(floor !== undefined ? { minCrlNumber: floor } : {}),
      });
      await writeCheckpoints(ctx, ca, [session], `crl ${issuer.ca.name} #${crl.record.crlNumber}`);
      return { ...crl, card: { serial: session.info.serial, driver: session.info.driver, reader: session.info.reader } };
    });
    const signedAt = ca.clock.now();
    const out = args.out ? resolve(ctx.cwd, args.out) : join(ca.home, 'crl', `${issuer.ca.name}.crl`);
    // In ≈ 1 MB pieces from one reused buffer, not a fresh 65 MB one (chain.ts pemEncodePieces).
    await writeFileAtomic(out, pemEncodePieces(r.der, 'X509 CRL'), { mkdirs: true });
    const n = String(r.record.crlNumber);
    const operator = [operatorName(ctx, args)];
    const record: CeremonyRecord = {
      kind: 'crl',
      caName: issuer.ca.name,
      ceremonyId: `${issuer.ca.name} CRL #${n}`,
      startedAt,
      endedAt: ca.clock.now(),
      timeZone: transcriptTimeZone(ctx, args),
      participants: participants(ctx, args),
      // The signing session lives in ca-signing.ts; its PIN counters are not read here.
      cards: [{ role: issuer.ca.name, serial: r.card.serial, reader: r.card.reader, triesLeftBefore: null, triesLeftAfter: null }],
      steps: [
        { at: startedAt, text: 'clock checked against the last recorded activity', confirmedBy: operator, result: 'done' },
        {
          at: signedAt,
          text: `card ${r.card.serial} signed CRL #${n} of ${issuer.ca.name} (${r.record.entries} entries) with key ${issuer.ca.keyId}; signature verified`,
          confirmedBy: operator,
          result: 'done',
        },
        { at: ca.clock.now(), text: `wrote ${out}`, confirmedBy: operator, result: 'done' },
      ],
      keys: [{ label: `${issuer.ca.name} CA key (key id ${issuer.ca.keyId})`, algorithm: issuer.info.profile.key, cardSerial: r.card.serial, spkiSha256: toHex(issuer.ca.spkiSha256) }],
      certificates: [],
      crls: [{ issuer: issuer.ca.name, crlNumber: n, thisUpdate: new Date(r.record.thisUpdate), nextUpdate: new Date(r.record.nextUpdate), sha256: toHex(r.derSha256) }],
      signatures: [signedByCard(issuer, r.card, `${issuer.ca.name} CRL #${n}`)],
      commands: [commandLine(args)],
      outcome: { status: 'success', summary: `CRL #${n} of ${issuer.ca.name} signed, next update ${r.record.nextUpdate}` },
      software: softwareVersion(),
    };
    const t = await writeTranscript(ca, record);
    println(ctx, `CRL #${r.record.crlNumber} of ${issuer.ca.name}: ${r.record.entries} entr${r.record.entries === 1 ? 'y' : 'ies'}, next update ${r.record.nextUpdate}`);
    println(ctx, `  written to ${out}`);
    println(ctx, `  transcript ${t.files.map((f) => f.path).join(', ')} (audit #${t.auditSeq})`);
  });
}
