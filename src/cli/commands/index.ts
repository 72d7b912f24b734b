import type { CommandModule } from 'yargs';
import type { CliContext } from '../context.js';
import { buildFlavour } from '../../common/build-flavour.js';
import { refusedSummary } from './refused-command.js';

/**
 * Every `ca` command, listed explicitly (no commandDir magic). Each entry is a factory so that
 * importing this file has no side effects and handlers get the context they run in.
 */
export type CommandFactory = (ctx: CliContext) => CommandModule<object, any>;

/**
 * A top-level command and how to load it. Loading is lazy because the command modules pull in
 * heavy libraries (the ASN.1 schemas, better-sqlite3, pcsclite): loading them all cost
 * ~0.4 s on every `ca` invocation, which a batch script calling `ca` per file pays each time.
 */
export interface CommandEntry {
  readonly name: string;
  /**
   * What `ca --help` lists for the command (its module's `command` and `describe`), kept here so
   * that the top-level listing loads no command module: loading all twenty made `ca --help` cost
   * 4× a bare `node -e 0` (issue #14 item 1). test/unit/cli/command-summaries.test.ts checks
   * that each equals its module's.
   */
  summary(): CommandSummary;
  load(): Promise<CommandFactory>;
}

export interface CommandSummary {
  readonly command: string;
  readonly describe: string;
}

const summary = (command: string, describe: string) => (): CommandSummary => ({ command, describe });

export const COMMANDS: readonly CommandEntry[] = [
  // The ceremony build ships without the emulator (src/common/build-flavour.ts).
  {
    name: 'emulator',
    summary: () =>
      buildFlavour() === 'ceremony'
        ? refusedSummary('emulator')
        : { command: 'emulator <action>', describe: 'Virtual SmartCard-HSM, PIV token (--type piv) or MyEID (--type myeid) for tests and ceremony rehearsal (TEST card, not for real keys)' },
    load: async () =>
      buildFlavour() === 'ceremony'
        ? (await import('./refused-command.js')).refusedCommand.bind(null, 'emulator')
        : (await import('./emulator.js')).emulatorCommand,
  },
  {
    name: 'card',
    summary: summary('card <command>', 'Smart-card administration: list, status, init, keygen, pin change|unblock|change-puk, attest'),
    load: async () => (await import('./card/card.js')).cardCommand,
  },
  {
    name: 'init',
    summary: summary('init', 'Create a CA home: the issuance database and a copy of the profiles'),
    load: async () => (await import('./init.js')).initCommand,
  },
  {
    name: 'ceremony',
    summary: summary('ceremony <kind>', 'Key ceremonies: create the root or a sub-CA with keys on cards'),
    load: async () => (await import('./ceremony.js')).ceremonyCommand,
  },
  {
    name: 'sign',
    summary: summary('sign <csr..>', 'Issue certificates from CSRs (content from the profile; the card signs)'),
    load: async () => (await import('./sign.js')).signCommand,
  },
  {
    name: 'revoke',
    summary: summary('revoke [target]', 'Revoke a certificate by serial (hex, colons allowed) or certificate file, or every certificate on a user token (--card)'),
    load: async () => (await import('./revoke.js')).revokeCommand,
  },
  {
    name: 'crl',
    summary: summary('crl', 'Sign a fresh CRL for a CA on its card (revoked and outcome-unknown serials)'),
    load: async () => (await import('./crl.js')).crlCommand,
  },
  {
    name: 'export',
    summary: summary('export <what>', 'Export chains, certificates and CRLs (PEM, DER, PKCS#7, OpenVPN, strongSwan)'),
    load: async () => (await import('./export.js')).exportCommand,
  },
  {
    name: 'list',
    summary: summary('list', 'List certificates (filter by issuer, status, expiry)'),
    load: async () => (await import('./list.js')).listCommand,
  },
  {
    name: 'show',
    summary: summary('show <serial>', 'Show one certificate by serial'),
    load: async () => (await import('./show.js')).showCommand,
  },
  {
    name: 'verify',
    summary: summary('verify <cert..>', "Validate certificates against the CA's chain and newest CRLs (RFC 5280 path validation by pkijs)"),
    load: async () => (await import('./verify.js')).verifyCommand,
  },
  {
    name: 'audit',
    summary: summary('audit <action>', 'Check or print the hash-chained audit log'),
    load: async () => (await import('./audit.js')).auditCommand,
  },
  {
    name: 'db',
    summary: summary('db <action>', 'Database maintenance'),
    load: async () => (await import('./db.js')).dbCommand,
  },
  {
    name: 'status',
    summary: summary('status', 'Per CA: card and key, certificate validity, CRL freshness, certificate counts'),
    load: async () => (await import('./status.js')).statusCommand,
  },
  {
    name: 'key',
    summary: summary('key <command>', 'CA key custody: backup, restore, drill (SmartCard-HSM DKEK; docs/key-custody.md)'),
    load: async () => (await import('./key/key.js')).keyCommand,
  },
  {
    name: 'openvpn',
    summary: summary('openvpn <what>', 'OpenVPN service material kept in the CA home (tls-crypt key)'),
    load: async () => (await import('./openvpn.js')).openvpnCommand,
  },
  {
    name: 'csr',
    summary: summary('csr', 'Write a PKCS#10 request signed by a key on a card'),
    load: async () => (await import('./csr.js')).csrCommand,
  },
  {
    name: 'enroll',
    summary: summary('enroll', "Issue to a user's token: key generated on it, CSR signed on it, certificate written back"),
    load: async () => (await import('./enroll.js')).enrollCommand,
  },
  {
    name: 'profiles',
    summary: summary('profiles <action>', 'The pinned profile set of the CA home'),
    load: async () => (await import('./profiles.js')).profilesCommand,
  },
  {
    name: 'adopt',
    summary: summary('adopt <name>', 'Take over an existing openssl ca / easy-rsa CA whose key is on a card, with its whole history'),
    load: async () => (await import('./adopt.js')).adoptCommand,
  },
];

/**
 * Whether `argv` names no command at all (`ca`, `ca --help`, `ca -h`, `ca --bogus`): then no
 * command can run, and yargs needs only the names and descriptions, for the listing, the
 * "name a command" refusal and unknown-option errors. A command line with any word in it loads
 * the real modules (the word may be a command after an option's value, or a typo to suggest for).
 */
export function listingOnly(argv: readonly string[]): boolean {
  return argv.every((a) => a.startsWith('-'));
}

/** A command as `ca --help` lists it, from its summary; never run (see `listingOnly`). */
export function summaryCommand(entry: CommandEntry): CommandModule<object, object> {
  const s = entry.summary();
  return { command: s.command, describe: s.describe, builder: (y) => y, handler: () => undefined };
}

/**
 * The entries needed to parse `argv`: only the named command when the first positional word
 * names one, otherwise all of them (top-level help, typos that want a suggestion).
 */
export function commandsFor(argv: readonly string[]): readonly CommandEntry[] {
  const first = argv.find((a) => !a.startsWith('-'));
  const hit = COMMANDS.find((c) => c.name === first);
  return hit ? [hit] : COMMANDS;
}
