import type { CommandModule } from 'yargs';
import { withMgmtKey, withKeyPlacement } from '../../command-options.js';
import { withCardSelection, withPinFile } from './card-options.js';
import type { KeyAlgorithm } from '../../../crypto/signer.js';
import type { CliContext } from '../../context.js';
import type { KeygenArgs } from './keygen-run.js';

const ALGS: readonly KeyAlgorithm[] = ['rsa2048', 'rsa3072', 'rsa4096', 'p256', 'p384', 'p521'];

/** `ca card keygen`: generate a key pair on the card (the private key never leaves it). */
export function cardKeygenCommand(ctx: CliContext): CommandModule<object, KeygenArgs> {
  return {
    command: 'keygen',
    describe: 'Generate a key pair on the card and record it in its PKCS#15 view',
    builder: (y) =>
      withKeyPlacement(withMgmtKey(withPinFile(withCardSelection(y))))
        .option('label', { type: 'string', describe: 'key label (SmartCard-HSM: required; PIV: slots have fixed names)' })
        .option('alg', { choices: ALGS, demandOption: true, describe: 'key algorithm' })
        .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
        .example('$0 card keygen --label "root-2026" --alg p384 --card DECM0102330', 'prompts for the user PIN')
        .example('$0 card keygen --slot 9c --alg p384 --pin-policy once --card 12345678 --mgmt-key-file mgmt.key', 'PIV: key in slot 9C') as never,
    handler: async (args) => (await import('./keygen-run.js')).runCardKeygen(ctx, args),
  };
}
