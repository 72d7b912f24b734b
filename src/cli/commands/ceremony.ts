import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { pemEncode } from '../../ca/chain.js';
import { assertClockSane } from '../../ca/issuance.js';
import { rootCeremony, subCaCeremony, type CeremonyCard, type CeremonyResult } from '../../ca/ceremony.js';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { cardService } from '../card-context.js';
import { CardSlot, withCa, withHome, type HomeArgs } from '../ca-context.js';
import { CliError } from '../cli-error.js';
import { eprintln, println, type CliContext } from '../context.js';
import { promptLine } from '../pin-input.js';

interface CeremonyArgs extends HomeArgs {
  card?: string;
  reader?: string;
  'pin-file'?: string;
  'issuer-card'?: string;
  'issuer-pin-file'?: string;
  'key-id'?: string;
  yes: boolean;
  json: boolean;
  'allow-last-pin-try': boolean;
  name?: string;
}

function common<T>(y: Argv<T>): Argv<T> {
  return withHome(y)
    .option('card', { type: 'string', describe: 'serial of the card that gets the CA key' })
    .option('reader', { type: 'string', describe: 'reader holding that card' })
    .option('pin-file', { type: 'string', describe: "the card's user PIN from FILE (automation); default: prompt" })
    .option('key-id', { type: 'string', describe: 'use this existing key on the card instead of generating one' })
    .option('yes', { type: 'boolean', default: false, describe: 'do not ask for confirmation before generating and signing' })
    .option('json', { type: 'boolean', default: false, describe: 'print the ceremony record as JSON (for transcripts)' })
    .option('allow-last-pin-try', { type: 'boolean', default: false, describe: 'spend a last PIN try without the typed confirmation' }) as Argv<T>;
}

async function confirm(ctx: CliContext, args: CeremonyArgs, what: string): Promise<void> {
  if (args.yes) return;
  if (!ctx.stdin.isTTY) {
    throw new CliError('USAGE_CONFIRMATION_REQUIRED', `the ${what} ceremony needs a confirmation`, { hint: 'Run it in a terminal, or pass --yes for a scripted ceremony.' });
  }
  const a = await promptLine(ctx, `About to run the ${what} ceremony. Type "yes" to continue: `);
  if (a.trim() !== 'yes') throw new CliError('USAGE_ABORTED', 'ceremony aborted by the operator');
}

/** Print the result; record for the transcript engine (`--json`), and the CA certificate under certs/. */
async function report(ctx: CliContext, home: string, r: CeremonyResult, args: CeremonyArgs, command: string): Promise<void> {
  const certPath = join(home, 'certs', `${r.caName}.crt`);
  await writeFileAtomic(certPath, pemEncode(r.certificate, 'CERTIFICATE'), { mkdirs: true });
  if (args.json) {
    const { certificate, ...rest } = r;
    println(ctx, JSON.stringify({ ...rest, certificatePem: pemEncode(certificate, 'CERTIFICATE'), certificateFile: certPath, commands: [command] }, null, 2));
    return;
  }
  const c = r.certificates[0]!;
  println(ctx, `${r.kind} ceremony for ${r.caName} complete (ceremony #${r.ceremonyId})`);
  println(ctx, `  certificate: ${c.subject}, serial ${c.serialHex}`);
  println(ctx, `  valid ${c.notBefore.toISOString()} → ${c.notAfter.toISOString()}`);
  println(ctx, `  SHA-256 ${c.sha256}`);
  println(ctx, `  key: ${r.keys[0]!.algorithm} id ${r.keys[0]!.keyId} on card ${r.keys[0]!.cardSerial}`);
  println(ctx, `  written to ${certPath}`);
}

function commandLine(args: CeremonyArgs, kind: string): string {
  const parts = ['ca', 'ceremony', kind];
  if (args.name) parts.push(args.name);
  for (const k of ['home', 'card', 'reader', 'issuer-card', 'key-id'] as const) if (args[k]) parts.push(`--${k}`, String(args[k]));
  if (args['pin-file']) parts.push('--pin-file', '…');
  if (args['issuer-pin-file']) parts.push('--issuer-pin-file', '…');
  if (args.yes) parts.push('--yes');
  return parts.join(' ');
}

function rootCommand(ctx: CliContext): CommandModule<object, CeremonyArgs> {
  return {
    command: 'root',
    describe: 'Generate the root key on the inserted card, self-sign it and record it',
    builder: (y) => common(y) as never,
    handler: async (args) =>
      withCa(ctx, args, { command: 'ceremony root', write: true }, async (ca) => {
        await confirm(ctx, args, 'root');
        assertClockSane(ca.store, ca.clock.now()); // before any card or PIN
        const service = cardService(ctx, {});
        const slot = new CardSlot(ctx, service, 'root', args.card, { reader: args.reader, pinFile: args['pin-file'], allowLastPinTry: args['allow-last-pin-try'] });
        try {
          const card: CeremonyCard = await slot.get();
          const r = await rootCeremony({ store: ca.store, clock: ca.clock, profiles: ca.profiles, say: (l) => eprintln(ctx, l) }, {
            card,
            ...(args['key-id'] ? { keyId: args['key-id'] } : {}),
          });
          await report(ctx, ca.home, r, args, commandLine(args, 'root'));
        } finally {
          await slot.release();
          await service.close();
        }
      }),
  };
}

function subCaCommand(ctx: CliContext): CommandModule<object, CeremonyArgs> {
  return {
    command: 'subca <name>',
    describe: "Generate a sub-CA key on its card and have the parent CA's card sign it",
    builder: (y) =>
      common(y)
        .positional('name', { type: 'string', describe: 'sub-CA name from hierarchy.yaml' })
        .option('issuer-card', { type: 'string', describe: "serial of the parent CA's card (default: the one bound to it)" })
        .option('issuer-pin-file', { type: 'string', describe: "the parent card's user PIN from FILE" }) as never,
    handler: async (args) =>
      withCa(ctx, args, { command: `ceremony subca ${args.name}`, write: true }, async (ca) => {
        const node = ca.profiles.ca(args.name!);
        const parent = node.parent ? ca.store.getCa(node.parent) : undefined;
        await confirm(ctx, args, `sub-CA ${args.name}`);
        assertClockSane(ca.store, ca.clock.now());
        const service = cardService(ctx, {});
        const slots: CardSlot[] = [];
        const others = (me: CardSlot) => () => slots.filter((s) => s !== me);
        const subject: CardSlot = new CardSlot(ctx, service, `${args.name} (new sub-CA)`, args.card, {
          reader: args.reader,
          pinFile: args['pin-file'],
          allowLastPinTry: args['allow-last-pin-try'],
          others: () => others(subject)(),
        });
        const issuer: CardSlot = new CardSlot(ctx, service, `${node.parent ?? 'parent'} (issuer)`, args['issuer-card'] ?? parent?.cardSerial, {
          pinFile: args['issuer-pin-file'],
          allowLastPinTry: args['allow-last-pin-try'],
          others: () => others(issuer)(),
        });
        slots.push(subject, issuer);
        try {
          const r = await subCaCeremony({ store: ca.store, clock: ca.clock, profiles: ca.profiles, say: (l) => eprintln(ctx, l) }, {
            caName: args.name!,
            subjectCard: async (): Promise<CeremonyCard> => (await subject.get()),
            issuerCard: async (): Promise<CeremonyCard> => (await issuer.get()),
            ...(args['key-id'] ? { keyId: args['key-id'] } : {}),
          });
          await report(ctx, ca.home, r, args, commandLine(args, 'subca'));
        } finally {
          for (const s of slots) await s.release();
          await service.close();
        }
      }),
  };
}

/** `ca ceremony root|subca NAME`. */
export function ceremonyCommand(ctx: CliContext): CommandModule<object, object> {
  return {
    command: 'ceremony <kind>',
    describe: 'Key ceremonies: create the root or a sub-CA with keys on cards',
    builder: (y) => y.command(rootCommand(ctx)).command(subCaCommand(ctx)).demandCommand(1) as never,
    handler: () => undefined,
  };
}
