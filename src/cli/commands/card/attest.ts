import type { CommandModule } from 'yargs';
import { withCardSelection } from './card-options.js';
import type { CliContext } from '../../context.js';
import type { AttestArgs } from './attest-run.js';

/**
 * `ca card attest`: the device's proof that the key in a slot was generated on it (YubiKey PIV
 * ATTEST, developers.yubico.com/PIV/Introduction/PIV_attestation.html). Checks that the
 * attestation certificate carries the slot's public key and is signed by the device's
 * attestation key (slot F9), and, with --root, that F9's certificate chains to the vendor root.
 */
export function cardAttestCommand(ctx: CliContext): CommandModule<object, AttestArgs> {
  return {
    command: 'attest',
    describe: 'Show and save the device attestation of a key (PIV/YubiKey: proves the key was generated on the token)',
    builder: (y) =>
      withCardSelection(y)
        .option('slot', { type: 'string', demandOption: true, describe: 'key id / slot, e.g. 9c' })
        .option('out', { type: 'string', describe: 'directory to save attestation-SLOT.pem (attestation certificate, then the F9 certificate)' })
        .option('root', { type: 'string', describe: "vendor root certificate (PEM) the F9 certificate must chain to, e.g. Yubico's PIV root CA" })
        .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
        .example('$0 card attest --slot 9c --card 12345678 --root yubico-piv-ca.pem --out ceremony/', 'prove the CA key in 9C was generated on the YubiKey') as never,
    handler: async (args) => (await import('./attest-run.js')).runCardAttest(ctx, args),
  };
}
