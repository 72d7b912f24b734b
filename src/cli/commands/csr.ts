import type { CommandModule } from 'yargs';
import { pemEncode } from '../../ca/chain.js';
import { buildCsr } from '../../ca/csr/build-csr.js';
import { parseRfc4514 } from '../../ca/x509/parse-dn.js';
import { formatName } from '../../ca/x509/name.js';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { toHex } from '../../common/hex.js';
import { SIGNATURE_ALGORITHMS } from '../../crypto/algorithms.js';
import type { SignatureAlgorithm } from '../../crypto/signer.js';
import { cardSelector, withCardService, type CardGlobalArgs } from '../card-context.js';
import { eprintln, println, type CliContext } from '../context.js';
import { obtainVerifiedSession } from '../pin-input.js';
import { withCardSelection, withPinFile } from './card/card-options.js';
import { parseSan } from './sign.js';

interface CsrArgs extends CardGlobalArgs {
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
    handler: async (args) => {
      const subject = parseRfc4514(args.subject);
      const sans = (args.san ?? []).map(parseSan);
      await withCardService(ctx, args, async (service) => {
        const s = await obtainVerifiedSession(ctx, {
          service,
          selector: cardSelector(args),
          pinFile: args['pin-file'],
          allowLastPinTry: args['allow-last-pin-try'],
        });
        let built;
        try {
          const signer = await s.signer(args['key-id']);
          built = await buildCsr(signer, { subject, sans, ...(args['sig-alg'] ? { signatureAlgorithm: args['sig-alg'] } : {}) });
        } finally {
          await s.close();
        }
        await writeFileAtomic(args.out, pemEncode(built.der, 'CERTIFICATE REQUEST'), { mkdirs: true });
        const summary = {
          out: args.out,
          card: s.info.serial,
          keyId: args['key-id'],
          subject: formatName(built.parsed.subject),
          sans: built.parsed.sans.map((x) => `${x.type}:${x.value}`),
          signatureAlgorithm: built.parsed.signatureAlgorithm,
          spkiSha256: toHex(built.parsed.spkiSha256),
        };
        if (args.json) println(ctx, JSON.stringify(summary, null, 2));
        else {
          println(ctx, `wrote ${args.out}: ${summary.subject || '(empty subject)'}, ${summary.signatureAlgorithm}, signed by key ${args['key-id']} on card ${s.info.serial}`);
          eprintln(ctx, `  public key SHA-256 ${summary.spkiSha256}; signature verified before writing`);
        }
      });
    },
  };
}
