import { cpSync, existsSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { loadProfiles } from '../../ca/profile/load-profiles.js';
import { pemEncode } from '../../ca/chain.js';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { CardSlot, PROFILES_DIR, withCa, withHome, type HomeArgs } from '../ca-context.js';
import { cardService } from '../card-context.js';
import { usageError } from '../cli-error.js';
import { eprintln, println, type CliContext } from '../context.js';

interface AdoptArgs extends HomeArgs {
  name: string;
  cert: string;
  card: string;
  reader?: string;
  'key-id'?: string;
  parent?: string;
  root?: boolean;
  'openssl-dir'?: string;
  config?: string;
  'easyrsa-dir'?: string;
  profile?: string;
  'pin-file'?: string;
  'allow-last-pin-try'?: boolean;
  'accept-discrepancies'?: boolean;
}

/**
 * `ca adopt NAME --cert CA.pem --card SERIAL [--key-id ID] [--parent P | --root]
 *  (--openssl-dir DIR [--config openssl.cnf] | --easyrsa-dir PKI) [--profile PROFILE] [--pin-file F]`
 * (issue #15). Thin handler: the engine is src/ca/adopt/ (loaded lazily: it pulls in
 * @peculiar/x509); this wires the card slot, the SQLite import and the profile files.
 */
export function adoptCommand(ctx: CliContext): CommandModule<object, AdoptArgs> {
  return {
    command: 'adopt <name>',
    describe: 'Take over an existing openssl ca / easy-rsa CA whose key is on a card, with its whole history',
    builder: (y) =>
      withHome(y)
        .positional('name', { type: 'string', describe: 'cardca name of the adopted CA (kebab-case)' })
        .option('cert', { type: 'string', demandOption: true, describe: 'the CA certificate (PEM or DER)' })
        .option('card', { type: 'string', demandOption: true, describe: 'serial of the card holding the CA key' })
        .option('reader', { type: 'string', describe: 'PC/SC reader to use (default: search every reader)' })
        .option('key-id', { type: 'string', describe: 'id of the key on the card (default: the key whose public key is the certificate\'s)' })
        .option('parent', { type: 'string', describe: 'cardca CA that issued the certificate' })
        .option('root', { type: 'boolean', describe: 'the certificate is a self-signed root' })
        .conflicts('parent', 'root')
        .option('openssl-dir', { type: 'string', describe: 'the `openssl ca` directory (index.txt, serial, crlnumber, newcerts/)' })
        .option('config', { type: 'string', describe: 'the openssl.cnf the old CA used (its default CA section names the files; $dir is --openssl-dir)' })
        .option('easyrsa-dir', { type: 'string', describe: 'the easy-rsa pki/ directory' })
        .conflicts('openssl-dir', 'easyrsa-dir')
        .conflicts('config', 'easyrsa-dir')
        .option('profile', { type: 'string', describe: 'CA profile to use if it exists, else the name of the derived one (default: NAME)' })
        .option('pin-file', { type: 'string', describe: 'read the user PIN from the first line of FILE (automation); default: prompt' })
        .option('allow-last-pin-try', { type: 'boolean', default: false, describe: 'spend the last PIN try without the typed confirmation' })
        .option('accept-discrepancies', { type: 'boolean', default: false, describe: 'import despite differences between index.txt and the files (each is recorded in the audit log)' })
        .example('$0 adopt legacy-vpn --cert /old/ca/cacert.pem --card DENK0100123 --root --openssl-dir /old/ca', 'take over an openssl ca root whose key is on that card')
        .example('$0 adopt vpn --cert pki/ca.crt --card DENK0100124 --parent legacy-vpn --easyrsa-dir pki', 'an easy-rsa sub-CA under an adopted root')
        .epilogue('Nothing is written unless every check passes. The derived profiles go to HOME/profiles for review; every command refuses until `ca profiles accept`.') as never,
    handler: async (args) =>
      withCa(ctx, args, { command: `adopt ${args.name}`, write: true }, async (ca) => {
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
      }),
  };
}
