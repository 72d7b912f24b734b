import type { CommandModule } from 'yargs';
import { withHome, type HomeArgs } from '../command-options.js';
import type { CliContext } from '../context.js';

export interface AdoptArgs extends HomeArgs {
  name: string;
  cert: string;
  card: string;
  reader?: string;
  'key-id'?: string;
  parent?: string;
  root?: boolean;
  'openssl-dir'?: string;
  config?: string;
  'easyrsa-dir'?: string;
  profile?: string;
  'pin-file'?: string;
  'allow-last-pin-try'?: boolean;
  'accept-discrepancies'?: boolean;
}

/**
 * `ca adopt NAME --cert CA.pem --card SERIAL [--key-id ID] [--parent P | --root]
 *  (--openssl-dir DIR [--config openssl.cnf] | --easyrsa-dir PKI) [--profile PROFILE] [--pin-file F]`
 * (issue #15). Thin handler: the engine is src/ca/adopt/ (loaded lazily: it pulls in
 * @peculiar/x509); this wires the card slot, the SQLite import and the profile files.
 */
export function adoptCommand(ctx: CliContext): CommandModule<object, AdoptArgs> {
  return {
    command: 'adopt <name>',
    describe: 'Take over an existing openssl ca / easy-rsa CA whose key is on a card, with its whole history',
    builder: (y) =>
      withHome(y)
        .positional('name', { type: 'string', describe: 'cardca name of the adopted CA (kebab-case)' })
        .option('cert', { type: 'string', demandOption: true, describe: 'the CA certificate (PEM or DER)' })
        .option('card', { type: 'string', demandOption: true, describe: 'serial of the card holding the CA key' })
        .option('reader', { type: 'string', describe: 'PC/SC reader to use (default: search every reader)' })
        .option('key-id', { type: 'string', describe: 'id of the key on the card (default: the key whose public key is the certificate\'s)' })
        .option('parent', { type: 'string', describe: 'cardca CA that issued the certificate' })
        .option('root', { type: 'boolean', describe: 'the certificate is a self-signed root' })
        .conflicts('parent', 'root')
        .option('openssl-dir', { type: 'string', describe: 'the `openssl ca` directory (index.txt, serial, crlnumber, newcerts/)' })
        .option('config', { type: 'string', describe: 'the openssl.cnf the old CA used (its default CA section names the files; $dir is --openssl-dir)' })
        .option('easyrsa-dir', { type: 'string', describe: 'the easy-rsa pki/ directory' })
        .conflicts('openssl-dir', 'easyrsa-dir')
        .conflicts('config', 'easyrsa-dir')
        .option('profile', { type: 'string', describe: 'CA profile to use if it exists, else the name of the derived one (default: NAME)' })
        .option('pin-file', { type: 'string', describe: 'read the user PIN from the first line of FILE (automation); default: prompt' })
        .option('allow-last-pin-try', { type: 'boolean', default: false, describe: 'spend the last PIN try without the typed confirmation' })
        .option('accept-discrepancies', { type: 'boolean', default: false, describe: 'import despite differences between index.txt and the files (each is recorded in the audit log)' })
        .example('$0 adopt legacy-vpn --cert /old/ca/cacert.pem --card DENK0100123 --root --openssl-dir /old/ca', 'take over an openssl ca root whose key is on that card')
        .example('$0 adopt vpn --cert pki/ca.crt --card DENK0100124 --parent legacy-vpn --easyrsa-dir pki', 'an easy-rsa sub-CA under an adopted root')
        .epilogue('Nothing is written unless every check passes. The derived profiles go to HOME/profiles for review; every command refuses until `ca profiles accept`.') as never,
    handler: async (args) => (await import('./adopt-run.js')).runAdopt(ctx, args),
  };
}
