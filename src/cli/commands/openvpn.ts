import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { withHome, type HomeArgs } from '../command-options.js';
import type { CliContext } from '../context.js';

/**
 * `ca openvpn tls-crypt-key create|export`: the shared tls-crypt key of the CA's OpenVPN
 * service (OpenVPN 2.4+ `--tls-crypt`), in OpenVPN's own static key format, kept in the CA home
 * (HOME/openvpn/tls-crypt.key, mode 0600) so that every `ca export openvpn-client` profile and
 * the servers carry the same key. It is a VPN secret, not a CA key; its SHA-256 (never the key)
 * goes to the audit log.
 */
export const TLS_CRYPT_KEY_PATH = join('openvpn', 'tls-crypt.key');

export interface KeyArgs extends HomeArgs {
  action: string;
  replace?: boolean;
  out?: string;
}

function keyCommand(ctx: CliContext): CommandModule<object, KeyArgs> {
  return {
    command: 'tls-crypt-key <action>',
    describe: 'create: make the tls-crypt key in the CA home; export: write it for an OpenVPN server',
    builder: (y) =>
      withHome(y)
        .positional('action', { type: 'string', choices: ['create', 'export'] })
        .option('replace', { type: 'boolean', default: false, describe: 'create: replace an existing key (every server and client profile must then get the new one)' })
        .option('out', { type: 'string', describe: 'export: output file (mode 0600), e.g. /media/usb/server/tls-crypt.key' })
        .example('$0 openvpn tls-crypt-key create', 'once per OpenVPN service')
        .example('$0 openvpn tls-crypt-key export --out /media/usb/server/tls-crypt.key', 'for the server: `tls-crypt tls-crypt.key`') as never,
    handler: async (args) => (await import('./openvpn-run.js')).runTlsCryptKey(ctx, args),
  };
}

/** `ca openvpn …`. */
export function openvpnCommand(ctx: CliContext): CommandModule<object, object> {
  return {
    command: 'openvpn <what>',
    describe: 'OpenVPN service material kept in the CA home (tls-crypt key)',
    builder: (y) => y.command(keyCommand(ctx)).demandCommand(1) as never,
    handler: () => undefined,
  };
}
