import { noteOutcomeUnknown } from './outcome-unknown-note.js';
import { DateTime } from 'luxon';
import { toHex } from '../common/hex.js';
import type { Signer } from '../crypto/signer.js';
import type { IssuerInfo } from './cert/certificate-content.js';
import { LUXON_UTC, type Clock } from './clock.js';
import { assembleCrlInFrame } from './crl/assemble-crl.js';
import { verifySignedObjectByDigest } from './cert/verify-issued-certificate.js';
import { signatureAlgorithmInfo } from '../crypto/algorithms.js';
import { writeTbsCertListFromChunks } from './crl/write-tbs-cert-list.js';
import { crashPoint, type CrashHook } from './crash-points.js';
import { CaError } from './errors.js';
import { assertClockSane, codeOf, sha256 } from './issuance.js';
import { assertSignedCrlLintClean, assertTbsCertListLintClean } from './lint/lint-crl.js';
import type { CaStore, CrlRecord } from './store.js';

/**
 * One CRL for one CA, with the same intent-before-signature pattern as certificates
 * (ARCHITECTURE.md): reserve the next number with the exact TBS → lint → card signs →
 * assemble, verify → finalize. CRL numbers strictly increase per issuer (RFC 5280 §5.2.3),
 * including over numbers whose CRL never made it out (they stay burnt).
 * Entries: every revoked certificate of the CA, and every `outcome_unknown` serial.
 */
export interface CrlDeps {
  readonly store: CaStore;
  readonly clock: Clock;
  readonly signer: Signer;
  readonly issuerName: string;
  readonly issuer: IssuerInfo;
  /** Kill-point hook of the crash tests (crash-points.ts); absent in normal runs. */
  readonly crashHook?: CrashHook;
  /** The highest CRL number a checkpoint on the card recorded: the new number is above it. */
  readonly minCrlNumber?: bigint;
}

export interface IssuedCrl {
  readonly record: CrlRecord;
  readonly der: Uint8Array;
  /** SHA-256 of `der` (the crl.issued audit record's), so callers need not hash 50 MB again. */
  readonly derSha256: Uint8Array;
}

const wholeSeconds = (d: Date): Date => new Date(Math.floor(d.getTime() / 1000) * 1000);

export async function issueCrl(deps: CrlDeps): Promise<IssuedCrl> {
  const { store, clock, issuer, issuerName } = deps;
  const at = clock.now();
  assertClockSane(store, at);
  // X.509 times carry whole seconds (RFC 5280 §5.1.2.4); the store keeps the exact instant.
  const now = wholeSeconds(at);
  if (toHex(deps.signer.publicKey()) !== toHex(issuer.spki)) {
    throw new CaError('CA_SIGNER_MISMATCH', `the signing key is not the key of CA ${issuerName}`, { hint: 'Check --card: the card holds a different key.' });
  }
  const profile = issuer.profile;
  const alg = profile.signatureAlgorithm;
  const nextUpdate = DateTime.fromJSDate(now, LUXON_UTC).plus(profile.crl.validity.duration).toJSDate();
  // A CRL cannot usefully outlive its CA: nextUpdate is capped at the CA's notAfter, so a CA can
  // still revoke near its end.
  const cappedNext = new Date(Math.min(nextUpdate.getTime(), wholeSeconds(issuer.notAfter).getTime()));
  const previous = store.latestCrl(issuerName, 'issued');
  const lintCtxFor = (n?: bigint) => ({
    now,
    issuerName: issuer.subjectName,
    issuerSki: issuer.ski,
    maxValidityMs: profile.crl.validity.duration.toMillis(),
    // The entries are the store's pre-encoded ones (migration 9), whose schema proves each names
    // a certificate of this CA and none twice; the walk checks the bytes are those rows in order.
    entryRuns: runs,
    ...(n !== undefined ? { previousCrlNumber: n } : {}),
  });
  let entries = 0;
  let runs: readonly number[] = [];
  let tbsSha256: Uint8Array | undefined;
  let frame: Uint8Array | undefined;
  const reserved = store.reserveCrl(
    issuerName,
    (crlNumber) => {
      // Streamed from the store into the DER inside the intent's transaction: the entries
      // counted, written, hashed and stored are one consistent snapshot. Every refusal of the
      // header happens here, and of the entries in the lint below, before any card is asked.
      const chunks = store.revokedEntryChunks(issuerName);
      runs = chunks.runs;
      const w = writeTbsCertListFromChunks(
        { issuerName: issuer.subjectName, aki: issuer.ski, thisUpdate: now.toISOString(), nextUpdate: cappedNext.toISOString(), crlNumber },
        alg,
        chunks,
      );
      entries = w.entries;
      tbsSha256 = w.sha256;
      frame = w.frame;
      return { tbs: w.tbs, tbsSha256, thisUpdate: now, nextUpdate: cappedNext, entries };
    },
    (crlNumber) => {
      // The store asks for the intent record with the TBS stored and the number not yet committed.
      crashPoint(deps.crashHook, 'crl-tbs-durable');
      return { event: 'crl.intent', ca: issuerName, data: { crlNumber: crlNumber.toString(), entries, tbsSha256: toHex(tbsSha256!) } };
    },
    at,
    deps.minCrlNumber,
  );
  crashPoint(deps.crashHook, 'crl-after-reserve');
  const lintCtx = lintCtxFor(previous?.crlNumber);
  try {
    // The one walk over the entries of the whole cycle: the strict structure check
    // (crl-structure.ts) and every lint rule, on the exact bytes the card will sign.
    assertTbsCertListLintClean(reserved.tbs, lintCtx);
  } catch (e) {
    store.markCrlFailed(reserved.id, 'abandoned', { event: 'crl.abandoned', ca: issuerName, data: { crlNumber: reserved.crlNumber.toString(), code: codeOf(e) } }, clock.now());
    throw e;
  }
  let der: Uint8Array;
  let signedTbsSha256: Uint8Array;
  try {
    // The TBS was hashed once, as it was written: the signer gets that digest (SHA-256 is the
    // signature's hash for the P-256 and RSA SHA-256 profiles), not the 40 MB to hash again.
    const sig = await deps.signer.sign(reserved.tbs, alg, signatureAlgorithmInfo(alg).hash === 'SHA-256' ? tbsSha256 : undefined);
    crashPoint(deps.crashHook, 'crl-after-sign');
    // Header and signature written around the TBS in its own allocation: no second 40 MB copy.
    der = assembleCrlInFrame(frame!, reserved.tbs, alg, sig);
    // Shape, the TBS octets in the CRL hashed once (after signing, on what is released) and equal
    // to the hash stored with the intent, inner = outer algorithm, signature with the CA key on
    // that digest; then the envelope rules. The TBS's structure and lint verdicts are those of
    // the identical bytes linted above, so the entries are not walked again.
    signedTbsSha256 = verifySignedObjectByDigest(der, tbsSha256!, issuer.spki, 1, 'CRL').tbsSha256;
    assertSignedCrlLintClean(der, reserved.tbs);
  } catch (e) {
    store.markCrlFailed(reserved.id, 'outcome_unknown', { event: 'crl.outcome-unknown', ca: issuerName, data: { crlNumber: reserved.crlNumber.toString(), code: codeOf(e) } }, clock.now());
    noteOutcomeUnknown(e, `CRL number ${reserved.crlNumber.toString()} of CA ${issuerName}`, 'the number is not reused; run `ca crl` again');
    throw e;
  }
  const derSha256 = sha256(der);
  const record = store.markCrlIssued(
    reserved.id,
    der,
    { event: 'crl.issued', ca: issuerName, data: { crlNumber: reserved.crlNumber.toString(), entries, sha256: toHex(derSha256) } },
    clock.now(),
    signedTbsSha256,
  );
  return { record, der, derSha256 };
}
