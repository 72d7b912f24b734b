import type { CommandModule } from 'yargs';
import { OPENSC_PKCS11_MODULE } from '../../card/opensc-pkcs11-module.js';
import type { KeyAlgorithm } from '../../crypto/signer.js';
import { withHome } from '../command-options.js';
import type { CliContext } from '../context.js';
import type { EnrollArgs } from './enroll-run.js';

const ALGS: readonly KeyAlgorithm[] = ['rsa2048', 'rsa3072', 'rsa4096', 'p256', 'p384', 'p521'];

/**
 * `ca enroll`: key on the user's token, CSR on the token, issued by the issuer's card, written
 * back. This module is only the definition (all `ca enroll --help` loads); the handler, with the
 * database and the card stack behind it, is enroll-run.ts, imported when it runs (issue #14 item 1).
 */
export function enrollCommand(ctx: CliContext): CommandModule<object, EnrollArgs> {
  return {
    command: 'enroll',
    describe: "Issue to a user's token: key generated on it, CSR signed on it, certificate written back",
    builder: (y) =>
      withHome(y)
        .option('issuer', { type: 'string', demandOption: true, describe: 'issuing CA (e.g. clients)' })
        .option('profile', { type: 'string', describe: "leaf profile (default: the issuer's first leaf profile)" })
        .option('card', { type: 'string', array: true, demandOption: true, describe: "user card serial; repeat for several tokens (one issuer session)" })
        .option('subject', { type: 'string', array: true, demandOption: true, describe: 'subject DN, RFC 4514 (CN=alice); once for all cards or once per --card' })
        .option('san', { type: 'string', array: true, describe: 'subjectAltName (dns:…, email:…, ip:…, uri:…), as the profile allows' })
        .option('alg', { choices: ALGS, describe: 'key to generate (default p256 when the profile allows it)' })
        .option('label', { type: 'string', describe: 'key label on the token (default: the subject CN)' })
        .option('out', { type: 'string', describe: 'directory for the certificate, chain and .ovpn (default: current directory)' })
        .option('ovpn', { type: 'boolean', default: false, describe: 'also write a client .ovpn that uses the token through PKCS#11' })
        .option('ovpn-remote', { type: 'string', describe: 'HOST[:PORT] for the .ovpn remote line (default port 1194)' })
        .option('ovpn-proto', { choices: ['udp', 'tcp'] as const, default: 'udp' as const, describe: '.ovpn proto' })
        .option('ovpn-server-name', { type: 'string', describe: "the VPN server certificate's subject CN, for verify-x509-name in the .ovpn (default: no such line)" })
        .option('ovpn-server-issuer', { type: 'string', describe: 'CA that issued the VPN server certificate: its chain is the .ovpn <ca> (default: servers if it exists, else --issuer)' })
        .option('pkcs11-module', { type: 'string', default: OPENSC_PKCS11_MODULE, describe: "PKCS#11 module for pkcs11-providers (OpenSC's)" })
        .option('init', { type: 'boolean', default: false, describe: 'initialise a blank user card first (SO-PIN, new user PIN)' })
        .option('token-label', { type: 'string', describe: 'token label for --init (default: the key label)' })
        .option('resume', { type: 'boolean', default: false, describe: 'finish an enrolment that left a key without a certificate' })
        .option('issuer-card', { type: 'string', describe: "serial of the issuer's card (default: the card bound to the CA)" })
        .option('pin-file', { type: 'string', describe: "issuer card's user PIN from FILE (automation); default: prompt" })
        .option('user-pin-file', { type: 'string', describe: "user card's PIN from FILE (with --init: the new PIN)" })
        .option('user-so-pin-file', { type: 'string', describe: "user card's SO-PIN from FILE (with --init); PIV tokens: the NEW PUK (6–8 characters)" })
        .option('user-mgmt-key-file', { type: 'string', describe: "PIV tokens: the token's management key (hex, first line of FILE); default: no-echo prompt" })
        .option('user-slot', { type: 'string', describe: 'PIV tokens: key slot for the new key (default 9a, PIV Authentication: what VPN and TLS clients use)' })
        .option('allow-last-pin-try', { type: 'boolean', default: false, describe: 'spend a last PIN try without the typed confirmation' })
        .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
        .example('$0 enroll --issuer clients --profile vpn-client --card DECM0102330007 --subject CN=alice --ovpn --ovpn-remote vpn.example.org', 'both cards inserted (or swap when asked)')
        .example('$0 enroll --issuer clients --card SERIAL1 --subject CN=bob --card SERIAL2 --subject CN=carol --init --user-so-pin-file so.pin --user-pin-file user.pin --pin-file issuer.pin', 'two blank tokens, one issuer session') as never,
    handler: async (args) => (await import('./enroll-run.js')).runEnroll(ctx, args),
  };
}
