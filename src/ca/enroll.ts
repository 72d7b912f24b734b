import { bytesEqual, toHex } from '../common/hex.js';
import { CardcaError } from '../common/cardca-error.js';
import type { KeyAlgorithm, Signer } from '../crypto/signer.js';
import type { IssuerInfo } from './cert/certificate-content.js';
import type { CeremonyKey } from './ceremony.js';
import { certificateContent } from './cert/certificate-content.js';
import type { Clock } from './clock.js';
import type { CrashHook } from './crash-points.js';
import { buildCsr } from './csr/build-csr.js';
import { CaError, PolicyError } from './errors.js';
import { assertClockSane, codeOf, issueCertificate, sha256 } from './issuance.js';
import type { LeafProfile } from './profile/profile-types.js';
import type { CaStore, CertificateRecord } from './store.js';
import { TOKEN_EVENTS } from './token-records.js';
import type { SanEntry } from './x509/extensions.js';
import type { NameAttribute } from './x509/name.js';

/**
 * Enrolment of a user's token (issue #11): key generated on the user's card, a CSR signed on
 * that card (proof of possession), the certificate issued through the normal issuance cycle by
 * the issuer's card, written back to the user's card and read back. The engine sees the user's
 * card only through `TokenCard` (the card stack's session satisfies it structurally), so any
 * card family with a driver can be a token, and `src/ca` never imports `src/card`.
 */
export interface TokenKey extends CeremonyKey {
  /** DER X.509 certificate stored next to the key, if any. */
  readonly certificate: Uint8Array | undefined;
}

export interface TokenCard {
  readonly info: { readonly serial: string; readonly reader: string; readonly label?: string | undefined; readonly driver?: string };
  listKeys(): Promise<readonly TokenKey[]>;
  generateKey(o: { label: string; algorithm: KeyAlgorithm }): Promise<TokenKey>;
  signer(keyId: string): Promise<Signer>;
}

export interface EnrollDeps {
  readonly store: CaStore;
  readonly clock: Clock;
  readonly crashHook?: CrashHook | undefined;
  /** Store the certificate next to the key on the user's card (the write-back seam). */
  readonly writeBack: (card: TokenCard, keyId: string, der: Uint8Array) => Promise<void>;
  readonly say?: (line: string) => void;
}

export interface EnrollRequest {
  readonly issuerName: string;
  readonly issuer: IssuerInfo;
  readonly profile: LeafProfile;
  /** Requested subject (RDN order); the profile adds what it fixes. */
  readonly subject: readonly NameAttribute[];
  /** Operator SANs (replace whatever the CSR carries, as with `ca sign --san`). */
  readonly sans?: readonly SanEntry[];
  readonly algorithm: KeyAlgorithm;
  /** Key label on the token (also how `--resume` finds the key). */
  readonly label: string;
  /** Finish an enrolment that left a key without a certificate. */
  readonly resume: boolean;
  /** The command line to repeat with `--resume` (for the error hint). */
  readonly resumeCommand: string;
}

export interface EnrollResult {
  readonly cardSerial: string;
  readonly reader: string;
  readonly key: TokenKey;
  readonly certificate: Uint8Array;
  readonly record: CertificateRecord;
  /** The CSR signed on the token (absent when --resume found the certificate already issued). */
  readonly csr: Uint8Array | undefined;
  /** What --resume picked up: 'key' (key existed, certificate issued now), 'certificate' (only written back). */
  readonly resumed: 'no' | 'key' | 'certificate';
}

/**
 * Checks that need no card write: profile key policy, subject/SAN policy (a dry run of the
 * content decision, with the issuer's own key standing in for the key not yet generated; the
 * result is thrown away), clock sanity.
 */
export function preflightEnrollment(deps: Pick<EnrollDeps, 'store' | 'clock'>, req: EnrollRequest): void {
  assertClockSane(deps.store, deps.clock.now());
  if (!req.profile.allowedKeys.includes(req.algorithm)) {
    throw new PolicyError('POLICY_KEY_TYPE', `profile ${req.profile.name} does not allow ${req.algorithm} keys`, {
      hint: `Use --alg with one of: ${req.profile.allowedKeys.join(', ')}.`,
    });
  }
  if (!req.issuer.profile.issues.includes(req.profile.name)) {
    throw new PolicyError('POLICY_PROFILE_NOT_ISSUED', `CA ${req.issuerName} does not issue profile ${req.profile.name}`, {
      hint: `CA ${req.issuerName} issues: ${req.issuer.profile.issues.join(', ')}.`,
    });
  }
  certificateContent({
    issuer: req.issuer,
    profile: req.profile,
    spki: req.issuer.spki,
    subject: req.subject,
    ...(req.sans && req.sans.length > 0 ? { sanOverride: req.sans } : {}),
    serial: Uint8Array.of(1),
    now: deps.clock.now(),
  });
}

/**
 * What is on the token under `label`, before anything is written: refuses a label already used
 * (unless resuming a key that has no certificate yet). Returns the key to resume, if any.
 */
export async function inspectToken(card: TokenCard, req: Pick<EnrollRequest, 'label' | 'resume' | 'resumeCommand' | 'profile'>): Promise<TokenKey | undefined> {
  const same = (await card.listKeys()).filter((k) => k.label === req.label);
  const serial = card.info.serial;
  if (!req.resume) {
    if (same.length > 0) {
      const k = same[0]!;
      throw new CaError('TOKEN_LABEL_TAKEN', `card ${serial} already holds key ${k.id} labelled "${req.label}"${k.certificate ? ' with a certificate' : ' without a certificate'}`, {
        hint: k.certificate
          ? 'Choose another --label, or revoke and re-initialise the token.'
          : `Finish that enrolment: ${req.resumeCommand} --resume — or choose another --label.`,
        details: { card: serial, keyId: k.id },
      });
    }
    return undefined;
  }
  if (same.length !== 1) {
    throw new CaError('TOKEN_NOTHING_TO_RESUME', `card ${serial} has ${same.length} keys labelled "${req.label}"; --resume needs exactly one`, {
      hint: 'Check `ca card list` and the --label you enrolled with.',
    });
  }
  const k = same[0]!;
  if (!req.profile.allowedKeys.includes(k.algorithm)) {
    throw new PolicyError('POLICY_KEY_TYPE', `key ${k.id} on card ${serial} is ${k.algorithm}; profile ${req.profile.name} does not allow it`);
  }
  return k;
}

/** One token: generate (or resume), CSR on the token, issue, write back, read back. */
export async function enrollToken(deps: EnrollDeps, card: TokenCard, issuerSigner: () => Promise<Signer>, req: EnrollRequest): Promise<EnrollResult> {
  const serial = card.info.serial;
  const existing = await inspectToken(card, req);
  const say = (l: string): void => deps.say?.(`  ✔ ${l}`);
  const signer = await issuerSigner(); // the issuer's card is open and verified before the token is touched
  let key: TokenKey;
  if (existing) {
    key = existing;
    say(`resuming key ${key.id} ("${key.label}", ${key.algorithm}) on card ${serial}`);
  } else {
    key = await card.generateKey({ label: req.label, algorithm: req.algorithm });
    deps.store.audit(
      { event: TOKEN_EVENTS.keyGenerated, ca: req.issuerName, data: { card: serial, keyId: key.id, keyRef: key.keyRef, label: key.label, algorithm: key.algorithm, spkiSha256: toHex(sha256(key.publicKey)) } },
      deps.clock.now(),
    );
    say(`generated ${key.algorithm} key ${key.id} ("${key.label}") on card ${serial}`);
  }
  try {
    let record: CertificateRecord | undefined;
    let der: Uint8Array | undefined;
    let csr: Uint8Array | undefined;
    let resumed: EnrollResult['resumed'] = existing ? 'key' : 'no';
    if (existing) {
      // A certificate already issued for this key (a run stopped before the write-back) is
      // written, never issued twice: a subscriber key is certified once.
      const prior = deps.store.lookupKey(sha256(key.publicKey)).find((r) => r.kind === 'issued' && !r.revoked);
      if (prior && prior.kind === 'issued') {
        record = deps.store.getCertificate(prior.serialHex).find((c) => c.status === 'issued' && c.der !== undefined && bytesEqual(c.spkiSha256, sha256(key.publicKey)));
        der = record?.der;
        if (der) resumed = 'certificate';
      }
    }
    if (!der || !record) {
      const built = await buildCsr(await card.signer(key.id), { subject: req.subject, ...(req.sans ? { sans: req.sans } : {}) });
      csr = built.der;
      say(`CSR signed on card ${serial} (${built.parsed.signatureAlgorithm}), proof of possession verified`);
      const issued = await issueCertificate(
        { store: deps.store, clock: deps.clock, signer, issuerName: req.issuerName, issuer: req.issuer, ...(deps.crashHook ? { crashHook: deps.crashHook } : {}) },
        {
          profile: req.profile,
          spki: built.parsed.spki,
          subject: built.parsed.subject,
          ...(req.sans && req.sans.length > 0 ? { sanOverride: req.sans } : {}),
          csrDer: built.der,
          source: `enroll card ${serial} key ${key.id}`,
        },
      );
      record = issued.record;
      der = issued.der;
      say(`${req.issuerName} issued serial ${record.serialHex} (${record.subject})`);
    }
    deps.store.audit(
      { event: TOKEN_EVENTS.enrolled, ca: req.issuerName, data: { card: serial, keyId: key.id, keyRef: key.keyRef, label: key.label, serial: record.serialHex, issuer: record.issuerName, sha256: toHex(sha256(der)) } },
      deps.clock.now(),
    );
    await deps.writeBack(card, key.id, der);
    const back = (await card.listKeys()).find((k) => k.id === key.id);
    if (!back?.certificate || !bytesEqual(back.certificate, der)) {
      throw new CaError('TOKEN_READBACK_MISMATCH', `the certificate read back from card ${serial} is not the one written`, {
        hint: 'The card may be faulty or full; do not hand it out.',
      });
    }
    deps.store.audit({ event: TOKEN_EVENTS.certificateWritten, ca: req.issuerName, data: { card: serial, keyId: key.id, serial: record.serialHex } }, deps.clock.now());
    say(`certificate written to card ${serial} and read back identical`);
    return { cardSerial: serial, reader: card.info.reader, key, certificate: der, record, csr, resumed };
  } catch (e) {
    deps.store.audit({ event: TOKEN_EVENTS.incomplete, ca: req.issuerName, data: { card: serial, keyId: key.id, code: codeOf(e), message: (e as Error).message } }, deps.clock.now());
    const code = codeOf(e);
    throw new CaError('TOKEN_INCOMPLETE', `card ${serial} holds key ${key.id} ("${key.label}") but no certificate yet: [${code}] ${(e as Error).message}`, {
      cause: e,
      hint: `${e instanceof CardcaError && e.hint ? `${e.hint} ` : ''}Then finish with: ${req.resumeCommand} --resume (or re-initialise the token with \`ca card init\` to start over).`,
      details: { card: serial, keyId: key.id, cause: code },
    });
  }
}
