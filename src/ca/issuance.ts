import { noteOutcomeUnknown } from './outcome-unknown-note.js';
import { randomBytes } from 'node:crypto';
import { sha256 } from '../common/sha256.js';
import { toHex } from '../common/hex.js';
import type { Signer } from '../crypto/signer.js';
import { assembleCertificate } from './cert/assemble-certificate.js';
import { buildTbsCertificate } from './cert/build-tbs-certificate.js';
import { certificateContent, certificateContentAt, type CertificateContent, type CertificateContentRequest, type IssuerInfo } from './cert/certificate-content.js';
import { verifyIssuedCertificate } from './cert/verify-issued-certificate.js';
import type { Clock } from './clock.js';
import { isoUtc } from './clock.js';
import { checkKeyNotReused, type KeyLookupResult } from './csr/check-csr.js';
import { crashPoint, type CrashHook } from './crash-points.js';
import { CaError } from './errors.js';
import { assertCertificateLintClean, assertTbsCertificateLintClean, type CertificateLintContext } from './lint/lint-certificate.js';
import type { AuditEvent, CaStore, CertificateRecord } from './store.js';
import type { SignatureAlgorithm } from '../crypto/signer.js';
import type { SanEntry } from './x509/extensions.js';
import { formatName } from './x509/name.js';
import { spkiSha256 } from './x509/key-identifier.js';
import { CardcaError } from '../common/cardca-error.js';

/**
 * The issuance cycle, intent before signature (ARCHITECTURE.md "Issuance cycle"):
 * content from the profile → TX1 (reserve serial, store TBS + hash, audit intent) → lint →
 * card signs → assemble → verify signature and TBS identity → TX2 (issued, DER, audit).
 * Any failure after TX1 leaves the serial burnt: `abandoned` when nothing can have been signed
 * (lint), `outcome_unknown` when the card may have signed.
 */

/** 16 CSPRNG octets, top bit cleared (positive), first octet non-zero (minimal DER): ≥ 64 bits of entropy (BR 7.1). */
export function randomSerial(random: (n: number) => Uint8Array = (n) => new Uint8Array(randomBytes(n))): Uint8Array {
  for (;;) {
    const s = random(16);
    s[0]! &= 0x7f;
    if (s[0] !== 0) return s;
  }
}

/** Kept for the modules that import it from here; the one implementation is common/sha256.ts. */
export { sha256 };

/** Refuse to sign when the clock is behind the last recorded activity (ARCHITECTURE.md rules). */
export function assertClockSane(store: CaStore, now: Date): void {
  const last = store.lastActivity();
  if (last && now.getTime() < last.getTime()) {
    throw new CaError('CLOCK_BEHIND', `the clock says ${isoUtc(now)}, before the last recorded activity ${isoUtc(last)}`, {
      hint: 'Set the system clock correctly (check it against an independent clock) and run the command again.',
      details: { now: isoUtc(now), last: isoUtc(last) },
    });
  }
}

export interface IssuanceDeps {
  readonly store: CaStore;
  readonly clock: Clock;
  /** The issuing CA's key (a card signer); for a self-signed root, the root's own key. */
  readonly signer: Signer;
  /** Name of the issuing CA in the store. */
  readonly issuerName: string;
  /** The issuing CA's certificate info, or 'self' for the root's self-signature. */
  readonly issuer: IssuerInfo | 'self';
  /** Source of serial randomness (tests). */
  readonly random?: (n: number) => Uint8Array;
  /** Kill-point hook of the crash tests (crash-points.ts); absent in normal runs. */
  readonly crashHook?: CrashHook;
}

/** What to certify: the content inputs of `certificateContent`, plus issuance bookkeeping. */
export interface IssuanceRequest
  extends Pick<CertificateContentRequest, 'profile' | 'spki' | 'subject' | 'csrSans' | 'sanOverride' | 'validity'> {
  /** The CSR (stored as the request). */
  readonly csrDer?: Uint8Array;
  /** For a CA certificate: the name of the CA whose key this is (its own binding is not a "reuse"). */
  readonly subjectCaName?: string;
  /** Free-form origin for the audit record (e.g. the CSR file name). */
  readonly source?: string;
  /**
   * Reserve as a queued batch row (migration 7): the card is not asked for it until
   * `store.markCertificateSent` commits (batch-issuance.ts). Without it the row may be sent as
   * soon as the reservation commits, and a crash makes it outcome_unknown.
   */
  readonly queued?: boolean;
  /**
   * The content decision already made for exactly this request (a batch's plan); the
   * reservation then decides only serial and validity again (`certificateContentAt`).
   */
  readonly decided?: CertificateContent;
}

export interface IssuedCertificate {
  readonly record: CertificateRecord;
  readonly der: Uint8Array;
  /** Time spent in the signer (card work), ms. */
  readonly signMs: number;
}

export function sanText(s: SanEntry): string {
  return `${s.type}:${s.value}`;
}

export async function issueCertificate(deps: IssuanceDeps, req: IssuanceRequest): Promise<IssuedCertificate> {
  const { store, clock, issuerName } = deps;
  const now = clock.now();
  assertClockSane(store, now);
  const checked = checkIssuance(deps, req);
  const reserved = reserveIssuance(deps, req, checked, now);
  crashPoint(deps.crashHook, 'issuance-after-reserve');
  try {
    lintReservedTbs(reserved);
  } catch (e) {
    store.markCertificateFailed(reserved.record.id, 'abandoned', abandonedEvent(issuerName, reserved, e), clock.now());
    throw e;
  }
  let signed: SignedIssuance;
  try {
    signed = await signReserved(deps, reserved);
  } catch (e) {
    // The card may have produced a signature: the serial goes on the next CRL.
    store.markCertificateFailed(reserved.record.id, 'outcome_unknown', outcomeUnknownEvent(issuerName, reserved, e), clock.now());
    noteOutcomeUnknown(e, `certificate serial ${reserved.record.serialHex} of CA ${issuerName}`, 'it will be listed on the next CRL of that CA');
    throw e;
  }
  const record = recordIssued(deps, reserved, signed.der);
  crashPoint(deps.crashHook, 'issuance-after-commit');
  return { record, der: signed.der, signMs: signed.signMs };
}

/** What `checkIssuance` established once for a request (and, in a batch, for its issuer). */
export interface CheckedIssuance {
  readonly spkiHash: Uint8Array;
  readonly issuerSpki: Uint8Array;
}

/** Duplicate keys and the signer's key: refusals before any serial is drawn. */
export function checkIssuance(deps: IssuanceDeps, req: IssuanceRequest): CheckedIssuance {
  const { store } = deps;
  const spkiHash = spkiSha256(req.spki);
  // Duplicate keys: a CA key is never certified for anything else, a subscriber key only once.
  checkKeyNotReused(spkiHash, (h): KeyLookupResult[] =>
    store.lookupKey(h).filter((r) => !(r.kind === 'ca' && req.subjectCaName !== undefined && r.caName === req.subjectCaName)),
  );
  return { spkiHash, issuerSpki: checkSignerKey(deps, req.spki) };
}

/** The signer must hold the issuer's key (the subject's own for a self-signature); returns the issuer SPKI. */
export function checkSignerKey(deps: Pick<IssuanceDeps, 'signer' | 'issuer' | 'issuerName'>, subjectSpki: Uint8Array): Uint8Array {
  const self = deps.issuer === 'self';
  const issuerSpki = self ? subjectSpki : (deps.issuer as IssuerInfo).spki;
  if (self && toHex(deps.signer.publicKey()) !== toHex(subjectSpki)) {
    throw new CaError('CA_SIGNER_MISMATCH', 'a self-signed certificate must be signed by its own key');
  }
  if (!self && toHex(deps.signer.publicKey()) !== toHex(issuerSpki)) {
    throw new CaError('CA_SIGNER_MISMATCH', `the signing key is not the key of CA ${deps.issuerName}`, {
      hint: 'The card holds a different key than the database binds to this CA; check --card.',
    });
  }
  return issuerSpki;
}

/** A serial reserved with its exact TBS (durable), not yet signed. */
export interface ReservedIssuance {
  readonly record: CertificateRecord;
  readonly tbs: Uint8Array;
  readonly alg: SignatureAlgorithm;
  readonly issuerSpki: Uint8Array;
  readonly lintCtx: CertificateLintContext;
}

/**
 * TX1: reserve a fresh serial with the exact TBS. A collision (2^-63 odds) just draws again.
 * Inside `store.atomically` (a batch) this is one savepoint of the batch's transaction.
 */
export function reserveIssuance(deps: IssuanceDeps, req: IssuanceRequest, checked: CheckedIssuance, now: Date): ReservedIssuance {
  const { store, issuerName } = deps;
  for (let attempt = 0; attempt < 5; attempt++) {
    const serial = randomSerial(deps.random);
    const creq: CertificateContentRequest = {
      issuer: deps.issuer,
      profile: req.profile,
      spki: req.spki,
      subject: req.subject,
      ...(req.csrSans ? { csrSans: req.csrSans } : {}),
      ...(req.sanOverride ? { sanOverride: req.sanOverride } : {}),
      ...(req.validity ? { validity: req.validity } : {}),
      serial,
      now,
    };
    const content = req.decided ? certificateContentAt(req.decided, creq) : certificateContent(creq);
    const alg = content.signatureAlgorithm;
    const tbs = buildTbsCertificate(content.tbs, content.signatureAlgorithm);
    const tbsSha256 = sha256(tbs);
    const serialHex = toHex(serial).toUpperCase();
    const subject = formatName(content.subject);
    let record: CertificateRecord;
    try {
      record = store.reserveCertificate(
        {
          issuerName,
          serial,
          profile: req.profile.name,
          subject,
          sans: content.sans.map(sanText),
          notBefore: content.tbs.notBefore,
          notAfter: content.tbs.notAfter,
          spkiSha256: checked.spkiHash,
          tbs,
          tbsSha256,
          isCa: req.profile.kind === 'ca',
          ...(req.csrDer ? { requestDer: req.csrDer } : {}),
          ...(req.queued ? { queued: true } : {}),
          at: now,
        },
        {
          event: 'certificate.intent',
          ca: issuerName,
          data: { serial: serialHex, profile: req.profile.name, subject, tbsSha256: toHex(tbsSha256), spkiSha256: toHex(checked.spkiHash), source: req.source, ...(req.queued ? { queued: true } : {}) },
        },
      );
    } catch (e) {
      if (e instanceof CardcaError && e.code === 'STORE_SERIAL_TAKEN') continue;
      throw e;
    }
    const issuerCtx = deps.issuer === 'self' ? undefined : deps.issuer;
    const lintCtx: CertificateLintContext = {
      now,
      ...(issuerCtx ? { issuer: { subjectName: issuerCtx.subjectName, ski: issuerCtx.ski, notAfter: issuerCtx.notAfter }, issuerChain: issuerCtx.chain } : {}),
    };
    return { record, tbs, alg, issuerSpki: checked.issuerSpki, lintCtx };
  }
  throw new CaError('CA_SERIAL_EXHAUSTED', 'could not reserve a unique serial in 5 draws', { hint: 'Check the random source.' });
}

/** Reservations whose TBS passed every rule (`lintReservedTbs`): their certificate lint reuses that. */
const lintedClean = new WeakSet<ReservedIssuance>();

/** Lint the reserved TBS before the card is asked (a failure: nothing was signed, the serial is abandoned). */
export function lintReservedTbs(r: ReservedIssuance): void {
  assertTbsCertificateLintClean(r.tbs, r.lintCtx);
  lintedClean.add(r);
}

/** Whether `r`'s TBS already passed `lintReservedTbs` (a batch lints a group ahead while the card signs). */
export function isLintedClean(r: ReservedIssuance): boolean {
  return lintedClean.has(r);
}

export interface SignedIssuance {
  readonly der: Uint8Array;
  readonly signMs: number;
}

/** The card's signature over a reserved TBS, before it is assembled and checked (`finishReserved`). */
export interface CardSignature {
  readonly signature: Uint8Array;
  readonly signMs: number;
}

/** Card signs the reserved TBS; assemble, verify signature and TBS identity, lint the certificate. */
export async function signReserved(deps: Pick<IssuanceDeps, 'signer' | 'crashHook'>, r: ReservedIssuance): Promise<SignedIssuance> {
  const s = await cardSignReserved(deps, r);
  return { der: finishReserved(r, s.signature), signMs: s.signMs };
}

/** Only the card's part of `signReserved`: the SIGN exchange, then the `issuance-after-sign` crash point. */
export async function cardSignReserved(deps: Pick<IssuanceDeps, 'signer' | 'crashHook'>, r: ReservedIssuance): Promise<CardSignature> {
  const t0 = performance.now();
  const signature = await deps.signer.sign(r.tbs, r.alg);
  const signMs = performance.now() - t0;
  crashPoint(deps.crashHook, 'issuance-after-sign');
  return { signature, signMs };
}

/** The host's part after the card answered: assemble, verify signature and TBS identity, lint the certificate. */
export function finishReserved(r: ReservedIssuance, signature: Uint8Array): Uint8Array {
  const der = assembleCertificate(r.tbs, r.alg, signature);
  verifyIssuedCertificate(der, r.tbs, r.issuerSpki);
  // Every rule ran on these TBS bytes before signing (lintReservedTbs); lintCertificate checks
  // the TBS inside `der` is those bytes and adds the certificate-level rule. Without that lint
  // (a caller that skipped it), every rule runs here.
  assertCertificateLintClean(der, r.lintCtx, lintedClean.has(r) ? { tbs: r.tbs, ctx: r.lintCtx } : undefined);
  return der;
}

/** TX2 (or one savepoint of a batch's): reserved → issued with the DER. */
export function recordIssued(deps: Pick<IssuanceDeps, 'store' | 'clock' | 'issuerName'>, r: ReservedIssuance, der: Uint8Array): CertificateRecord {
  return deps.store.markCertificateIssued(
    r.record.id,
    der,
    { event: 'certificate.issued', ca: deps.issuerName, data: { serial: r.record.serialHex, sha256: toHex(sha256(der)) } },
    deps.clock.now(),
  );
}

/** The row is about to be sent to the card (batch rows only; see `markCertificateSent`). */
export function sentEvent(issuerName: string, r: ReservedIssuance): AuditEvent {
  return { event: 'certificate.sent', ca: issuerName, data: { serial: r.record.serialHex } };
}

export function abandonedEvent(issuerName: string, r: ReservedIssuance, e: unknown): AuditEvent {
  return { event: 'certificate.abandoned', ca: issuerName, data: { serial: r.record.serialHex, code: codeOf(e) } };
}

export function outcomeUnknownEvent(issuerName: string, r: ReservedIssuance, e: unknown): AuditEvent {
  return { event: 'certificate.outcome-unknown', ca: issuerName, data: { serial: r.record.serialHex, code: codeOf(e) } };
}

export function codeOf(e: unknown): string {
  return e instanceof CardcaError ? e.code : 'INTERNAL';
}
