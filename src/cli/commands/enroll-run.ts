import { join } from 'node:path';
import { pemEncode } from '../../ca/chain.js';
import { enrollToken, preflightEnrollment, type EnrollRequest, type EnrollResult, type TokenCard } from '../../ca/enroll.js';
import { renderOpenvpnClient } from '../../ca/export/openvpn-client.js';
import { parseRfc4514 } from '../../ca/x509/parse-dn.js';
import { CardSlot, withCa, type HomeArgs } from '../ca-context.js';
import { cardService } from '../card-context.js';
import { usageError } from '../cli-error.js';
import { eprintln, println, type CliContext } from '../context.js';
import { writeFileAtomic } from '../../common/atomic-write.js';
import type { KeyAlgorithm, Signer } from '../../crypto/signer.js';
import type { PcscCardService } from '../../card/pcsc-card-service.js';
import type { DriverCardSession } from '../../card/card-session-impl.js';
import { authenticateAdminIfNeeded } from '../mgmt-key-input.js';
import { openscPkcs11Id } from '../../card/opensc-pkcs11-id.js';
import { CaError } from '../../ca/errors.js';
import { obtainNewPin, readPinFile, soPinBytes, obtainPin } from '../pin-input.js';
import { issuingCa } from './ca-signing.js';
import { parseSan } from '../san-argument.js';
import { writeTokenCaCertificates, writeTokenCertificate } from './enroll-write-back.js';
import { TOKEN_EVENTS } from '../../ca/token-records.js';
import { sha256 } from '../../ca/issuance.js';
import { toHex } from '../../common/hex.js';
import { shq } from './ceremony.js';
import { chainRecords } from './export-run.js';
import { readTlsCryptKey } from './openvpn-run.js';

export interface EnrollArgs extends HomeArgs {
  issuer: string;
  profile?: string;
  card: string[];
  subject: string[];
  san?: string[];
  alg?: KeyAlgorithm;
  label?: string;
  out?: string;
  ovpn: boolean;
  'ovpn-remote'?: string;
  'ovpn-proto': 'udp' | 'tcp';
  'ovpn-server-name'?: string;
  'ovpn-server-issuer'?: string;
  'pkcs11-module': string;
  init: boolean;
  'token-label'?: string;
  resume: boolean;
  'issuer-card'?: string;
  'pin-file'?: string;
  'user-pin-file'?: string;
  'user-so-pin-file'?: string;
  'user-mgmt-key-file'?: string;
  'user-slot'?: string;
  'allow-last-pin-try': boolean;
  json: boolean;
}

/** The command to repeat with `--resume` for one card (PIN files shown, never PINs). */
function resumeCommand(args: EnrollArgs, card: string, subject: string, label: string): string {
  const p = ['ca', 'enroll', '--issuer', args.issuer];
  if (args.home) p.push('--home', args.home);
  if (args.profile) p.push('--profile', args.profile);
  p.push('--card', card, '--subject', subject, '--label', label);
  for (const s of args.san ?? []) p.push('--san', s);
  if (args['issuer-card']) p.push('--issuer-card', args['issuer-card']);
  if (args['pin-file']) p.push('--pin-file', args['pin-file']);
  if (args['user-pin-file']) p.push('--user-pin-file', args['user-pin-file']);
  if (args['user-mgmt-key-file']) p.push('--user-mgmt-key-file', args['user-mgmt-key-file']);
  if (args['user-slot']) p.push('--user-slot', args['user-slot']);
  if (args.out) p.push('--out', args.out);
  if (args.ovpn) p.push('--ovpn');
  if (args['ovpn-remote']) p.push('--ovpn-remote', args['ovpn-remote']);
  if (args['ovpn-server-name']) p.push('--ovpn-server-name', args['ovpn-server-name']);
  if (args['ovpn-server-issuer']) p.push('--ovpn-server-issuer', args['ovpn-server-issuer']);
  return p.map(shq).join(' ');
}

function parseRemote(s: string | undefined): { host: string; port: number } | undefined {
  if (s === undefined) return undefined;
  const m = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(?::(\d{1,5}))?$/.exec(s);
  const port = m?.[2] ? Number(m[2]) : 1194;
  if (!m || port < 1 || port > 65535) throw usageError(`--ovpn-remote ${s} is not HOST[:PORT]`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** `--init`: initialise a blank user card (SO-PIN + new user PIN), before anything else touches it. */
async function initUserCard(ctx: CliContext, service: PcscCardService, serial: string, args: EnrollArgs, label: string): Promise<void> {
  const s = await service.open({ serial });
  try {
    if (s.info.initialized) {
      throw new CaError('TOKEN_ALREADY_INITIALISED', `card ${serial} is already initialised; --init would erase every key on it`, {
        hint: 'Drop --init to enrol on it as it is, or wipe it deliberately with `ca card init`.',
      });
    }
    if (s.capabilities.unblockCredential === 'puk') {
      await initPivToken(ctx, s, args);
      return;
    }
    const so = soPinBytes(await obtainPin(ctx, { file: args['user-so-pin-file'], prompt: `SO-PIN of card ${serial} (16 hex digits): `, what: 'SO-PIN' }));
    let pin: Buffer | undefined;
    try {
      pin = args['user-pin-file'] ? readPinFile(args['user-pin-file'], 'user PIN') : await obtainNewPin(ctx, { file: undefined, what: `user PIN for card ${serial}` });
      if (pin.length < 6 || pin.length > 16) throw usageError('the user PIN must be 6 to 16 characters');
      await s.initialize({ soPin: so, userPin: pin, retries: 3, label: label.slice(0, 32) });
    } finally {
      so.fill(0);
      pin?.fill(0);
    }
    eprintln(ctx, `  ✔ initialised card ${serial} ("${label.slice(0, 32)}", 3 PIN tries)`);
  } finally {
    await s.close();
  }
}

function fileStem(r: EnrollResult): string {
  return `${r.cardSerial}-${r.key.label.replace(/[^A-Za-z0-9._-]+/g, '_')}`;
}

/**
 * `--init` on a factory PIV token (the same path as `ca card init` there): management key
 * authenticated, the factory PIN and PUK replaced by the user's (--user-pin-file, and the new PUK
 * from --user-so-pin-file), CHUID and CCC written. A PIV token is never wiped: the driver refuses
 * one whose PIN or PUK is no longer the factory value (PIV_ALREADY_PERSONALISED).
 */
async function initPivToken(ctx: CliContext, s: DriverCardSession, args: EnrollArgs): Promise<void> {
  await authenticateAdminIfNeeded(ctx, s, args['user-mgmt-key-file']);
  let puk: Buffer | undefined;
  let pin: Buffer | undefined;
  try {
    puk = args['user-so-pin-file'] ? readPinFile(args['user-so-pin-file'], 'PUK') : await obtainNewPin(ctx, { file: undefined, what: `new PUK for token ${s.info.serial}` });
    if (puk.length < 6 || puk.length > 8) throw usageError('a PIV PUK must be 6 to 8 characters');
    pin = args['user-pin-file'] ? readPinFile(args['user-pin-file'], 'user PIN') : await obtainNewPin(ctx, { file: undefined, what: `user PIN for token ${s.info.serial}` });
    if (pin.length < 6 || pin.length > 8) throw usageError('a PIV PIN must be 6 to 8 characters');
    await s.initialize({ soPin: puk, userPin: pin, retries: 3, label: s.info.serial });
  } finally {
    puk?.fill(0);
    pin?.fill(0);
  }
  eprintln(ctx, `  ✔ initialised PIV token ${s.info.serial}: new PIN and PUK (3 tries each), CHUID and CCC written`);
}

/** PIV tokens: management key, and the slot of the new key (9A by default). A no-op on other families. */
function prepareUserToken(ctx: CliContext, args: EnrollArgs): (s: DriverCardSession) => Promise<void> {
  return async (s) => {
    if (!s.hasKeySlots) {
      if (args['user-slot'] !== undefined && args.card.length === 1) throw usageError(`--user-slot applies to PIV tokens; card ${s.info.serial} is ${s.info.driver}`);
      return;
    }
    await authenticateAdminIfNeeded(ctx, s, args['user-mgmt-key-file']);
    const slot = s.parseKeySlot(args['user-slot'] ?? '9a');
    if (slot === undefined) throw usageError(`--user-slot ${args['user-slot']} is not a PIV key slot`, 'Use 9a, 9c, 9d, 9e or 82..95.');
    s.keyPlacement = { slot };
  };
}

/** `ca enroll` (definition in enroll.ts). */
export async function runEnroll(ctx: CliContext, args: EnrollArgs): Promise<void> {
  return withCa(ctx, args, { command: `enroll --issuer ${args.issuer}`, write: true }, async (ca) => {
    const issuer = issuingCa(ca, args.issuer);
    const profileName = args.profile ?? issuer.info.profile.issues.find((p) => ca.profiles.profile(p).kind === 'leaf');
    if (!profileName) throw usageError(`CA ${args.issuer} issues no leaf profile`);
    const profile = ca.profiles.leafProfile(profileName);
    const cards = args.card;
    if (new Set(cards).size !== cards.length) throw usageError('the same --card is given twice');
    if (args.subject.length !== 1 && args.subject.length !== cards.length) throw usageError(`${args.subject.length} --subject for ${cards.length} --card`, 'Give one --subject for all cards, or one per --card in the same order.');
    if (args.label !== undefined && cards.length > 1) throw usageError('--label applies to one card only', 'With several cards the label is each subject CN.');
    if (args['issuer-card'] && args['issuer-card'] !== issuer.ca.cardSerial) {
      throw new CaError('CARD_WRONG', `CA ${issuer.ca.name} is bound to card ${issuer.ca.cardSerial}, not ${args['issuer-card']}`, { hint: 'Drop --issuer-card, or insert the bound card.' });
    }
    if (cards.includes(issuer.ca.cardSerial)) throw usageError(`card ${issuer.ca.cardSerial} is the issuer's card`);
    if (args.init && args.resume) throw usageError('--init and --resume exclude each other');
    const algorithm = args.alg ?? (profile.allowedKeys.includes('p256') ? 'p256' : profile.allowedKeys[0]!);
    const sans = (args.san ?? []).map(parseSan);
    const remote = parseRemote(args['ovpn-remote']);
    const jobs = cards.map((serial, i) => {
      const subjectText = args.subject[args.subject.length === 1 ? 0 : i]!;
      const subject = parseRfc4514(subjectText);
      const cn = [...subject].reverse().find((a) => a.type === 'CN')?.value;
      const label = args.label ?? cn;
      if (!label) throw usageError(`no --label and no CN in ${subjectText}`, 'Give --label.');
      const req: EnrollRequest = {
        issuerName: issuer.ca.name,
        issuer: issuer.info,
        profile,
        subject,
        sans,
        algorithm,
        label,
        resume: args.resume,
        resumeCommand: resumeCommand(args, serial, subjectText, label),
      };
      preflightEnrollment(ca, req); // bad input changes nothing: before any card
      return { serial, req };
    });

    const service = cardService(ctx, {});
    const slots: CardSlot[] = [];
    const others = (me: CardSlot) => (): CardSlot[] => slots.filter((s) => s !== me);
    const issuerSlot: CardSlot = new CardSlot(ctx, service, `signing card of ${issuer.ca.name}`, issuer.ca.cardSerial, {
      pinFile: args['pin-file'],
      allowLastPinTry: args['allow-last-pin-try'],
      others: () => others(issuerSlot)(),
    });
    slots.push(issuerSlot);
    let issuerSigner: Signer | undefined;
    const getIssuerSigner = async (): Promise<Signer> => (issuerSigner ??= await (await issuerSlot.get()).signer(issuer.ca.keyId));
    const results: EnrollResult[] = [];
    const outDir = args.out ?? ctx.cwd;
    const written: string[][] = [];
    const caOnToken: number[] = [];
    try {
      for (const job of jobs) {
        eprintln(ctx, `enrolling card ${job.serial} (${job.req.label}):`);
        if (args.init) await initUserCard(ctx, service, job.serial, args, args['token-label'] ?? job.req.label);
        const userSlot: CardSlot = new CardSlot(ctx, service, `user token ${job.serial}`, job.serial, {
          pinFile: args['user-pin-file'],
          allowLastPinTry: args['allow-last-pin-try'],
          others: () => others(userSlot)(),
          prepare: prepareUserToken(ctx, args),
        });
        slots.push(userSlot);
        try {
          const token: TokenCard = await userSlot.get();
          const r = await enrollToken(
            { store: ca.store, clock: ca.clock, crashHook: ca.crashHook, writeBack: writeTokenCertificate, say: (l) => eprintln(ctx, l) },
            token,
            getIssuerSigner,
            job.req,
          );
          results.push(r);
          const chain = chainRecords(ca.store, issuer.ca.name, ca.home).map((c) => c.der);
          // The issuing CA's chain onto the token too, where its family keeps CA certificates.
          try {
            const onToken = await writeTokenCaCertificates(token, chain);
            caOnToken.push(onToken?.stored ?? 0);
            if (!onToken) eprintln(ctx, `  - a ${userSlot.open!.info.driver} token keeps no CA certificates; the chain is in the .chain.pem file`);
            else {
              eprintln(ctx, `  ✔ the CA chain (${onToken.stored} certificate(s), ${onToken.written} new) is on the token, read back`);
              if (onToken.written > 0) {
                ca.store.audit({ event: TOKEN_EVENTS.caCertificatesWritten, ca: issuer.ca.name, data: { card: r.cardSerial, sha256: chain.map((c) => toHex(sha256(c))) } }, ca.clock.now());
              }
            }
          } catch (e) {
            // The enrolment itself is complete (certificate on the token and recorded).
            caOnToken.push(0);
            eprintln(ctx, `  ! the CA chain could not be written onto token ${r.cardSerial}: ${(e as Error).message}. The enrolment itself is complete; clients can take the chain from the .chain.pem file.`);
          }
          const stem = fileStem(r);
          const files = [join(outDir, `${stem}.crt`), join(outDir, `${stem}.chain.pem`)];
          await writeFileAtomic(files[0]!, pemEncode(r.certificate, 'CERTIFICATE'), { mkdirs: true });
          await writeFileAtomic(files[1]!, chain.map((c) => pemEncode(c, 'CERTIFICATE')).join(''), { mkdirs: true });
          if (args.ovpn) {
            const info = userSlot.open!.info;
            const keys = await userSlot.open!.listKeys();
            const pkcs11Id = openscPkcs11Id({ driver: info.driver, serial: info.serial, tokenLabel: info.label, manufacturer: info.manufacturer, tokenSerial: info.tokenSerial, pinLabel: info.pinLabel, keys }, r.key.id);
            const serverIssuer = args['ovpn-server-issuer'] ?? (ca.store.getCa('servers')?.certificate ? 'servers' : issuer.ca.name);
            const tlsCrypt = await readTlsCryptKey(ca);
            try {
              // One renderer for every client profile (src/ca/export/openvpn-client.ts): the
              // token flavour differs only by pkcs11-providers/pkcs11-id instead of cert/key.
              const [ovpn] = renderOpenvpnClient({
                name: stem,
                clientName: r.key.label,
                serialHex: r.record.serialHex,
                issuingCa: issuer.ca.name,
                clientCert: r.certificate,
                clientIntermediates: chain.slice(0, -1),
                serverTrust: chainRecords(ca.store, serverIssuer, ca.home).map((c) => c.der),
                remote: { host: remote?.host, port: remote?.port ?? 1194, proto: args['ovpn-proto'] },
                serverName: args['ovpn-server-name'],
                inline: true,
                ...(tlsCrypt ? { tlsCrypt } : {}),
                pkcs11: { provider: args['pkcs11-module'], id: pkcs11Id, cardSerial: r.cardSerial },
              });
              files.push(join(outDir, ovpn!.path));
              await writeFileAtomic(files[2]!, ovpn!.bytes, { mode: ovpn!.mode, mkdirs: true });
            } finally {
              tlsCrypt?.fill(0);
            }
          }
          written.push(files);
        } finally {
          await userSlot.release();
          slots.splice(slots.indexOf(userSlot), 1);
        }
      }
    } finally {
      for (const s of slots) await s.release();
      await service.close();
    }
    if (args.json) {
      println(
        ctx,
        JSON.stringify(
          results.map((r, i) => ({
            card: r.cardSerial,
            reader: r.reader,
            keyId: r.key.id,
            label: r.key.label,
            algorithm: r.key.algorithm,
            issuer: r.record.issuerName,
            serial: r.record.serialHex,
            subject: r.record.subject,
            notAfter: r.record.notAfter,
            resumed: r.resumed,
            caCertificatesOnToken: caOnToken[i] ?? 0,
            files: written[i],
          })),
          null,
          2,
        ),
      );
    } else {
      for (const [i, r] of results.entries()) {
        println(ctx, `${r.cardSerial}  key ${r.key.id} "${r.key.label}"  ${r.record.issuerName} serial ${r.record.serialHex}  ${r.record.subject}  until ${r.record.notAfter}`);
        for (const f of written[i]!) println(ctx, `  wrote ${f}`);
      }
    }
  });
}
