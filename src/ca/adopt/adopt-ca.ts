import { randomBytes } from 'node:crypto';
import { toHex } from '../../common/hex.js';
import { verifySignature } from '../../crypto/algorithms.js';
import type { SignatureAlgorithm } from '../../crypto/signer.js';
import type { CeremonyCard, CeremonyKey } from '../ceremony.js';
import type { Clock } from '../clock.js';
import { CaError } from '../errors.js';
import { assertClockSane, sha256 } from '../issuance.js';
import type { CaProfile } from '../profile/profile-types.js';
import type { CaStore } from '../store.js';
import { spkiSha256 } from '../x509/key-identifier.js';
import { planAdoption, sourceDigests, type AdoptionPlan } from './adopt-plan.js';
import { allSourceFiles, type AdoptSources, type SourceFile } from './adopt-sources.js';
import type { AdoptedCertificateRow, AdoptedCrlRow, AdoptionImport, AdoptionStore } from './adoption-store.js';
import { deriveProfiles } from './derive-profile.js';

/**
 * `ca adopt` (issue #15): take over an `openssl ca` or easy-rsa CA whose key is already on a
 * card. Order: (1) every file checked (adopt-plan.ts) and the chain to the parent or the root
 * verified; (2) the card key proven to be the certificate's key by a fresh test signature made
 * on the card through cardca's own stack and verified against the certificate; (3) the profiles
 * derived (or the named one checked) and validated with the home's set; only then (4) profile
 * files written and (5) the whole import committed in one transaction with one audit record
 * that carries the SHA-256 of every source file. A failure in (5) removes the files of (4).
 * The CA key never leaves its card; nothing is written to the card.
 */
export interface AdoptDeps {
  readonly store: CaStore;
  readonly adoptions: Pick<AdoptionStore, 'adoptCa'>;
  readonly clock: Clock;
  /** Existing CA profile by name, or undefined. */
  readonly existingProfile: (name: string) => CaProfile | undefined;
  /** Validate the home's profile set with these files added (throws ProfileError). */
  readonly checkProfiles: (files: readonly { name: string; text: string }[]) => void;
  /** Write the files; returns how to take them back if the import fails. */
  readonly writeProfiles: (files: readonly { name: string; text: string }[]) => Promise<() => Promise<void>>;
  readonly say?: (line: string) => void;
}

export interface AdoptOptions {
  readonly caName: string;
  readonly caCertFile: SourceFile;
  readonly sources: AdoptSources;
  readonly parentName?: string;
  readonly root: boolean;
  readonly keyId?: string;
  readonly profileName?: string;
  readonly acceptDiscrepancies: boolean;
  readonly card: () => Promise<CeremonyCard>;
}

export interface AdoptResult {
  readonly caName: string;
  readonly subject: string;
  readonly card: string;
  readonly keyId: string;
  readonly certificates: number;
  readonly revoked: number;
  readonly indexOnly: number;
  readonly crls: number;
  readonly lastCrlNumber: bigint;
  readonly discrepancies: number;
  readonly profile: string;
  readonly profileFiles: readonly string[];
  readonly auditSeq: number;
  readonly plan: AdoptionPlan;
}

async function proveCardKey(card: CeremonyCard, plan: AdoptionPlan, keyId: string | undefined, alg: SignatureAlgorithm): Promise<{ key: CeremonyKey; challengeSha256: string }> {
  const keys = await card.listKeys();
  const want = toHex(spkiSha256(plan.caSpki));
  const key = keyId !== undefined ? keys.find((k) => k.id.toUpperCase() === keyId.toUpperCase()) : keys.find((k) => toHex(spkiSha256(k.publicKey)) === want);
  if (!key) {
    throw new CaError(keyId !== undefined ? 'CARD_KEY_NOT_FOUND' : 'ADOPT_KEY_MISMATCH', keyId !== undefined ? `card ${card.info.serial} has no key with id ${keyId}` : `no key on card ${card.info.serial} has the public key of the CA certificate`, {
      hint: 'Insert the card that holds the CA key (see `ca card list`), or pass --key-id with its id as `pkcs15-tool -D` shows it.',
    });
  }
  // A fresh challenge, signed on the card, verified against the *certificate's* key: the card
  // holds the private key, not only a copy of the public one (issue #15 item 1).
  const challenge = new Uint8Array(Buffer.concat([Buffer.from('cardca adopt proof of possession\n'), randomBytes(32), Buffer.from(sha256(plan.caCertificate))]));
  const signer = await card.signer(key.id);
  const sig = await signer.sign(challenge, alg);
  let ok = false;
  try {
    ok = verifySignature(plan.caSpki, alg, challenge, sig);
  } catch {
    ok = false;
  }
  if (!ok || toHex(spkiSha256(key.publicKey)) !== want) {
    throw new CaError('ADOPT_KEY_MISMATCH', `key ${key.id} on card ${card.info.serial} is not the key of the CA certificate: its test signature does not verify with the certificate's public key`, {
      hint: 'Pass the certificate of the key on this card, or the card of this certificate. Nothing was written.',
      details: { card: card.info.serial, keyId: key.id },
    });
  }
  return { key, challengeSha256: toHex(sha256(challenge)) };
}

function rows(plan: AdoptionPlan, at: Date): { certificates: AdoptedCertificateRow[]; crls: AdoptedCrlRow[] } {
  const cap = (d: Date): Date => (d < at ? d : at);
  const empty = new Uint8Array(0);
  const certificates: AdoptedCertificateRow[] = [
    ...plan.certificates.map((c) => ({
      serial: c.serial, subject: c.subject, sans: c.sans, notBefore: c.notBefore, notAfter: c.notAfter, spkiSha256: c.spkiSha256,
      tbs: c.tbs, tbsSha256: sha256(c.tbs), der: c.der, isCa: c.isCa, issuedAt: cap(c.notBefore),
      ...(c.revocation ? { revocation: { date: cap(c.revocation.date), reason: c.revocation.reason, ...(c.revocation.invalidityDate ? { invalidityDate: cap(c.revocation.invalidityDate) } : {}) } } : {}),
    })),
    // Serials without a certificate file: the serial stays taken; a revoked one stays on every CRL.
    ...plan.indexOnly.map((c) => ({
      serial: c.serial, subject: c.subject, sans: [], notBefore: cap(c.notAfter), notAfter: c.notAfter, spkiSha256: sha256(empty),
      tbs: empty, tbsSha256: sha256(empty), isCa: false, issuedAt: cap(c.notAfter),
      ...(c.revocation ? { revocation: { date: cap(c.revocation.date), reason: c.revocation.reason, ...(c.revocation.invalidityDate ? { invalidityDate: cap(c.revocation.invalidityDate) } : {}) } } : {}),
    })),
  ];
  // Old CRLs with a number and a nextUpdate become this CA's CRL history (the newest is what
  // `ca crl --due` and `ca status` look at until cardca signs the next one).
  const byNumber = new Map<bigint, AdoptedCrlRow>();
  for (const c of plan.crls) {
    if (c.crlNumber === undefined || c.crlNumber === 0n || !c.nextUpdate) continue;
    const prev = byNumber.get(c.crlNumber);
    if (prev && toHex(prev.der) !== toHex(c.der)) {
      throw new CaError('ADOPT_CRL_DUPLICATE_NUMBER', `${c.file} and another CRL file are different CRLs with the same number ${c.crlNumber}`, { hint: 'A CRL number is used once: find out which was published.', details: { file: c.file } });
    }
    byNumber.set(c.crlNumber, { crlNumber: c.crlNumber, thisUpdate: c.thisUpdate, nextUpdate: c.nextUpdate, entries: c.entries, tbs: c.tbs, tbsSha256: sha256(c.tbs), der: c.der });
  }
  return { certificates, crls: [...byNumber.values()] };
}

export async function adoptCa(deps: AdoptDeps, o: AdoptOptions): Promise<AdoptResult> {
  const now = deps.clock.now();
  assertClockSane(deps.store, now);
  if (o.root === (o.parentName !== undefined)) throw new CaError('ADOPT_PARENT_REQUIRED', 'give exactly one of --parent NAME and --root', { hint: 'A self-signed CA takes --root; a sub-CA takes the cardca name of its issuer with --parent.' });
  if (!/^[a-z0-9][a-z0-9-]*$/.test(o.caName)) throw new CaError('ADOPT_NAME_INVALID', `"${o.caName}" is not a lower-case kebab-case CA name`, { hint: 'For example: legacy-vpn.' });
  if (deps.store.getCa(o.caName)) throw new CaError('CA_EXISTS', `CA ${o.caName} already exists`, { hint: 'Adopt under another name (see `ca status`).' });
  let parentChain: Uint8Array[] | undefined;
  if (o.parentName !== undefined) {
    const p = deps.store.getCa(o.parentName);
    if (!p?.certificate) throw new CaError('ADOPT_PARENT_UNKNOWN', `the parent ${o.parentName} is not a CA of this installation (or has no certificate yet)`, { hint: 'Adopt or create the parent first; `ca status` lists the CAs.' });
    parentChain = [p.certificate];
    for (let up = p.parentName; up !== undefined; ) {
      const a = deps.store.getCa(up);
      if (!a?.certificate) break;
      parentChain.push(a.certificate);
      up = a.parentName;
    }
  }
  // (1) every file.
  const plan = await planAdoption({
    caCertFile: o.caCertFile, sources: o.sources, now, acceptDiscrepancies: o.acceptDiscrepancies,
    ...(parentChain ? { parentChain, parentName: o.parentName! } : {}),
  });
  deps.say?.(`checked ${o.sources.index.path}: ${plan.certificates.length} certificate(s) verified against ${plan.caSubject}, ${plan.crls.length} CRL(s), last CRL number ${plan.lastCrlNumber}`);
  // (3) the profile (before the card: a profile problem should not cost a PIN entry).
  const profileName = o.profileName ?? o.caName;
  const existing = deps.existingProfile(profileName);
  const source = `${o.sources.kind === 'openssl' ? 'openssl ca' : 'easy-rsa'} directory ${o.sources.dir}`;
  const derived = existing ? undefined : deriveProfiles({ profileName, caName: o.caName, caCert: plan.caCert, caSpki: plan.caSpki, certificates: plan.certificates, crls: plan.crls, source, ...(o.sources.defaultCrlDays !== undefined ? { defaultCrlDays: o.sources.defaultCrlDays } : {}) });
  if (derived) deps.checkProfiles(derived.files);
  const alg = existing ? existing.signatureAlgorithm : derived!.signatureAlgorithm;
  if (existing && o.profileName === undefined) {
    throw new CaError('ADOPT_PROFILE_EXISTS', `a profile named ${profileName} already exists`, { hint: `Pass --profile ${profileName} to use it as it is, or --profile ${profileName}-adopted to have one derived for review.` });
  }
  // (2) the card.
  const card = await o.card();
  const { key, challengeSha256 } = await proveCardKey(card, plan, o.keyId, alg);
  if (existing && existing.key !== key.algorithm) throw new CaError('ADOPT_PROFILE_MISMATCH', `profile ${profileName} is for ${existing.key} keys; the CA key is ${key.algorithm}`, { hint: 'Omit --profile to have one derived for review.' });
  deps.say?.(`card ${card.info.serial} key ${key.id} signed a test challenge that verifies with the certificate's key`);
  // (4) + (5).
  const at = deps.clock.now();
  const r = rows(plan, at);
  const imp: AdoptionImport = {
    binding: { name: o.caName, ...(o.parentName !== undefined ? { parentName: o.parentName } : {}), profileName, cardSerial: card.info.serial, cardFamily: card.info.driver, keyId: key.id, keyRef: key.keyRef, publicKey: key.publicKey, spkiSha256: spkiSha256(key.publicKey) },
    certificate: plan.caCertificate,
    source: o.sources.kind,
    sourceDir: o.sources.dir,
    certificates: r.certificates,
    crls: r.crls,
    lastCrlNumber: plan.lastCrlNumber,
    ...(plan.nextSerialHex ? { nextSerialHex: plan.nextSerialHex } : {}),
  };
  const revoked = r.certificates.filter((c) => c.revocation).length;
  const audit = {
    event: 'ca.adopted',
    ca: o.caName,
    data: {
      source: o.sources.kind,
      dir: o.sources.dir,
      parent: o.parentName ?? null,
      card: card.info.serial,
      cardFamily: card.info.driver,
      keyId: key.id,
      spkiSha256: toHex(spkiSha256(key.publicKey)),
      certificate: { path: o.caCertFile.path, sha256: toHex(sha256(plan.caCertificate)), subject: plan.caSubject },
      testSignature: { algorithm: alg, challengeSha256 },
      certificates: plan.certificates.length,
      revocations: revoked,
      serialsWithoutFile: plan.indexOnly.map((c) => c.serialHex),
      crls: r.crls.map((c) => c.crlNumber.toString()),
      lastCrlNumber: plan.lastCrlNumber.toString(),
      nextSerial: plan.nextSerialHex ?? null,
      acceptedDiscrepancies: plan.discrepancies.map((d) => ({ kind: d.kind, serial: d.serialHex, where: d.where, detail: d.detail })),
      profile: { name: profileName, derived: derived !== undefined, files: (derived?.files ?? []).map((f) => ({ name: f.name, sha256: toHex(sha256(new TextEncoder().encode(f.text))) })) },
      sourceFiles: sourceDigests([o.caCertFile, ...allSourceFiles(o.sources)]),
    },
  };
  const undo = derived ? await deps.writeProfiles(derived.files) : async () => undefined;
  let seq: number;
  try {
    seq = deps.adoptions.adoptCa(imp, audit, at).auditSeq;
  } catch (e) {
    await undo();
    throw e;
  }
  return {
    caName: o.caName, subject: plan.caSubject, card: card.info.serial, keyId: key.id,
    certificates: plan.certificates.length, revoked, indexOnly: plan.indexOnly.length, crls: r.crls.length,
    lastCrlNumber: plan.lastCrlNumber, discrepancies: plan.discrepancies.length, profile: profileName,
    profileFiles: (derived?.files ?? []).map((f) => f.name), auditSeq: seq, plan,
  };
}
