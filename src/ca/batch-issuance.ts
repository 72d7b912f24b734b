import { toHex } from '../common/hex.js';
import { sha256 } from '../common/sha256.js';
import type { Signer } from '../crypto/signer.js';
import { certificateContent, type IssuerInfo, type ValidityRequest } from './cert/certificate-content.js';
import type { Clock } from './clock.js';
import { checkCsrKeyPolicy, checkKeyNotReused } from './csr/check-csr.js';
import { parseCsr } from './csr/parse-csr.js';
import type { ParsedCsr } from './csr/parsed-csr.js';
import { crashPoint, type CrashHook } from './crash-points.js';
import { CsrError } from './errors.js';
import {
  abandonedEvent,
  assertClockSane,
  checkSignerKey,
  lintReservedTbs,
  outcomeUnknownEvent,
  recordIssued,
  reserveIssuance,
  signReserved,
  type ReservedIssuance,
} from './issuance.js';
import { noteOutcomeUnknown } from './outcome-unknown-note.js';
import type { LeafProfile } from './profile/profile-types.js';
import type { CaStore, CertificateRecord } from './store.js';
import type { SanEntry } from './x509/extensions.js';
import { spkiSha256 } from './x509/key-identifier.js';

/**
 * Batch issuance: many CSRs from one issuer with one card session — the engine behind `ca sign`
 * (and, later, `ca enroll`). Two phases:
 *
 * 1. `planBatch`: every CSR parsed and checked (key policy, earlier certificates from the same
 *    request, duplicate keys inside the batch and in the store, a dry run of the content
 *    decision) before the card is touched: bad input changes nothing, and a batch never stops
 *    half-way over something that could have been known up front.
 * 2. `issueBatch`: in chunks of up to `CHUNK` certificates, one durable transaction reserves the
 *    chunk's serials with their exact TBS and audit intents (intent before signature, as strong
 *    as for one certificate: every serial and TBS is committed before its signature is asked
 *    for); then each TBS is linted, signed, assembled and verified; then one transaction records
 *    the chunk's certificates as issued. (CHUNK is 1 for now: see its comment.)
 *
 * Failure half-way through a chunk: the certificates already signed are recorded as issued, the
 * one that failed is `outcome_unknown` (the card may have signed) or `abandoned` (lint refused
 * it before the card), the rest of the chunk `abandoned` (the card was never asked) — all in one
 * transaction, then the error propagates. A crash leaves the chunk `reserved`; the next writing
 * command turns those rows into `outcome_unknown`, listed on the next CRL (ARCHITECTURE.md).
 */

/**
 * Certificates per reservation transaction: bounds what one crash can turn into outcome_unknown.
 * It is 1, not the 64 it was measured with: recovery cannot tell a reserved row the card was
 * asked to sign from one it never saw, so a crash at the 5th of 8 turned all of 5–8 into
 * outcome_unknown and the identical re-run signed none of them, against issue #8 item 8 ("the
 * rest are signed"; test/integration/trust-record.test.ts). Two commits per certificate cost
 * ≈ 3 ms here (1.6 ms per synchronous=FULL WAL commit); a larger chunk needs a durable "sent"
 * marker per row first (docs/benchmarks.md).
 */
export const CHUNK = 1;

export interface BatchCsrInput {
  /** Where the request came from (file name): prefixes every refusal, goes into the audit intent. */
  readonly source: string;
  /** PEM text or DER bytes. */
  readonly data: string | Uint8Array;
}

export interface BatchIssuanceDeps {
  readonly store: CaStore;
  readonly clock: Clock;
  readonly issuerName: string;
  readonly issuer: IssuerInfo;
  readonly random?: (n: number) => Uint8Array;
  readonly crashHook?: CrashHook;
}

export interface BatchIssuanceRequest {
  readonly profile: LeafProfile;
  readonly csrs: readonly BatchCsrInput[];
  /** Operator SANs replacing the CSRs' (the CLI allows them for one CSR only). */
  readonly sanOverride?: readonly SanEntry[];
  readonly validity?: ValidityRequest;
  /** Sign again, under a new serial, a CSR whose earlier signing ended outcome_unknown. */
  readonly reissue?: boolean;
}

/** One CSR of a planned batch and what will happen to it. */
export interface PlannedCsr {
  readonly index: number;
  readonly source: string;
  readonly csr: ParsedCsr;
  /** `sign`: a new certificate; `already-issued`: this very CSR has one from this issuer; `skip`: an earlier signing ended outcome_unknown (no --reissue). */
  readonly action: 'sign' | 'already-issued' | 'skip';
  /** The certificate issued before from this CSR (action `already-issued`). */
  readonly done?: CertificateRecord;
  /** Earlier outcome_unknown serials of this CSR, not revoked yet. */
  readonly unknown: readonly CertificateRecord[];
}

export interface BatchPlan {
  readonly entries: readonly PlannedCsr[];
  /** How many entries the card will sign. */
  readonly toSign: number;
}

function prefixed<T>(source: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof Error) e.message = `${source}: ${e.message}`;
    throw e;
  }
}

/** Phase 1: every check that can refuse the batch, before any card or PIN. Changes nothing. */
export function planBatch(deps: BatchIssuanceDeps, req: BatchIssuanceRequest): BatchPlan {
  const { store, issuerName } = deps;
  const now = deps.clock.now();
  const seen = new Set<string>();
  const entries = req.csrs.map((input, index): PlannedCsr => {
    const csr = prefixed(input.source, () => {
      const c = parseCsr(input.data);
      checkCsrKeyPolicy(c);
      return c;
    });
    // A re-run after a crash (issue #8 item 8): this exact request may already have a
    // certificate from this issuer (written out again), or a serial whose outcome is unknown.
    const before = store.certificatesForRequest(issuerName, sha256(csr.der));
    const done = before.find((c) => c.status === 'issued');
    const unknown = before.filter((c) => c.status === 'outcome_unknown' && !c.revocation);
    const fp = toHex(csr.spkiSha256);
    if (seen.has(fp)) throw new CsrError('KEY_DUPLICATE', `${input.source}: the same public key appears twice in this batch`, { hint: 'Every certificate needs its own key.' });
    seen.add(fp);
    const action = done ? 'already-issued' : unknown.length > 0 && req.reissue !== true ? 'skip' : 'sign';
    if (!done) {
      prefixed(input.source, () => {
        checkKeyNotReused(csr.spkiSha256, (h) => store.lookupKey(h));
        // Dry run of the content decision (policy, SANs, validity, name constraints).
        certificateContent({ ...contentInputs(deps, req, csr), serial: Uint8Array.of(1), now });
      });
    }
    return { index, source: input.source, csr, action, ...(done ? { done } : {}), unknown };
  });
  return { entries, toSign: entries.filter((e) => e.action === 'sign').length };
}

function contentInputs(deps: BatchIssuanceDeps, req: BatchIssuanceRequest, csr: ParsedCsr) {
  return {
    issuer: deps.issuer,
    profile: req.profile,
    spki: csr.spki,
    subject: csr.subject,
    csrSans: csr.sans,
    ...(req.sanOverride ? { sanOverride: req.sanOverride } : {}),
    ...(req.validity ? { validity: req.validity } : {}),
  };
}

/** A certificate issued by this batch. */
export interface BatchIssued {
  readonly entry: PlannedCsr;
  readonly record: CertificateRecord;
  readonly der: Uint8Array;
}

export interface BatchIssuanceHooks {
  /** After the plan passed every check, before the card is opened. */
  onPlan?(plan: BatchPlan): Promise<void>;
  /**
   * Open the issuing card (session, PIN) and run `fn` with its signer; called once, and only
   * when the plan has something to sign.
   */
  withSigner<T>(fn: (signer: Signer) => Promise<T>): Promise<T>;
  /** After each chunk's certificates are recorded issued (write the files here), in batch order. */
  onIssued?(issued: BatchIssued): Promise<void>;
}

export interface BatchIssuanceResult {
  readonly plan: BatchPlan;
  readonly issued: readonly BatchIssued[];
  /** Inside `Signer.sign` (card work), ms. */
  readonly cardMs: number;
  /** Opening the card: PC/SC, card search, PIN verification, key lookup (withSigner until fn runs), ms. */
  readonly sessionMs: number;
  /** From the start of planning to the end, ms (host = total − card − session). */
  readonly totalMs: number;
}

/**
 * Plan the batch (`planBatch`), then sign what needs signing with one card session. Entries
 * already issued or skipped are only reported in the plan; the caller writes files and messages.
 */
export async function issueBatch(deps: BatchIssuanceDeps, req: BatchIssuanceRequest, hooks: BatchIssuanceHooks): Promise<BatchIssuanceResult> {
  const t0 = performance.now();
  const plan = planBatch(deps, req);
  await hooks.onPlan?.(plan);
  const toSign = plan.entries.filter((e) => e.action === 'sign');
  const issued: BatchIssued[] = [];
  let cardMs = 0;
  let sessionMs = 0;
  if (toSign.length > 0) {
    const tSession = performance.now();
    await hooks.withSigner(async (signer) => {
      sessionMs = performance.now() - tSession;
      const ideps = { ...deps, signer };
      // The signer holds the issuer's key: checked once for the batch.
      const issuerSpki = checkSignerKey(ideps, deps.issuer.spki);
      for (let from = 0; from < toSign.length; from += CHUNK) {
        const chunk = toSign.slice(from, from + CHUNK);
        const now = deps.clock.now();
        assertClockSane(deps.store, now);
        // Intent before signature: the chunk's serials, TBS and audit intents in one commit.
        const reserved = deps.store.atomically(() =>
          chunk.map((entry) => {
            // Checked in the plan; again here, inside the transaction, because an earlier chunk
            // of this batch may have certified the same key under another CSR's name.
            const spkiHash = spkiSha256(entry.csr.spki);
            checkKeyNotReused(spkiHash, (h) => deps.store.lookupKey(h));
            return reserveIssuance(ideps, { ...contentInputs(deps, req, entry.csr), csrDer: entry.csr.der, source: entry.source }, { spkiHash, issuerSpki }, now);
          }),
        );
        crashPoint(deps.crashHook, 'issuance-after-reserve');
        const signed: { entry: PlannedCsr; reserved: ReservedIssuance; der: Uint8Array }[] = [];
        for (const [i, r] of reserved.entries()) {
          let stage: 'lint' | 'sign' = 'lint';
          try {
            lintReservedTbs(r);
            stage = 'sign';
            const s = await signReserved(ideps, r);
            cardMs += s.signMs;
            signed.push({ entry: chunk[i]!, reserved: r, der: s.der });
          } catch (e) {
            const records = failChunk(deps, signed, r, stage, reserved.slice(i + 1), e);
            for (const [j, x] of signed.entries()) issued.push(await report(hooks, x, records[j]!));
            throw e;
          }
        }
        const records = deps.store.atomically(() => signed.map((x) => recordIssued(deps, x.reserved, x.der)));
        crashPoint(deps.crashHook, 'issuance-after-commit');
        for (const [j, x] of signed.entries()) issued.push(await report(hooks, x, records[j]!));
      }
    });
  }
  return { plan, issued, cardMs, sessionMs, totalMs: performance.now() - t0 };
}

async function report(hooks: BatchIssuanceHooks, x: { entry: PlannedCsr; der: Uint8Array }, record: CertificateRecord): Promise<BatchIssued> {
  const out: BatchIssued = { entry: x.entry, record, der: x.der };
  await hooks.onIssued?.(out);
  return out;
}

/**
 * One transaction for a chunk that stopped at `failed`: what was signed is issued, `failed` is
 * outcome_unknown (the card may have signed) or abandoned (lint refused it first), the rest
 * abandoned (never sent to the card).
 */
function failChunk(
  deps: BatchIssuanceDeps,
  signed: readonly { reserved: ReservedIssuance; der: Uint8Array }[],
  failed: ReservedIssuance,
  stage: 'lint' | 'sign',
  rest: readonly ReservedIssuance[],
  e: unknown,
): CertificateRecord[] {
  const at = deps.clock.now();
  const records = deps.store.atomically(() => {
    const done = signed.map((x) => recordIssued(deps, x.reserved, x.der));
    if (stage === 'lint') deps.store.markCertificateFailed(failed.record.id, 'abandoned', abandonedEvent(deps.issuerName, failed, e), at);
    else deps.store.markCertificateFailed(failed.record.id, 'outcome_unknown', outcomeUnknownEvent(deps.issuerName, failed, e), at);
    for (const r of rest) deps.store.markCertificateFailed(r.record.id, 'abandoned', { event: 'certificate.abandoned', ca: deps.issuerName, data: { serial: r.record.serialHex, code: 'BATCH_STOPPED' } }, at);
    return done;
  });
  if (stage === 'sign') noteOutcomeUnknown(e, `certificate serial ${failed.record.serialHex} of CA ${deps.issuerName}`, 'it will be listed on the next CRL of that CA');
  return records;
}
