import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CardError } from '../../../card/errors.js';
import { writeFileAtomic } from '../../../common/atomic-write.js';
import { cardSelector, withCardService, type CardGlobalArgs } from '../../card-context.js';
import { usageError } from '../../cli-error.js';
import { println, type CliContext } from '../../context.js';

export interface AttestArgs extends CardGlobalArgs {
  slot: string;
  out?: string;
  root?: string;
  json: boolean;
}

function pem(der: Uint8Array): string {
  return `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

/** `cardAttestCommand`'s handler (the definition is attest.ts). */
export async function runCardAttest(ctx: CliContext, args: AttestArgs): Promise<void> {
  return withCardService(ctx, args, async (service) => {
    const s = await service.open(cardSelector(args));
    try {
      const key = (await s.listKeys()).find((k) => k.id === args.slot.toUpperCase());
      if (!key) throw usageError(`no key ${args.slot} on card ${s.info.serial}`, 'List the keys with `ca card list`.');
      const a = await s.attest(key.id);
      const cert = new X509Certificate(a.certificate);
      const f9 = new X509Certificate(a.intermediate);
      const attestedSpki = cert.publicKey.export({ type: 'spki', format: 'der' });
      if (!attestedSpki.equals(Buffer.from(key.publicKey))) {
        throw new CardError('ATTESTATION_KEY_MISMATCH', `the attestation certificate is for another public key than the one in slot ${key.id}`, {
          hint: 'Do not trust this key: the token attests something else.',
        });
      }
      if (!cert.verify(f9.publicKey)) {
        throw new CardError('ATTESTATION_BROKEN', `the attestation of slot ${key.id} is not signed by the token's attestation key (F9)`, {
          hint: 'Do not trust this key as generated on the device.',
        });
      }
      let rootSubject: string | undefined;
      if (args.root) {
        let root: X509Certificate;
        try {
          root = new X509Certificate(readFileSync(resolve(ctx.cwd, args.root)));
        } catch (e) {
          throw usageError(`cannot read the root certificate ${args.root}: ${(e as Error).message}`);
        }
        if (!f9.checkIssued(root) || !f9.verify(root.publicKey)) {
          throw new CardError('ATTESTATION_NOT_CHAINED', `the token's attestation certificate (F9) does not chain to ${args.root}`, {
            hint: 'The token is not from that vendor, or the wrong root was given: do not trust the attestation.',
          });
        }
        rootSubject = root.subject;
      }
      let saved: string | undefined;
      if (args.out) {
        saved = join(resolve(ctx.cwd, args.out), `attestation-${key.id.toLowerCase()}.pem`);
        await writeFileAtomic(saved, pem(a.certificate) + pem(a.intermediate));
      }
      const out = {
        serial: s.info.serial,
        slot: key.id,
        algorithm: key.algorithm,
        attestation: { subject: cert.subject, issuer: cert.issuer, fingerprint256: cert.fingerprint256 },
        attestationKey: { subject: f9.subject, issuer: f9.issuer },
        chainedTo: rootSubject ?? null,
        saved: saved ?? null,
      };
      if (args.json) {
        println(ctx, JSON.stringify(out, null, 2));
        return;
      }
      println(ctx, `card ${s.info.serial} slot ${key.id} (${key.algorithm}): generated on the device, attested`);
      println(ctx, `  attestation:     ${cert.subject.replace(/\n/g, ', ')} (SHA-256 ${cert.fingerprint256})`);
      println(ctx, `  signed by (F9):  ${f9.subject.replace(/\n/g, ', ')}`);
      println(ctx, `  F9 issued by:    ${f9.issuer.replace(/\n/g, ', ')}${rootSubject ? ' (verified against --root)' : ' (not checked: pass --root)'}`);
      if (saved) println(ctx, `  saved:           ${saved}`);
    } finally {
      await s.close();
    }
  });
}
