import { cpSync, existsSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadProfiles } from '../../ca/profile/load-profiles.js';
import { pemEncode } from '../../ca/chain.js';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { CardSlot, PROFILES_DIR, withCa } from '../ca-context.js';
import { cardService } from '../card-context.js';
import { usageError } from '../cli-error.js';
import { eprintln, println, type CliContext } from '../context.js';
import type { AdoptArgs } from './adopt.js';

// `ca adopt`'s handlers; the definitions are adopt.ts, what `--help` loads.

export async function runAdopt(ctx: CliContext, args: AdoptArgs): Promise<void> {
  await withCa(ctx, args, { command: `adopt ${args.name}`, write: true }, async (ca) => {
    if (!args['openssl-dir'] === !args['easyrsa-dir']) throw usageError('give exactly one of --openssl-dir DIR and --easyrsa-dir PKI', 'Example: `ca adopt NAME --cert ca.pem --card SERIAL --root --openssl-dir /old/ca`.');
    if (!args.root && !args.parent) throw usageError('give --parent NAME (the cardca CA that issued the certificate) or --root (self-signed)', 'See `ca status` for the CAs.');
    const { adoptCa } = await import('../../ca/adopt/adopt-ca.js');
    const { easyRsaSources, opensslSources, readSource } = await import('../../ca/adopt/adopt-sources.js');
    const { adoptCa: importAdoption } = await import('../../db/adoption-import.js');
    const sources = args['easyrsa-dir'] ? easyRsaSources(resolve(ctx.cwd, args['easyrsa-dir'])) : opensslSources(resolve(ctx.cwd, args['openssl-dir']!), args.config ? resolve(ctx.cwd, args.config) : undefined);
    const caCertFile = readSource(resolve(ctx.cwd, args.cert), 'the CA certificate');
    const profilesDir = join(ca.home, PROFILES_DIR);
    const service = cardService(ctx, {});
    const slot = new CardSlot(ctx, service, `card of ${args.name} (adopted CA)`, args.card, {
      reader: args.reader,
      pinFile: args['pin-file'],
      allowLastPinTry: args['allow-last-pin-try'] === true,
      refuseEmulated: !ca.mode.rehearsal,
    });
    try {
      const r = await adoptCa(
        {
          store: ca.store,
          adoptions: { adoptCa: (a, audit, at) => importAdoption(ca.store, a, audit, at) },
          clock: ca.clock,
          existingProfile: (n) => {
            const p = ca.profiles.profiles.get(n);
            return p?.kind === 'ca' ? p : undefined;
          },
          checkProfiles: (files) => {
            // The home's set plus the new files must load: a derived profile is never written broken.
            const tmp = mkdtempSync(join(tmpdir(), 'cardca-adopt-profiles-'));
            try {
              cpSync(profilesDir, tmp, { recursive: true });
              for (const f of files) {
                if (existsSync(join(profilesDir, f.name))) throw usageError(`${join(profilesDir, f.name)} already exists`, 'Choose another name with --profile.');
                writeFileSync(join(tmp, f.name), f.text);
              }
              loadProfiles(tmp);
            } finally {
              rmSync(tmp, { recursive: true, force: true });
            }
          },
          writeProfiles: async (files) => {
            const written: string[] = [];
            for (const f of files) {
              const p = join(profilesDir, f.name);
              await writeFileAtomic(p, f.text);
              written.push(p);
            }
            return async () => {
              for (const p of written) unlinkSync(p);
            };
          },
          say: (l) => eprintln(ctx, l),
        },
        {
          caName: args.name,
          caCertFile,
          sources,
          root: args.root === true,
          ...(args.parent ? { parentName: args.parent } : {}),
          ...(args['key-id'] ? { keyId: args['key-id'] } : {}),
          ...(args.profile ? { profileName: args.profile } : {}),
          acceptDiscrepancies: args['accept-discrepancies'] === true,
          card: async () => slot.get(),
        },
      );
      const certPath = join(ca.home, 'certs', `${r.caName}.crt`);
      await writeFileAtomic(certPath, pemEncode(r.plan.caCertificate, 'CERTIFICATE'), { mkdirs: true });
      println(ctx, `adopted ${r.caName}: ${r.subject} (card ${r.card}, key ${r.keyId})`);
      println(ctx, `  imported ${r.certificates} certificate(s), ${r.revoked} revocation(s), ${r.indexOnly} serial(s) without a certificate file, ${r.crls} CRL(s)`);
      println(ctx, `  the next CRL number is above ${r.lastCrlNumber}${r.discrepancies ? `; ${r.discrepancies} accepted discrepanc${r.discrepancies === 1 ? 'y' : 'ies'} recorded` : ''} (audit #${r.auditSeq})`);
      println(ctx, `  certificate written to ${certPath}`);
      if (r.profileFiles.length) {
        println(ctx, `  derived profiles written for review: ${r.profileFiles.map((f) => join(profilesDir, f)).join(', ')}`);
        println(ctx, '  review them, then run `ca profiles accept`: until then every command refuses (PROFILES_CHANGED)');
      } else {
        println(ctx, `  uses the existing profile ${r.profile}`);
      }
    } finally {
      await slot.release();
      await service.close();
    }
  });
}
