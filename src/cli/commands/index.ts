import type { CommandModule } from 'yargs';
import type { CliContext } from '../context.js';
import { buildFlavour } from '../../common/build-flavour.js';

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
  load(): Promise<CommandFactory>;
}

export const COMMANDS: readonly CommandEntry[] = [
  // The ceremony build ships without the emulator (src/common/build-flavour.ts).
  {
    name: 'emulator',
    load: async () =>
      buildFlavour() === 'ceremony'
        ? (await import('./refused-command.js')).refusedCommand.bind(null, 'emulator')
        : (await import('./emulator.js')).emulatorCommand,
  },
  { name: 'card', load: async () => (await import('./card/card.js')).cardCommand },
  { name: 'init', load: async () => (await import('./init.js')).initCommand },
  { name: 'ceremony', load: async () => (await import('./ceremony.js')).ceremonyCommand },
  { name: 'sign', load: async () => (await import('./sign.js')).signCommand },
  { name: 'revoke', load: async () => (await import('./revoke.js')).revokeCommand },
  { name: 'crl', load: async () => (await import('./crl.js')).crlCommand },
  { name: 'export', load: async () => (await import('./export.js')).exportCommand },
  { name: 'list', load: async () => (await import('./list.js')).listCommand },
  { name: 'show', load: async () => (await import('./show.js')).showCommand },
  { name: 'verify', load: async () => (await import('./verify.js')).verifyCommand },
  { name: 'audit', load: async () => (await import('./audit.js')).auditCommand },
  { name: 'db', load: async () => (await import('./db.js')).dbCommand },
  { name: 'status', load: async () => (await import('./status.js')).statusCommand },
  { name: 'key', load: async () => (await import('./key/key.js')).keyCommand },
  { name: 'openvpn', load: async () => (await import('./openvpn.js')).openvpnCommand },
  { name: 'csr', load: async () => (await import('./csr.js')).csrCommand },
  { name: 'enroll', load: async () => (await import('./enroll.js')).enrollCommand },
  { name: 'profiles', load: async () => (await import('./profiles.js')).profilesCommand },
  { name: 'adopt', load: async () => (await import('./adopt.js')).adoptCommand },
];

/**
 * The entries needed to parse `argv`: only the named command when the first positional word
 * names one, otherwise all of them (top-level help, typos that want a suggestion).
 */
export function commandsFor(argv: readonly string[]): readonly CommandEntry[] {
  const first = argv.find((a) => !a.startsWith('-'));
  const hit = COMMANDS.find((c) => c.name === first);
  return hit ? [hit] : COMMANDS;
}
