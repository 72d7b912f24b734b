import type { CommandModule } from 'yargs';
import { SIGNATURE_ALGORITHMS } from '../../crypto/algorithms.js';
import type { SignatureAlgorithm } from '../../crypto/signer.js';
import type { CardGlobalArgs } from '../card-context.js';
import type { CliContext } from '../context.js';
import { withCardSelection, withPinFile } from './card/card-options.js';

export interface CsrArgs extends CardGlobalArgs {
  'key-id': string;
  subject: string;
  san?: string[];
  out: string;
  'sig-alg'?: SignatureAlgorithm;
  'pin-file'?: string;
  'allow-last-pin-try': boolean;
  json: boolean;
}

/**
 * `ca csr`: a PKCS#10 request signed by a key on a card (any card family the driver registry
 * knows; the key signs through its `Signer`), checked by cardca's strict CSR parser before the
 * file is written. The subject carries only what the operator gives; the attributes a profile
 * fixes are added at issuance.
 */
export function csrCommand(ctx: CliContext): CommandModule<object, CsrArgs> {
  return {
    command: 'csr',
    describe: 'Write a PKCS#10 request signed by a key on a card',
    builder: (y) =>
      withPinFile(withCardSelection(y))
        .option('key-id', { type: 'string', demandOption: true, describe: 'key id (hex, see `ca card list`) or label' })
        .option('subject', { type: 'string', demandOption: true, describe: 'subject DN, RFC 4514 (e.g. "CN=alice,OU=Staff")' })
        .option('san', { type: 'string', array: true, describe: 'subjectAltName to request (dns:…, ip:…, email:…, uri:…)' })
        .option('out', { type: 'string', demandOption: true, describe: 'output file (PEM)' })
        .option('sig-alg', { choices: Object.keys(SIGNATURE_ALGORITHMS), describe: "signature algorithm (default: the key's preferred one: PKCS#1 v1.5 SHA-256 for RSA, the curve's hash for ECDSA)" })
        .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
        .example('$0 csr --card DECM0102330003 --key-id 3F1A… --subject "CN=alice" --out alice.csr --pin-file user.pin', 'request for key 3F1A… on that card')
        .example('$0 csr --card DECM0102330003 --key-id "alice vpn" --subject "CN=alice" --sig-alg rsa-pss-sha256 --out alice.csr', 'RSA-PSS signature') as never,
    handler: async (args) => (await import('./csr-run.js')).runCsr(ctx, args),
  };
}
