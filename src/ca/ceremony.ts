import { toHex } from '../common/hex.js';
import type { KeyAlgorithm, Signer } from '../crypto/signer.js';
import type { Clock } from './clock.js';
import { CaError } from './errors.js';
import { assertClockSane, codeOf, issueCertificate, sha256 } from './issuance.js';
import { issuerInfoFromStore } from './issuance-issuer.js';
import type { ProfileSet } from './profile/profile-types.js';
import type { CaRecord, CaStore, CertificateRecord } from './store.js';
import { bytesEqual } from '../common/hex.js';

/**
 * Key ceremonies: `root` (key on the root card, self-signed) and `subca` (key on the sub-CA's
 * card, signed by the root card). The engine sees cards only through `CeremonyCard`, which the
 * card stack's CardSession satisfies structurally, so `src/ca` never imports `src/card`.
 * Every step goes to the audit log; the returned `CeremonyResult` is the hook for transcripts.
 */
export interface CeremonyKey {
  readonly id: string;
  readonly keyRef: number;
  readonly label: string;
  readonly algorithm: KeyAlgorithm;
  readonly publicKey: Uint8Array;
}

export interface CeremonyCard {
  /** `driver`: the card family ('sc-hsm', 'piv', 'myeid'), recorded with the CA and named in the transcript's "signed by". */
  readonly info: { readonly serial: string; readonly reader: string; readonly label?: string | undefined; /** Card family (driver name), recorded with the CA. */ readonly driver: string };
  listKeys(): Promise<readonly CeremonyKey[]>;
  generateKey(o: { label: string; algorithm: KeyAlgorithm }): Promise<CeremonyKey>;
  writeCertificate(keyId: string, certificate: Uint8Array): Promise<void>;
  signer(keyId: string): Promise<Signer>;
}

export interface CeremonyStep {
  readonly at: Date;
  readonly text: string;
  readonly result: 'done' | 'failed';
}

/** Structured record of a ceremony (fills ca/transcript.ts `CeremonyRecord`). */
export interface CeremonyResult {
  readonly kind: 'root' | 'subca';
  readonly caName: string;
  /** Audit sequence number of the ceremony-start record. */
  readonly ceremonyId: string;
  readonly startedAt: Date;
  readonly endedAt: Date;
  readonly steps: readonly CeremonyStep[];
  readonly cards: readonly { role: string; serial: string; reader: string; label?: string }[];
  readonly keys: readonly { label: string; algorithm: string; cardSerial: string; keyId: string; spkiSha256: string }[];
  readonly certificates: readonly { label: string; subject: string; serialHex: string; notBefore: Date; notAfter: Date; sha256: string }[];
  /** Signatures the cards made in this run, and which card made each (a CA key may be on several). */
  readonly signatures: readonly CardSignature[];
  readonly certificate: Uint8Array;
}

/** One signature made by a card (ca/transcript.ts `CeremonyRecord.signatures`). */
export interface CardSignature {
  readonly what: string;
  readonly cardSerial: string;
  readonly cardFamily: string;
  readonly keyId: string;
  readonly keyRef?: number;
}

function signedBy(card: CeremonyCard, what: string, keyId: string, keyRef?: number): CardSignature {
  return { what, cardSerial: card.info.serial, cardFamily: card.info.driver ?? 'unknown', keyId, ...(keyRef === undefined ? {} : { keyRef }) };
}

export interface CeremonyDeps {
  readonly store: CaStore;
  readonly clock: Clock;
  readonly profiles: ProfileSet;
  /** Progress lines for the operator (stderr). */
  readonly say?: (line: string) => void;
}

export class StepLog {
  readonly steps: CeremonyStep[] = [];
  constructor(
    private readonly deps: CeremonyDeps,
    private readonly caName: string,
    readonly ceremonyId: string,
  ) {}
  done(text: string, data: Record<string, unknown> = {}): void {
    const at = this.deps.clock.now();
    this.steps.push({ at, text, result: 'done' });
    this.deps.store.audit({ event: 'ceremony.step', ca: this.caName, data: { ceremony: this.ceremonyId, step: text, ...data } }, at);
    this.deps.say?.(`  ✔ ${text}`);
  }
}

export async function obtainKey(card: CeremonyCard, keyId: string | undefined, algorithm: KeyAlgorithm, label: string, log: StepLog): Promise<CeremonyKey> {
  if (keyId !== undefined) {
    const key = (await card.listKeys()).find((k) => k.id.toUpperCase() === keyId.toUpperCase());
    if (!key) {
      throw new CaError('CARD_KEY_NOT_FOUND', `card ${card.info.serial} has no key with id ${keyId}`, { hint: 'List the keys with `ca card status`.' });
    }
    if (key.algorithm !== algorithm) {
      throw new CaError('POLICY_KEY_TYPE', `key ${keyId} is ${key.algorithm}; the profile needs ${algorithm}`, { hint: 'Generate a new key (omit --key-id).' });
    }
    log.done(`use existing key ${key.id} (${key.algorithm}) on card ${card.info.serial}`, { keyId: key.id, spkiSha256: toHex(sha256(key.publicKey)) });
    return key;
  }
  const key = await card.generateKey({ label, algorithm });
  log.done(`generated ${algorithm} key ${key.id} on card ${card.info.serial}`, { keyId: key.id, keyRef: key.keyRef, spkiSha256: toHex(sha256(key.publicKey)) });
  return key;
}

/**
 * `--resume` (issue #8 item 5): the key the first run generated and bound is re-used, after
 * checking the card serial, the key id and the public key against what the database recorded.
 */
async function resumeKey(card: CeremonyCard, ca: CaRecord, log: StepLog): Promise<CeremonyKey> {
  if (card.info.serial !== ca.cardSerial) {
    throw new CaError('CARD_WRONG', `CA ${ca.name}'s key was generated on card ${ca.cardSerial}, not on card ${card.info.serial}`, { hint: `Insert card ${ca.cardSerial} (or pass --card ${ca.cardSerial}).` });
  }
  const key = (await card.listKeys()).find((k) => k.id.toUpperCase() === ca.keyId.toUpperCase());
  if (!key) {
    throw new CaError('CA_RESUME_KEY_MISSING', `card ${card.info.serial} no longer has key ${ca.keyId}, which the first run of the ${ca.name} ceremony bound`, {
      hint: 'The key was deleted from the card: this CA cannot be finished. Keep the card and the audit log for the investigation.',
    });
  }
  if (!bytesEqual(key.publicKey, ca.publicKey)) {
    throw new CaError('CA_RESUME_KEY_MISMATCH', `key ${ca.keyId} on card ${card.info.serial} is not the key the first run bound (its public key differs)`, {
      hint: 'Do not continue with this card: compare `ca card list` with the ca.bound audit record.',
    });
  }
  log.done(`resumed: key ${key.id} on card ${card.info.serial} is the one bound by the first run (public key matches)`, { keyId: key.id, resume: true });
  return key;
}

/** A certificate the interrupted run already signed for this CA key (newest first), and any others. */
function alreadySigned(store: CaStore, issuerName: string, ca: CaRecord): { attach: CertificateRecord | undefined; others: CertificateRecord[] } {
  const signed = store.findCertificates({ issuer: issuerName, status: 'issued' }).filter((c) => c.isCa && bytesEqual(c.spkiSha256, ca.spkiSha256));
  return { attach: signed.at(-1), others: signed.slice(0, -1) };
}

/**
 * On resume: a certificate the interrupted run already signed (and verified) for this key is
 * attached rather than signed again; any further ones (a run that signed twice) are revoked as
 * superseded so exactly one CA certificate for the key stays valid.
 */
function settlePrior(deps: CeremonyDeps, issuerName: string, ca: CaRecord, log: StepLog): CertificateRecord | undefined {
  const { attach, others } = alreadySigned(deps.store, issuerName, ca);
  for (const c of others) {
    const at = deps.clock.now();
    deps.store.revokeCertificate(c.id, at, 'superseded', { event: 'certificate.revoked', ca: issuerName, data: { serial: c.serialHex, reason: 'superseded', date: at.toISOString(), resume: true } }, at);
    log.done(`revoked the extra certificate serial ${c.serialHex} the interrupted run signed (superseded)`, { serial: c.serialHex });
  }
  if (attach) log.done(`attached the certificate the interrupted run signed and verified (serial ${attach.serialHex})`, { serial: attach.serialHex });
  return attach;
}

async function run(
  deps: CeremonyDeps,
  kind: 'root' | 'subca',
  caName: string,
  resume: boolean,
  body: (log: StepLog, unfinished: CaRecord | undefined) => Promise<Omit<CeremonyResult, 'kind' | 'caName' | 'ceremonyId' | 'startedAt' | 'endedAt' | 'steps'>>,
): Promise<CeremonyResult> {
  const startedAt = deps.clock.now();
  assertClockSane(deps.store, startedAt);
  const existing = deps.store.getCa(caName);
  const again = kind === 'root' ? 'ca ceremony root' : `ca ceremony subca ${caName}`;
  if (existing?.certificate) {
    throw new CaError('CA_EXISTS', `CA ${caName} already exists (its ceremony completed)`, { hint: 'A ceremony runs once per CA; see `ca list` and `ca show`.' });
  }
  if (existing && !resume) {
    throw new CaError('CA_EXISTS', `the ${kind === 'root' ? 'root' : 'sub-CA'} ceremony of ${caName} started but did not finish: its key ${existing.keyId} on card ${existing.cardSerial} is bound, it has no certificate yet`, {
      hint: `Finish it with \`${again} --resume\` (same card and PIN options); it re-uses that key and signs or attaches the certificate.`,
      details: { card: existing.cardSerial, keyId: existing.keyId },
    });
  }
  if (!existing && resume) {
    throw new CaError('CA_NOTHING_TO_RESUME', `no unfinished ceremony of ${caName} to resume: the CA was never bound to a key`, { hint: `Run \`${again}\` without --resume.` });
  }
  const start = deps.store.audit({ event: 'ceremony.start', ca: caName, data: { kind, ...(resume ? { resume: true } : {}) } }, startedAt);
  const log = new StepLog(deps, caName, String(start.seq));
  try {
    const r = await body(log, existing);
    const endedAt = deps.clock.now();
    deps.store.audit({ event: 'ceremony.end', ca: caName, data: { ceremony: log.ceremonyId, status: 'success', certificateSha256: toHex(sha256(r.certificate)) } }, endedAt);
    return { kind, caName, ceremonyId: log.ceremonyId, startedAt, endedAt, steps: log.steps, ...r };
  } catch (e) {
    deps.store.audit({ event: 'ceremony.end', ca: caName, data: { ceremony: log.ceremonyId, status: 'failed', code: codeOf(e), message: (e as Error).message } }, deps.clock.now());
    throw e;
  }
}

export interface RootCeremonyOptions {
  readonly card: CeremonyCard;
  /** Use this existing key instead of generating one. */
  readonly keyId?: string;
  /** Root name (default: the hierarchy's root). */
  readonly caName?: string;
  /** Finish a ceremony that failed after binding its key (`--resume`). */
  readonly resume?: boolean;
}

export async function rootCeremony(deps: CeremonyDeps, o: RootCeremonyOptions): Promise<CeremonyResult> {
  const node = o.caName ? deps.profiles.ca(o.caName) : deps.profiles.cas.find((c) => c.parent === undefined);
  if (!node) throw new CaError('PROFILE_NO_ROOT', 'the hierarchy has no root CA');
  if (node.parent !== undefined) throw new CaError('USAGE_NOT_ROOT', `${node.name} is not the root (its parent is ${node.parent}); use \`ca ceremony subca ${node.name}\``);
  return run(deps, 'root', node.name, o.resume === true, async (log, unfinished) => {
    log.done(`card ${o.card.info.serial} in "${o.card.info.reader}" opened, PIN verified`, { card: o.card.info.serial });
    const key = unfinished ? await resumeKey(o.card, unfinished, log) : await obtainKey(o.card, o.keyId, node.profile.key, `cardca ${node.name}`, log);
    const spkiSha256 = sha256(key.publicKey);
    if (!unfinished) deps.store.createCa(
      { name: node.name, profileName: node.profile.name, cardSerial: o.card.info.serial, cardFamily: o.card.info.driver, keyId: key.id, keyRef: key.keyRef, publicKey: key.publicKey, spkiSha256 },
      { event: 'ca.bound', ca: node.name, data: { card: o.card.info.serial, cardFamily: o.card.info.driver, keyId: key.id, keyRef: key.keyRef, spkiSha256: toHex(spkiSha256) } },
      deps.clock.now(),
    );
    if (!unfinished) log.done('bound the key to the CA in the database');
    const prior = unfinished ? settlePrior(deps, node.name, unfinished, log) : undefined;
    const issued = prior
      ? { record: prior, der: prior.der! }
      : await issueCertificate(
          { store: deps.store, clock: deps.clock, signer: await o.card.signer(key.id), issuerName: node.name, issuer: 'self' },
          { profile: node.profile, spki: key.publicKey, subject: [], subjectCaName: node.name, source: 'ceremony root' },
        );
    if (!prior) log.done(`self-signed the root certificate (serial ${issued.record.serialHex}), signature and TBS verified`, { serial: issued.record.serialHex });
    await o.card.writeCertificate(key.id, issued.der);
    log.done(`wrote the certificate to card ${o.card.info.serial}`);
    deps.store.setCaCertificate(node.name, issued.der, { event: 'ca.certificate', ca: node.name, data: { serial: issued.record.serialHex, sha256: toHex(sha256(issued.der)) } }, deps.clock.now());
    log.done('recorded the root certificate in the database');
    return {
      cards: [{ role: 'root', serial: o.card.info.serial, reader: o.card.info.reader, ...(o.card.info.label ? { label: o.card.info.label } : {}) }],
      keys: [{ label: key.label, algorithm: key.algorithm, cardSerial: o.card.info.serial, keyId: key.id, spkiSha256: toHex(spkiSha256) }],
      certificates: [certSummary(node.name, issued.record.subject, issued.record.serialHex, issued.record.notBefore, issued.record.notAfter, issued.der)],
      signatures: prior ? [] : [signedBy(o.card, `${node.name} root certificate (serial ${issued.record.serialHex})`, key.id, key.keyRef)],
      certificate: issued.der,
    };
  });
}

export interface SubCaCeremonyOptions {
  readonly caName: string;
  /** The sub-CA's card (called again for the final write: the operator may have swapped cards). */
  readonly subjectCard: () => Promise<CeremonyCard>;
  /** The issuing (parent) CA's card, PIN verified. */
  readonly issuerCard: () => Promise<CeremonyCard>;
  /**
   * Every card that holds the parent CA's key (its ceremony card and cards restored from a DKEK
   * backup, `ca key restore`); default: the parent's ceremony card only.
   */
  readonly issuerCards?: readonly { readonly serial: string; readonly keyRef: number }[];
  readonly keyId?: string;
  /** Finish a ceremony that failed after binding its key (`--resume`). */
  readonly resume?: boolean;
}

export async function subCaCeremony(deps: CeremonyDeps, o: SubCaCeremonyOptions): Promise<CeremonyResult> {
  const node = deps.profiles.ca(o.caName);
  if (node.parent === undefined) throw new CaError('USAGE_IS_ROOT', `${node.name} is the root; use \`ca ceremony root\``);
  const parent = deps.store.getCa(node.parent);
  if (!parent?.certificate) {
    throw new CaError('CA_PARENT_MISSING', `the parent CA ${node.parent} has no certificate yet`, { hint: `Run the ${node.parent} ceremony first.` });
  }
  const parentInfo = issuerInfoFromStore(deps.store, parent, deps.profiles.caProfile(parent.profileName));
  return run(deps, 'subca', node.name, o.resume === true, async (log, unfinished) => {
    const subj = await o.subjectCard();
    const subjSerial = subj.info.serial;
    log.done(`sub-CA card ${subjSerial} in "${subj.info.reader}" opened, PIN verified`, { card: subjSerial });
    const key = unfinished ? await resumeKey(subj, unfinished, log) : await obtainKey(subj, o.keyId, node.profile.key, `cardca ${node.name}`, log);
    const spkiSha256 = sha256(key.publicKey);
    if (!unfinished) deps.store.createCa(
      { name: node.name, parentName: parent.name, profileName: node.profile.name, cardSerial: subjSerial, cardFamily: subj.info.driver, keyId: key.id, keyRef: key.keyRef, publicKey: key.publicKey, spkiSha256 },
      { event: 'ca.bound', ca: node.name, data: { card: subjSerial, cardFamily: subj.info.driver, keyId: key.id, keyRef: key.keyRef, spkiSha256: toHex(spkiSha256), parent: parent.name } },
      deps.clock.now(),
    );
    if (!unfinished) log.done('bound the key to the CA in the database');
    const prior = unfinished ? settlePrior(deps, parent.name, unfinished, log) : undefined;
    let iss: CeremonyCard | undefined;
    if (!prior) {
      iss = await o.issuerCard();
      const issuerCards = o.issuerCards ?? [{ serial: parent.cardSerial, keyRef: parent.keyRef }];
      if (!issuerCards.some((c) => c.serial === iss!.info.serial)) {
        throw new CaError('CARD_WRONG', `card ${iss.info.serial} is not a card of ${parent.name} (${issuerCards.map((c) => c.serial).join(', ')})`, {
          hint: `Insert card ${parent.cardSerial}, then finish with \`ca ceremony subca ${node.name} --resume\` (--issuer-card ${parent.cardSerial}).`,
        });
      }
      log.done(`issuer card ${iss.info.serial} (${parent.name}) in "${iss.info.reader}" opened, PIN verified`, { card: iss.info.serial });
    }
    const issued = prior
      ? { record: prior, der: prior.der! }
      : await issueCertificate(
          { store: deps.store, clock: deps.clock, signer: await iss!.signer(parent.keyId), issuerName: parent.name, issuer: parentInfo },
          { profile: node.profile, spki: key.publicKey, subject: [], subjectCaName: node.name, source: `ceremony subca ${node.name}` },
        );
    if (!prior) log.done(`${parent.name} signed the ${node.name} certificate (serial ${issued.record.serialHex}), signature and TBS verified`, { serial: issued.record.serialHex });
    const again = await o.subjectCard();
    if (again.info.serial !== subjSerial) throw new CaError('CARD_WRONG', `expected card ${subjSerial}, got ${again.info.serial}`, { hint: `Insert card ${subjSerial}.` });
    await again.writeCertificate(key.id, issued.der);
    log.done(`wrote the certificate to card ${subjSerial}`);
    deps.store.setCaCertificate(node.name, issued.der, { event: 'ca.certificate', ca: node.name, data: { serial: issued.record.serialHex, sha256: toHex(sha256(issued.der)) } }, deps.clock.now());
    log.done(`recorded the ${node.name} certificate in the database`);
    return {
      cards: [
        { role: node.name, serial: subjSerial, reader: subj.info.reader, ...(subj.info.label ? { label: subj.info.label } : {}) },
        ...(iss ? [{ role: parent.name, serial: iss.info.serial, reader: iss.info.reader, ...(iss.info.label ? { label: iss.info.label } : {}) }] : []),
      ],
      keys: [{ label: key.label, algorithm: key.algorithm, cardSerial: subjSerial, keyId: key.id, spkiSha256: toHex(spkiSha256) }],
      certificates: [certSummary(node.name, issued.record.subject, issued.record.serialHex, issued.record.notBefore, issued.record.notAfter, issued.der)],
      signatures: iss ? [signedBy(iss, `${node.name} sub-CA certificate (serial ${issued.record.serialHex}) by ${parent.name}`, parent.keyId, (o.issuerCards ?? [{ serial: parent.cardSerial, keyRef: parent.keyRef }]).find((c) => c.serial === iss!.info.serial)?.keyRef)] : [],
      certificate: issued.der,
    };
  });
}

function certSummary(label: string, subject: string, serialHex: string, nb: string, na: string, der: Uint8Array) {
  return { label, subject, serialHex, notBefore: new Date(nb), notAfter: new Date(na), sha256: toHex(sha256(der)) };
}

/** Human summary of an issued certificate for progress output. */
export function describeIssued(subject: string, serialHex: string, notAfter: string): string {
  return `${subject || '(empty subject)'} serial ${serialHex} valid until ${notAfter}`;
}
