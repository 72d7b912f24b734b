import type { CommandModule } from 'yargs';
import type { KeyAlgorithm } from '../../../crypto/signer.js';
import type { CardGlobalArgs } from '../../card-context.js';
import { println, type CliContext } from '../../context.js';
import { usageError } from '../../cli-error.js';
import { withCardSelection, withPinFile } from './card-options.js';
import { withVerifiedCard } from './with-verified-card.js';
import { authenticateAdminIfNeeded, withMgmtKey, type MgmtKeyArgs } from '../../mgmt-key-input.js';
import { keyPlacementOf, withKeyPlacement, type KeyPlacementArgs } from './key-placement-options.js';

interface KeygenArgs extends CardGlobalArgs, MgmtKeyArgs, KeyPlacementArgs {
  label?: string;
  alg: KeyAlgorithm;
  'pin-file'?: string;
  'allow-last-pin-try': boolean;
  json: boolean;
}

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
    handler: async (args) =>
      withVerifiedCard(ctx, args, async (s) => {
        if (!s.needsAdminKey && !args.label) throw usageError('--label is required for this card');
        await authenticateAdminIfNeeded(ctx, s, args['mgmt-key-file']);
        const k = await s.generateKey({ label: args.label ?? '', algorithm: args.alg, ...(await keyPlacementOf(ctx, s, args)) });
        const pem = `-----BEGIN PUBLIC KEY-----\n${Buffer.from(k.publicKey).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PUBLIC KEY-----`;
        if (args.json) {
          println(ctx, JSON.stringify({ serial: s.info.serial, label: k.label, id: k.id, keyRef: k.keyRef, algorithm: k.algorithm, publicKeyPem: pem }, null, 2));
        } else {
          println(ctx, `generated ${k.algorithm} key "${k.label}" id ${k.id} on card ${s.info.serial}`);
          println(ctx, pem);
        }
      }),
  };
}
