import type { KeyAlgorithm } from '../../../crypto/signer.js';
import type { CardGlobalArgs } from '../../card-context.js';
import { println, type CliContext } from '../../context.js';
import { usageError } from '../../cli-error.js';
import { withVerifiedCard } from './with-verified-card.js';
import { authenticateAdminIfNeeded, type MgmtKeyArgs } from '../../mgmt-key-input.js';
import { keyPlacementOf, type KeyPlacementArgs } from './key-placement-options.js';

export interface KeygenArgs extends CardGlobalArgs, MgmtKeyArgs, KeyPlacementArgs {
  label?: string;
  alg: KeyAlgorithm;
  'pin-file'?: string;
  'allow-last-pin-try': boolean;
  json: boolean;
}


/** `cardKeygenCommand`'s handler (the definition is keygen.ts). */
export async function runCardKeygen(ctx: CliContext, args: KeygenArgs): Promise<void> {
  return withVerifiedCard(ctx, args, async (s) => {
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
  });
}
