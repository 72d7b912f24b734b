import type { Argv, CommandModule } from 'yargs';
import type { ExternalSubCaArgs } from './ceremony-external.js';
import {
  withConfirmClock,
  withHome,
  withKeyPlacement,
  withMgmtKey,
  withTranscriptOptions,
  type ConfirmClockArgs,
  type HomeArgs,
  type KeyPlacementArgs,
  type MgmtKeyArgs,
  type TranscriptArgs,
} from '../command-options.js';
import type { CliContext } from '../context.js';

/**
 * `ca ceremony root|subca NAME`. This module is only the definitions (all `ca ceremony --help`
 * loads); the ceremonies, with the database and the card stack behind them, are
 * ceremony-run.ts, imported when one runs (issue #14 item 1).
 */
export interface CeremonyArgs extends HomeArgs, TranscriptArgs, ConfirmClockArgs, MgmtKeyArgs, KeyPlacementArgs, Omit<ExternalSubCaArgs, 'name' | 'card' | 'reader' | 'pin-file' | 'key-id' | 'allow-last-pin-try'> {
  card?: string;
  reader?: string;
  'pin-file'?: string;
  'issuer-card'?: string;
  'issuer-reader'?: string;
  'card-timeout'?: number;
  'issuer-pin-file'?: string;
  'key-id'?: string;
  yes: boolean;
  json: boolean;
  'allow-last-pin-try': boolean;
  name?: string;
  'no-backup'?: boolean;
  resume?: boolean;
}

function common<T>(y: Argv<T>): Argv<T> {
  return withKeyPlacement(withMgmtKey(withConfirmClock(withTranscriptOptions(withHome(y)))))
    .option('card', { type: 'string', describe: 'serial of the card that gets the CA key' })
    .option('reader', { type: 'string', describe: 'reader holding that card' })
    .option('pin-file', { type: 'string', describe: "the card's user PIN from FILE (automation); default: prompt" })
    .option('key-id', { type: 'string', describe: 'use this existing key on the card instead of generating one' })
    .option('no-backup', { type: 'boolean', describe: 'generate even though the card misses DKEK shares (the key can never be backed up; audited)' })
    .option('yes', { type: 'boolean', default: false, describe: 'do not ask for confirmation before generating and signing' })
    .option('json', { type: 'boolean', default: false, describe: 'print the ceremony record as JSON (for transcripts)' })
    .option('allow-last-pin-try', { type: 'boolean', default: false, describe: 'spend a last PIN try without the typed confirmation' })
    .option('card-timeout', { type: 'number', describe: 'seconds one card exchange may take (default: 600 key generation, 60 signing, 30 other)' })
    .option('resume', {
      // No default: yargs counts a defaulted option as given, and --key-id would then conflict.
      type: 'boolean',
      describe: 'finish a ceremony that failed after binding its key: re-use that key (card, key id and public key checked), attach or sign its certificate',
    })
    .conflicts('resume', 'key-id') as Argv<T>;
}

/** POSIX shell quoting, so the recorded command can be re-typed as shown. */
export function shq(v: string): string {
  return /^[A-Za-z0-9_@%+=:,./…-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

function rootCommand(ctx: CliContext): CommandModule<object, CeremonyArgs> {
  return {
    command: 'root',
    describe: 'Generate the root key on the inserted card, self-sign it and record it',
    builder: (y) =>
      common(y)
        .example('$0 ceremony root --card DECM0102330001 --operator "A. Admin" --witness "B. Witness"', 'generate the root key on that card, after a typed "yes"')
        .example('$0 ceremony root --card DECM0102330001 --pin-file root.pin --yes --json', 'scripted (rehearsal); prints the ceremony record as JSON')
        .epilogue('Writes HOME/certs/ROOT.crt and a transcript (Markdown + printable HTML) into HOME/ceremonies/; the transcript SHA-256 goes into the audit log (check a printed copy with `ca audit verify --transcript FILE`).') as never,
    handler: async (args) => (await import('./ceremony-run.js')).runRootCeremony(ctx, args),
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
        .option('issuer-reader', { type: 'string', describe: "reader holding the parent CA's card (like --reader for the new card)" })
        .option('issuer-pin-file', { type: 'string', describe: "the parent card's user PIN from FILE" })
        .option('external-root', { type: 'boolean', describe: "the root is someone else's: write a CSR signed by the new key instead (see --out)" })
        .option('import-cert', { type: 'string', describe: 'finish an --external-root sub-CA with the certificate FILE the external CA issued' })
        .option('chain', { type: 'string', describe: 'with --import-cert: the external issuing CA(s) and root (PEM)' })
        .option('out', { type: 'string', describe: 'with --external-root: where to write the CSR (default HOME/requests/NAME.csr)' })
        .conflicts('external-root', 'import-cert')
        .example('$0 ceremony subca servers --card DECM0102330002 --operator "A. Admin"', "key on card …0002, signed by the root's card (insert both, or swap when asked)")
        .epilogue('Writes HOME/certs/NAME.crt and a transcript (Markdown + printable HTML) into HOME/ceremonies/; the transcript SHA-256 goes into the audit log.') as never,
    handler: async (args) => (await import('./ceremony-run.js')).runSubCaCeremony(ctx, args),
  };
}

/** `ca ceremony root|subca NAME`. */
export function ceremonyCommand(ctx: CliContext): CommandModule<object, object> {
  return {
    command: 'ceremony <kind>',
    describe: 'Key ceremonies: create the root or a sub-CA with keys on cards',
    builder: (y) =>
      y
        .command(rootCommand(ctx))
        .command(subCaCommand(ctx))
        .demandCommand(1)
        .example('$0 ceremony root --card SERIAL', 'create the root CA')
        .example('$0 ceremony subca servers --card SERIAL', 'create the sub-CA "servers" from hierarchy.yaml') as never,
    handler: () => undefined,
  };
}
