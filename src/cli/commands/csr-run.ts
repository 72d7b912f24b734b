import { pemEncode } from '../../ca/chain.js';
import { buildCsr } from '../../ca/csr/build-csr.js';
import { parseRfc4514 } from '../../ca/x509/parse-dn.js';
import { formatName } from '../../ca/x509/name.js';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { toHex } from '../../common/hex.js';
import { cardSelector, withCardService } from '../card-context.js';
import { eprintln, println, type CliContext } from '../context.js';
import { obtainVerifiedSession } from '../pin-input.js';
import { parseSan } from '../san-argument.js';
import type { CsrArgs } from './csr.js';

// `ca csr`'s handlers; the definitions are csr.ts, what `--help` loads.

export async function runCsr(ctx: CliContext, args: CsrArgs): Promise<void> {
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
}
