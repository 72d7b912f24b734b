import type { Argv } from 'yargs';

/**
 * Option definitions shared by the CA commands, on their own so that a command's definition
 * (what `ca <cmd> --help` needs) imports nothing heavy: ca-context.ts, where these used to
 * live, pulls in the database, the profile loader and the card stack (issue #14 item 1).
 * ca-context.ts and clock-check.ts re-export them for their existing importers.
 */
export interface HomeArgs {
  home?: string;
}

export function withHome<T>(y: Argv<T>): Argv<T & HomeArgs> {
  return y.option('home', { type: 'string', describe: 'CA home directory (default $CA_HOME, else ./ca-data)' }) as Argv<T & HomeArgs>;
}

/** Options of every command that signs with a card. */
export interface SigningCardArgs {
  card?: string;
  reader?: string;
  'pin-file'?: string;
  'allow-last-pin-try'?: boolean;
}

export function withSigningCard<T>(y: Argv<T>): Argv<T & SigningCardArgs> {
  return y
    .option('card', { type: 'string', describe: 'serial of the signing card (default: the card bound to the CA)' })
    .option('reader', { type: 'string', describe: 'PC/SC reader to use (default: search every reader)' })
    .option('pin-file', { type: 'string', describe: 'read the user PIN from the first line of FILE (automation); default: prompt' })
    .option('allow-last-pin-try', { type: 'boolean', default: false, describe: 'spend the last PIN try without the typed confirmation' }) as Argv<T & SigningCardArgs>;
}

export interface ConfirmClockArgs {
  'confirm-clock'?: boolean;
}

export function withConfirmClock<T>(y: Argv<T>): Argv<T & ConfirmClockArgs> {
  return y.option('confirm-clock', {
    type: 'boolean',
    default: false,
    describe: 'the clock is right although it is far past the last signing event (audited)',
  }) as Argv<T & ConfirmClockArgs>;
}

/** Options shared by every command that writes a transcript. */
export interface TranscriptArgs {
  operator?: string;
  witness?: string[];
  'time-zone'?: string;
}

export function withTranscriptOptions<T>(y: Argv<T>): Argv<T & TranscriptArgs> {
  return y
    .option('operator', { type: 'string', describe: 'name of the operator for the transcript (default: the login name)' })
    .option('witness', { type: 'string', array: true, describe: 'name of a witness (repeatable); listed in the transcript with a signature line' })
    .option('time-zone', { type: 'string', describe: 'IANA zone for the transcript\'s local times (default: $TZ, else the system zone)' }) as Argv<T & TranscriptArgs>;
}

export interface CardReadArgs {
  card?: string;
  reader?: string;
  'pin-file'?: string;
  checkpoint?: string[];
}

/** The options of commands that compare the database with checkpoints (cards and files). */
export function withCheckpointSources<T>(y: Argv<T>): Argv<T & CardReadArgs> {
  return y
    .option('checkpoint', { type: 'string', array: true, describe: 'also compare with this checkpoint file (repeatable; e.g. the binder copy)' })
    .option('card', { type: 'string', describe: "compare with the checkpoint on this card (default: every inserted card of this home's CAs)" })
    .option('reader', { type: 'string', describe: 'only look at the card in this reader' })
    .option('pin-file', { type: 'string', describe: "user PIN for reading the cards' checkpoints (PIN-protected), from FILE; default: prompt" }) as Argv<T & CardReadArgs>;
}

/**
 * The PIV management key (SP 800-73-4 key 9B): hex from the first line of `--mgmt-key-file`, or
 * typed at a no-echo prompt; never argv. Read into Buffers and wiped after use, like PINs.
 */
export interface MgmtKeyArgs {
  'mgmt-key-file'?: string;
}

export function withMgmtKey<T>(y: Argv<T>): Argv<T & MgmtKeyArgs> {
  return y.option('mgmt-key-file', {
    type: 'string',
    describe: 'PIV cards: the management key (hex, first line of FILE); default: no-echo prompt',
  }) as Argv<T & MgmtKeyArgs>;
}

/** `--slot`, `--pin-policy`, `--touch-policy`, `--overwrite`: where a new key goes on cards with slots (PIV). */
export interface KeyPlacementArgs {
  slot?: string;
  'pin-policy'?: 'default' | 'never' | 'once' | 'always';
  'touch-policy'?: 'default' | 'never' | 'always' | 'cached';
  overwrite?: boolean;
}

export const OVERWRITE_CONFIRMATION = 'destroy the key';

export function withKeyPlacement<T>(y: Argv<T>): Argv<T & KeyPlacementArgs> {
  return y
    .option('slot', { type: 'string', describe: 'PIV cards: key slot 9a, 9c (default), 9d, 9e or 82–95' })
    .option('pin-policy', { choices: ['default', 'never', 'once', 'always'] as const, describe: 'YubiKey PIN policy of the new key (default: the slot default, 9C = always)' })
    .option('touch-policy', { choices: ['default', 'never', 'always', 'cached'] as const, describe: 'YubiKey touch policy of the new key' })
    .option('overwrite', { type: 'boolean', default: false, describe: `replace a key already in the slot (asks you to type "${OVERWRITE_CONFIRMATION}")` }) as Argv<T & KeyPlacementArgs>;
}

/** `ca key backup|restore|drill`: the transcript options and the DKEK share custodians present. */
export interface CustodyTranscriptArgs extends TranscriptArgs {
  custodian?: string[];
}

export function withCustodyTranscriptOptions<T>(y: Argv<T>): Argv<T & CustodyTranscriptArgs> {
  return withTranscriptOptions(y).option('custodian', {
    type: 'string',
    array: true,
    describe: 'name of a DKEK share custodian present (repeatable); listed in the transcript with a signature line',
  }) as Argv<T & CustodyTranscriptArgs>;
}
