import type { CommandModule } from 'yargs';
import { withHome, type HomeArgs } from '../command-options.js';
import type { CliContext } from '../context.js';

/**
 * `ca export openvpn-client --serial S --remote HOST[:PORT] [--inline]`: a client's `.ovpn`
 * (src/ca/export/openvpn-client.ts) from the database: the client certificate, its sub-CA as
 * extra-certs, the server's CA chain as `ca`, `remote-cert-tls server`, `verify-x509-name`,
 * and the home's tls-crypt key when `ca openvpn tls-crypt-key create` made one.
 */
export interface Args extends HomeArgs {
  serial: string;
  issuer?: string;
  remote: string;
  proto: 'udp' | 'tcp';
  'server-name'?: string;
  'server-issuer'?: string;
  inline: boolean;
  out?: string;
  'pkcs11-provider'?: string;
  'pkcs11-id'?: string;
}

export function openvpnClientCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'openvpn-client',
    describe: "A client's OpenVPN profile (.ovpn): chain, certificate, remote-cert-tls, verify-x509-name, tls-crypt",
    builder: (y) =>
      withHome(y)
        .option('serial', { type: 'string', demandOption: true, describe: 'serial of the client certificate (hex, colons allowed)' })
        .option('issuer', { type: 'string', describe: 'issuing CA, if the serial is ambiguous' })
        .option('remote', { type: 'string', demandOption: true, describe: 'server address, HOST[:PORT] (default port 1194)' })
        .option('proto', { type: 'string', choices: ['udp', 'tcp'], default: 'udp' })
        .option('server-name', { type: 'string', describe: "the server certificate's subject CN for verify-x509-name (default: the --remote host)" })
        .option('server-issuer', { type: 'string', describe: 'CA that issued the server certificate (its chain becomes `ca`; default: servers if it exists)' })
        .option('inline', { type: 'boolean', default: false, describe: 'one self-contained .ovpn (<ca>, <cert>, <extra-certs>, <tls-crypt>)' })
        .option('out', { type: 'string', describe: 'inline: output file (default NAME.ovpn); otherwise a directory (default NAME-openvpn/)' })
        .option('pkcs11-provider', { type: 'string', describe: 'token client: PKCS#11 module path (with --pkcs11-id, replaces cert/key)' })
        .option('pkcs11-id', { type: 'string', describe: 'token client: the id from `openvpn --show-pkcs11-ids`' })
        .example('$0 export openvpn-client --serial 5A1F...C3 --remote vpn.example.test --inline', 'laptop.ovpn; put laptop.key next to it')
        .epilogue('The private key never passes through cardca: the profile names the key file to put next to it, or uses pkcs11-id for a token. ' +
          'With a tls-crypt key the inline profile (or tls-crypt.key) is a secret and written with mode 0600.') as never,
    handler: async (args) => (await import('./export-openvpn-client-run.js')).runOpenvpnClient(ctx, args),
  };
}
