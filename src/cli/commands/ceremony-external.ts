import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pemDecodeAll, pemEncode } from '../../ca/chain.js';
import { importExternalSubCaCertificate, requestExternalSubCa } from '../../ca/external-subca.js';
import { CaError } from '../../ca/errors.js';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { CardSlot, type CaContext } from '../ca-context.js';
import { cardService } from '../card-context.js';
import { eprintln, println, type CliContext } from '../context.js';

export interface ExternalSubCaArgs {
  name?: string;
  card?: string;
  reader?: string;
  'pin-file'?: string;
  'key-id'?: string;
  'allow-last-pin-try': boolean;
  'external-root'?: boolean;
  'import-cert'?: string;
  chain?: string;
  out?: string;
}

function readCerts(file: string, what: string): Uint8Array[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new CaError('CA_FILE_UNREADABLE', `cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { hint: 'Check the path.' });
  }
  return bytes.includes('-----BEGIN') ? pemDecodeAll(bytes.toString('latin1'), 'CERTIFICATE') : [new Uint8Array(bytes)];
}

/**
 * `ca ceremony subca NAME --external-root [--out FILE]` and `… --import-cert FILE --chain FILE`:
 * a sub-CA under someone else's root (src/ca/external-subca.ts). The CSR goes to --out
 * (default HOME/requests/NAME.csr); the imported certificate to HOME/certs/NAME.crt and the
 * external chain to HOME/certs/NAME.external-chain.pem.
 */
export async function externalSubCa(ctx: CliContext, ca: CaContext, args: ExternalSubCaArgs): Promise<void> {
  const name = args.name!;
  const service = cardService(ctx, {});
  const bound = ca.store.getCa(name);
  const slot = new CardSlot(ctx, service, `${name} (sub-CA)`, args.card ?? bound?.cardSerial, {
    reader: args.reader,
    pinFile: args['pin-file'],
    allowLastPinTry: args['allow-last-pin-try'],
  });
  const deps = { store: ca.store, clock: ca.clock, profiles: ca.profiles, say: (l: string) => eprintln(ctx, l) };
  try {
    if (args['import-cert']) {
      const [cert, ...extra] = readCerts(args['import-cert'], 'the certificate');
      if (!cert) throw new CaError('CA_CERT_MALFORMED', `${args['import-cert']} holds no certificate`);
      const chain = [...extra, ...(args.chain ? readCerts(args.chain, 'the chain') : [])];
      const r = await importExternalSubCaCertificate(deps, { caName: name, certificate: cert, chain, card: async () => slot.get() });
      const certPath = join(ca.home, 'certs', `${name}.crt`);
      const chainPath = join(ca.home, 'certs', `${name}.external-chain.pem`);
      await writeFileAtomic(certPath, pemEncode(r.certificate, 'CERTIFICATE'), { mkdirs: true });
      await writeFileAtomic(chainPath, r.chain.map((c) => pemEncode(c, 'CERTIFICATE')).join(''), { mkdirs: true });
      println(ctx, `sub-CA ${name} is ready: ${r.subject}, valid until ${r.notAfter.toISOString()}`);
      println(ctx, `  written to ${certPath}; external chain in ${chainPath}`);
      return;
    }
    const r = await requestExternalSubCa(deps, { caName: name, card: await slot.get(), ...(args['key-id'] ? { keyId: args['key-id'] } : {}) });
    const out = args.out ?? join(ca.home, 'requests', `${name}.csr`);
    await writeFileAtomic(out, pemEncode(r.csr, 'CERTIFICATE REQUEST'), { mkdirs: true });
    println(ctx, `external-root request for ${name} (ceremony #${r.ceremonyId}): ${r.subject}`);
    println(ctx, `  key: ${r.key.algorithm} id ${r.key.id} (SPKI SHA-256 ${r.key.spkiSha256})`);
    println(ctx, `  written to ${out}; when the external CA returns the certificate: ca ceremony subca ${name} --import-cert FILE --chain CHAIN.pem`);
  } finally {
    await slot.release();
    await service.close();
  }
}
