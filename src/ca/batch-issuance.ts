import { toHex } from '../common/hex.js';
import { sha256 } from '../common/sha256.js';
import type { Signer } from '../crypto/signer.js';
import { certificateContent, type CertificateContent, type IssuerInfo, type ValidityRequest } from './cert/certificate-content.js';
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
  cardSignReserved,
  finishReserved,
  isLintedClean,
  lintReservedTbs,
  outcomeUnknownEvent,
  recordIssued,
  reserveIssuance,
  sentEvent,
  type CardSignature,
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
 * 2. `issueBatch`: per chunk of up to `CHUNK` certificates, one durable transaction reserves the
 *    chunk's serials with their exact TBS and audit intents, every row `queued` (migration 7:
 *    "the card has not been asked for this one"). Then per group of rows (1, 2, 4, 8, then
 *    `SENT_WINDOW` = 16; `sentGroupSize`), in order: lint every TBS of the group; ONE durable
 *    transaction that records the previous group issued (their DER) AND marks this group sent
 *    (`queued` cleared, `certificate.sent` audited per row); only then the card signs the group's
 *    rows one by one; assemble, verify, lint each certificate — row j while the card signs row
 *    j+1, and the next group's TBS lint one row per signature, so the host's work hides behind the
 *    card's. The last group is recorded by the next chunk's reservation or a final transaction.
 *    One commit per group (plus one per chunk).
 *
 * Crash safety (what recovery, `SqliteStore.recoverReserved`, can conclude from the disk alone):
 * the card is asked for a row only after the commit that marks it sent returned, and at most one
 * group (≤ SENT_WINDOW rows) is marked sent without a result at any time (the marks of group g+1
 * share their commit with the results of group g). So after a crash: a row with its DER is
 * issued; the rows marked sent without a result may have been signed (outcome_unknown: on the
 * next CRL, re-issued only with --reissue); every row still queued was certainly never sent
 * (abandoned: serial burnt, not listed, its CSR signed again by the re-run under a new serial).
 * Every serial and TBS is still durable before its signature is asked for (it was committed with
 * the chunk), and every row the card may have signed is durably marked sent before the card is
 * asked: intent before signature is exactly as strong as with one mark per certificate. What a
 * crash costs is up to one group of outcome_unknown serials instead of one (the price of one
 * fsync per group instead of one per certificate; test/integration/crash-batch.test.ts). Rows of
 * that group the card was not asked for are outcome_unknown although not signed; no serial the
 * card may have signed is ever abandoned (and the audit log, not the column alone, decides that).
 *
 * A failure the process sees (card error, lint): the signed ones are recorded issued, the
 * failed one outcome_unknown (the card may have signed) or abandoned (lint refused it before
 * its group was marked sent), the rest of its sent group outcome_unknown (the audit log says
 * sent), the rest of the chunk abandoned (never sent) — all in one transaction, then the error
 * propagates.
 */

/**
 * Certificates per reservation transaction. What a crash can cost does not depend on it (one
 * sent group of outcome_unknown serials at most, see above); it only spreads the reservation commit over more
 * certificates and bounds how many intents one batch reserves ahead of the card.
 */
export const CHUNK = 64;

/**
 * Rows marked sent to the card in one commit, at most. Each durable commit is one fsync (≈ 1.6–2.7
 * ms on the reference disk: more than the whole host budget of issue #14 item 2 per certificate),
 * so the marks and the results are committed per group, not per certificate. The price: a crash
 * leaves up to this many rows outcome_unknown (on the next CRL, re-issued only with --reissue)
 * instead of one. Groups grow 1, 2, 4, 8, then SENT_WINDOW, so a small batch (and a single
 * `ca sign`) loses no more than it would with one mark per certificate, roughly.
 */
export const SENT_WINDOW = 16;

/** Size of the next "sent" group after `sentSoFar` rows of this batch were marked sent. */
export function sentGroupSize(sentSoFar: number): number {
  return Math.min(SENT_WINDOW, sentSoFar + 1);
}

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
  /** The content decision of the plan (action `sign`): the reservation stamps serial and validity on it. */
  readonly content?: CertificateContent;
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
    let content: CertificateContent | undefined;
    if (!done) {
      content = prefixed(input.source, () => {
        checkKeyNotReused(csr.spkiSha256, (h) => store.lookupKey(h));
        // The content decision (policy, SANs, validity, name constraints), made once: the
        // reservation re-decides only serial and validity (certificateContentAt).
        return certificateContent({ ...contentInputs(deps, req, csr), serial: Uint8Array.of(1), now });
      });
    }
    return { index, source: input.source, csr, action, ...(done ? { done } : {}), unknown, ...(action === 'sign' && content ? { content } : {}) };
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
  /**
   * After the certificates recorded by one commit were each passed to `onIssued`: make their
   * files durable here. Per commit, not per certificate, so the files of a group share their
   * fsyncs (common/atomic-write.ts AtomicFileBatch). It may run while the card signs the first
   * row of the next group (the host's file work hides behind the card's): a crash before it
   * returns can lose those files, never their certificates, which are recorded and written again
   * by the next run (`planBatch`: already issued).
   */
  onRecorded?(): Promise<void>;
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
      /** Signed by the card, verified, not yet recorded: recorded by the next commit. */
      let pending: Signed[] = [];
      /** Rows of this batch marked sent so far (sizes the next group). */
      let sentSoFar = 0;
      /** Record `pending` issued inside the caller's transaction (cleared once that commits). */
      const recordPending = (): { x: Signed; record: CertificateRecord }[] => pending.map((x) => ({ x, record: recordIssued(deps, x.reserved, x.der) }));
      /** The crash point of a recorded certificate whose file is not written yet. */
      const afterCommit = (): void => crashPoint(deps.crashHook, 'issuance-after-commit');
      /** Hand the recorded certificates to onIssued (`before` each), then onRecorded (their files). */
      const reportFiles = async (done: readonly { x: Signed; record: CertificateRecord }[], before?: () => void): Promise<void> => {
        for (const d of done) {
          before?.();
          issued.push(await report(hooks, d.x, d.record));
        }
        if (done.length > 0) await hooks.onRecorded?.();
      };
      const reportDone = (done: readonly { x: Signed; record: CertificateRecord }[]): Promise<void> => reportFiles(done, afterCommit);
      for (let from = 0; from < toSign.length; from += CHUNK) {
        const chunk = toSign.slice(from, from + CHUNK);
        // Intent before signature: the chunk's serials, TBS and audit intents in one commit, all
        // queued (never sent); the previous chunk's last certificate recorded in the same commit.
        let done: { x: Signed; record: CertificateRecord }[] = [];
        let reserved: ReservedIssuance[];
        try {
          const now = deps.clock.now();
          assertClockSane(deps.store, now);
          reserved = deps.store.atomically(() => {
            done = recordPending();
            return chunk.map((entry) => {
              // Checked in the plan; again here, inside the transaction, because an earlier chunk
              // of this batch may have certified the same key under another CSR's name.
              const spkiHash = spkiSha256(entry.csr.spki);
              checkKeyNotReused(spkiHash, (h) => deps.store.lookupKey(h));
              return reserveIssuance(ideps, { ...contentInputs(deps, req, entry.csr), csrDer: entry.csr.der, source: entry.source, queued: true, ...(entry.content ? { decided: entry.content } : {}) }, { spkiHash, issuerSpki }, now);
            });
          });
        } catch (e) {
          // The chunk is refused (nothing of it written); the certificate signed last is recorded.
          await reportDone(deps.store.atomically(recordPending));
          pending = [];
          throw e;
        }
        pending = [];
        crashPoint(deps.crashHook, 'issuance-after-reserve');
        await reportDone(done);
        for (let g = 0; g < reserved.length; ) {
          // The next "sent" group: 1, 2, 4, 8, then SENT_WINDOW rows (never past the chunk).
          const size = Math.min(sentGroupSize(sentSoFar), reserved.length - g);
          const group = reserved.slice(g, g + size);
          let stage: 'lint' | 'sign' = 'lint';
          let at = g;
          try {
            // Every rule on every TBS of the group before any of it is marked sent: a lint
            // refusal abandons a row the card was certainly never asked for.
            for (const [j, r] of group.entries()) {
              at = g + j;
              // Linted ahead while the card signed the previous group (a row that failed there
              // was left unmarked, and fails here again: the lint is a pure function of the row).
              if (!isLintedClean(r)) lintReservedTbs(r);
            }
            at = g;
            // One commit: the previous group's results and this group's "sent" marks. After it
            // returns, and only then, the card is asked for the rows of this group.
            const prev = deps.store.atomically(() => {
              const d = recordPending();
              const sentAt = deps.clock.now();
              for (const r of group) deps.store.markCertificateSent(r.record.id, sentEvent(deps.issuerName, r), sentAt);
              return d;
            });
            pending = [];
            sentSoFar += size;
            stage = 'sign';
            // The previous group's files are written while the card signs this group's first
            // row (its crash points first: "recorded, no file yet"). A crash before their flush
            // loses only files, which the re-run writes again from the database (onPlan).
            for (let i = 0; i < prev.length; i++) afterCommit();
            // Pipelined: while the card signs row j+1, the host assembles, verifies and lints row
            // j, then lints one row of the next group ahead. The card still gets one request at a
            // time, in order, each only after the commit that marked its group sent; what a
            // failure records is what it recorded unpipelined (the rows after the failed one in
            // this group are marked sent, so outcome_unknown either way).
            const ahead = reserved.slice(g + size, g + size + sentGroupSize(sentSoFar));
            let linted = 0;
            const send = async (j: number): Promise<CardSignature> => {
              crashPoint(deps.crashHook, 'issuance-after-sent');
              return cardSignReserved(ideps, group[j]!);
            };
            let inflight = settled(send(0));
            try {
              await reportFiles(prev);
            } catch (e) {
              await inflight; // never leave the card with a request in flight
              throw e;
            }
            for (let j = 0; j < size; j++) {
              at = g + j;
              const s = unwrap(await inflight);
              cardMs += s.signMs;
              const more = j + 1 < size;
              if (more) inflight = settled(send(j + 1));
              let der: Uint8Array;
              try {
                der = finishReserved(group[j]!, s.signature);
              } catch (e) {
                // The card is never left with a request in flight when the batch stops.
                if (more) await inflight;
                throw e;
              }
              pending.push({ entry: chunk[at]!, reserved: group[j]!, der });
              if (more && linted < ahead.length) linted = lintAhead(ahead, linted);
            }
          } catch (e) {
            const signed = pending;
            pending = [];
            // After the group's commit, the rest of the group is marked sent (audited): outcome_unknown
            // like the failed row, never abandoned; what follows the group is still queued.
            const sentRest = stage === 'sign' ? reserved.slice(at + 1, g + size) : [];
            const queuedRest = reserved.slice(stage === 'sign' ? g + size : at + 1);
            const records = failChunk(deps, signed, reserved[at]!, stage, sentRest, queuedRest, e);
            for (const [k, x] of signed.entries()) issued.push(await report(hooks, x, records[k]!));
            throw e;
          }
          g += size;
        }
      }
      const last = deps.store.atomically(recordPending);
      pending = [];
      await reportDone(last);
    });
  }
  return { plan, issued, cardMs, sessionMs, totalMs: performance.now() - t0 };
}

type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/** A promise that never rejects (its failure is read when it is awaited, not reported unhandled meanwhile). */
function settled<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

function unwrap<T>(s: Settled<T>): T {
  if (!s.ok) throw s.error;
  return s.value;
}

/**
 * Lint `rows[from]` ahead of its group (every rule, as the group's lint stage would); returns how
 * many rows are done. A refusal stops the look-ahead and leaves the row unmarked: the group's lint
 * stage refuses it again there, before anything of that group is marked sent.
 */
function lintAhead(rows: readonly ReservedIssuance[], from: number): number {
  try {
    lintReservedTbs(rows[from]!);
    return from + 1;
  } catch {
    return rows.length;
  }
}

interface Signed {
  readonly entry: PlannedCsr;
  readonly reserved: ReservedIssuance;
  readonly der: Uint8Array;
}

async function report(hooks: BatchIssuanceHooks, x: { entry: PlannedCsr; der: Uint8Array }, record: CertificateRecord): Promise<BatchIssued> {
  const out: BatchIssued = { entry: x.entry, record, der: x.der };
  await hooks.onIssued?.(out);
  return out;
}

/**
 * One transaction for a chunk that stopped at `failed`: what was signed is issued, `failed` is
 * outcome_unknown (the card may have signed) or abandoned (lint refused it before it was marked
 * sent), the rest of its sent group outcome_unknown (marked sent: the audit log says the card
 * may have been asked, and only the log's word counts), the rest abandoned (still queued).
 */
function failChunk(
  deps: BatchIssuanceDeps,
  signed: readonly { reserved: ReservedIssuance; der: Uint8Array }[],
  failed: ReservedIssuance,
  stage: 'lint' | 'sign',
  sentRest: readonly ReservedIssuance[],
  queuedRest: readonly ReservedIssuance[],
  e: unknown,
): CertificateRecord[] {
  const at = deps.clock.now();
  const records = deps.store.atomically(() => {
    const done = signed.map((x) => recordIssued(deps, x.reserved, x.der));
    if (stage === 'lint') deps.store.markCertificateFailed(failed.record.id, 'abandoned', abandonedEvent(deps.issuerName, failed, e), at);
    else deps.store.markCertificateFailed(failed.record.id, 'outcome_unknown', outcomeUnknownEvent(deps.issuerName, failed, e), at);
    for (const r of sentRest) deps.store.markCertificateFailed(r.record.id, 'outcome_unknown', { event: 'certificate.outcome-unknown', ca: deps.issuerName, data: { serial: r.record.serialHex, code: 'BATCH_STOPPED' } }, at);
    for (const r of queuedRest) deps.store.markCertificateFailed(r.record.id, 'abandoned', { event: 'certificate.abandoned', ca: deps.issuerName, data: { serial: r.record.serialHex, code: 'BATCH_STOPPED' } }, at);
    return done;
  });
  if (stage === 'sign') {
    const serials = [failed, ...sentRest].map((r) => r.record.serialHex).join(', ');
    noteOutcomeUnknown(e, `certificate serial(s) ${serials} of CA ${deps.issuerName}`, 'they will be listed on the next CRL of that CA');
  }
  return records;
}
