import { sha256Hex } from '../common/sha256.js';
import { toHex } from '../common/hex.js';
import type { CheckProblem } from './db-check.js';
import type { SqliteStore } from './sqlite-store.js';

/**
 * `ca db check`, second half (issue #8 item 2; ca-invariants.md G22): replay the audit log and
 * compare what it says happened with the tables. Every state change of a certificate, CRL or
 * CA writes its audit record in the same transaction (store.ts), so the two can only disagree
 * when someone edited the file: a revocation deleted, a status moved, a row added without its
 * intent record, a DER swapped.
 */
interface CertState {
  status: string;
  /** Reserved by a batch and not (yet) recorded as sent to the card (migration 7). */
  queued: boolean;
  /** The record that sent it to the card, if any. */
  sentSeq?: number;
  tbsSha256?: string;
  derSha256?: string;
  revocation?: { reason: string };
  seq: number;
}

interface CrlState {
  status: string;
  tbsSha256?: string;
  derSha256?: string;
  seq: number;
}

const lc = (v: unknown): string | undefined => (typeof v === 'string' ? v.toLowerCase() : undefined);

export function replayAuditLog(store: SqliteStore): CheckProblem[] {
  const problems: CheckProblem[] = [];
  const certs = new Map<string, CertState>();
  const crls = new Map<string, CrlState>();
  const cas = new Map<string, { card?: string; cardFamily?: string; keyId?: string; spki?: string; certSha256?: string; seq: number }>();
  const certKey = (ca: string | undefined, serial: unknown): string => `${ca ?? '?'}/${String(serial).toUpperCase()}`;
  const crlKey = (ca: string | undefined, n: unknown): string => `${ca ?? '?'} #${String(n)}`;
  const move = (what: string, st: { status: string } | undefined, seq: number, to: string, from: readonly string[]): void => {
    if (!st) problems.push({ what, message: `audit #${seq} moves it to ${to}, but it has no intent record before` });
    else if (!from.includes(st.status)) problems.push({ what, message: `audit #${seq} moves it from ${st.status} to ${to}, which is not a legal transition` });
    else st.status = to;
  };

  for (const r of store.auditRecords()) {
    const d = r.data as Record<string, unknown>;
    const ck = certKey(r.ca, d['serial']);
    const what = `certificate ${ck}`;
    switch (r.event) {
      case 'certificate.intent':
        if (certs.has(ck)) problems.push({ what, message: `audit #${r.seq} reserves a serial already reserved` });
        certs.set(ck, { status: 'reserved', queued: d['queued'] === true, ...(lc(d['tbsSha256']) ? { tbsSha256: lc(d['tbsSha256'])! } : {}), seq: r.seq });
        break;
      case 'certificate.sent': {
        const st = certs.get(ck);
        if (!st) problems.push({ what, message: `audit #${r.seq} sends it to the card, but it has no intent record before` });
        else if (st.status !== 'reserved' || !st.queued) problems.push({ what, message: `audit #${r.seq} sends it to the card, but it was ${st.status}${st.queued ? '' : ' and not queued'}` });
        else (st.queued = false), (st.sentSeq = r.seq);
        break;
      }
      case 'certificate.issued': {
        const st = certs.get(ck);
        if (st?.queued) problems.push({ what, message: `audit #${r.seq} records it issued, but no record sent it to the card` });
        move(what, st, r.seq, 'issued', ['reserved']);
        if (st && lc(d['sha256'])) st.derSha256 = lc(d['sha256'])!;
        break;
      }
      case 'certificate.abandoned':
        move(what, certs.get(ck), r.seq, 'abandoned', ['reserved']);
        break;
      case 'certificate.outcome-unknown':
      case 'recovery.certificate-outcome-unknown': {
        const st = certs.get(ck);
        if (st?.queued && r.event === 'certificate.outcome-unknown') problems.push({ what, message: `audit #${r.seq} records its outcome unknown, but no record sent it to the card` });
        if (d['markedQueuedButSent'] === true) {
          problems.push({ what, message: `was marked queued (never sent to the card) when audit #${r.seq} recovered it, but ${st?.sentSeq ? `audit #${st.sentSeq}` : 'the audit log'} records it sent to the card: the database was edited` });
        }
        move(what, st, r.seq, 'outcome_unknown', ['reserved']);
        break;
      }
      case 'recovery.certificate-abandoned': {
        const st = certs.get(ck);
        // Only a row the card was never asked for may be abandoned by recovery: otherwise a
        // signed certificate would be left off every CRL.
        if (st && !st.queued) problems.push({ what, message: `audit #${r.seq} abandons it as never sent, but ${st.sentSeq ? `audit #${st.sentSeq} sent it to the card` : 'it was not a queued batch row'}` });
        move(what, st, r.seq, 'abandoned', ['reserved']);
        break;
      }
      case 'certificate.revoked': {
        const st = certs.get(ck);
        if (!st) problems.push({ what, message: `audit #${r.seq} revokes it, but it has no intent record` });
        else if (st.revocation) problems.push({ what, message: `audit #${r.seq} revokes it a second time` });
        else if (st.status !== 'issued' && st.status !== 'outcome_unknown') problems.push({ what, message: `audit #${r.seq} revokes it in status ${st.status}` });
        else {
          st.revocation = { reason: String(d['reason']) };
          if (st.status === 'issued') st.status = 'revoked';
        }
        break;
      }
      case 'crl.intent': {
        const k = crlKey(r.ca, d['crlNumber']);
        if (crls.has(k)) problems.push({ what: `CRL ${k}`, message: `audit #${r.seq} reserves a CRL number already reserved` });
        crls.set(k, { status: 'reserved', ...(lc(d['tbsSha256']) ? { tbsSha256: lc(d['tbsSha256'])! } : {}), seq: r.seq });
        break;
      }
      case 'crl.issued': {
        const k = crlKey(r.ca, d['crlNumber']);
        const st = crls.get(k);
        move(`CRL ${k}`, st, r.seq, 'issued', ['reserved']);
        if (st && lc(d['sha256'])) st.derSha256 = lc(d['sha256'])!;
        break;
      }
      case 'crl.abandoned':
        move(`CRL ${crlKey(r.ca, d['crlNumber'])}`, crls.get(crlKey(r.ca, d['crlNumber'])), r.seq, 'abandoned', ['reserved']);
        break;
      case 'crl.outcome-unknown':
      case 'recovery.crl-outcome-unknown':
        move(`CRL ${crlKey(r.ca, d['crlNumber'])}`, crls.get(crlKey(r.ca, d['crlNumber'])), r.seq, 'outcome_unknown', ['reserved']);
        break;
      case 'ca.bound':
        cas.set(r.ca ?? '?', { ...(typeof d['card'] === 'string' ? { card: d['card'] } : {}), ...(typeof d['cardFamily'] === 'string' ? { cardFamily: d['cardFamily'] } : {}), ...(typeof d['keyId'] === 'string' ? { keyId: d['keyId'] } : {}), ...(lc(d['spkiSha256']) ? { spki: lc(d['spkiSha256'])! } : {}), seq: r.seq });
        break;
      case 'ca.certificate': {
        const st = cas.get(r.ca ?? '?');
        if (!st) problems.push({ what: `CA ${r.ca}`, message: `audit #${r.seq} attaches its certificate, but the CA was never bound` });
        else if (lc(d['sha256'])) st.certSha256 = lc(d['sha256'])!;
        break;
      }
      default:
        break;
    }
  }

  // The tables against the replay.
  for (const c of store.findCertificates({})) {
    const k = certKey(c.issuerName, c.serialHex);
    const what = `certificate ${k}`;
    const st = certs.get(k);
    if (!st) {
      problems.push({ what, message: 'has no certificate.intent audit record (row added outside cardca)' });
      continue;
    }
    certs.delete(k);
    // A row the startup recovery has not reached yet is still `reserved` in both.
    if (st.status !== c.status) problems.push({ what, message: `status is ${c.status}, the audit log says ${st.status} (audit #${st.seq} onwards)` });
    if (st.tbsSha256 && st.tbsSha256 !== toHex(c.tbsSha256).toLowerCase()) problems.push({ what, message: 'TBS differs from the one its intent record hashed' });
    if (c.queued && st.sentSeq !== undefined) problems.push({ what, message: `is marked queued (never sent to the card), but audit #${st.sentSeq} records it sent to the card` });
    else if (c.queued !== st.queued && c.status === 'reserved') problems.push({ what, message: `queued is ${c.queued}, the audit log says ${st.queued}` });
    if (st.derSha256 && c.der && st.derSha256 !== sha256Hex(c.der)) problems.push({ what, message: 'DER differs from the one its issued record hashed' });
    if (st.revocation && !c.revocation) problems.push({ what, message: `the audit log revokes it (${st.revocation.reason}), but its revocation row is missing: it would be left off the next CRL` });
    if (!st.revocation && c.revocation) problems.push({ what, message: 'has a revocation row without a certificate.revoked audit record' });
    if (st.revocation && c.revocation && st.revocation.reason !== c.revocation.reason) problems.push({ what, message: `revocation reason is ${c.revocation.reason}, the audit log says ${st.revocation.reason}` });
  }
  for (const [k, st] of certs) problems.push({ what: `certificate ${k}`, message: `reserved by audit #${st.seq}, but its row is missing` });

  for (const l of store.listCrls()) {
    const k = crlKey(l.issuerName, l.crlNumber);
    const st = crls.get(k);
    if (!st) {
      problems.push({ what: `CRL ${k}`, message: 'has no crl.intent audit record (row added outside cardca)' });
      continue;
    }
    crls.delete(k);
    if (st.status !== l.status) problems.push({ what: `CRL ${k}`, message: `status is ${l.status}, the audit log says ${st.status}` });
    if (st.tbsSha256 && st.tbsSha256 !== toHex(l.tbsSha256).toLowerCase()) problems.push({ what: `CRL ${k}`, message: 'TBS differs from the one its intent record hashed' });
    // A TBS file that cannot be read (migration 11) is db-check.ts's finding; the DER is then unknown here.
    let der: Uint8Array | undefined;
    try {
      der = st.derSha256 ? l.der : undefined;
    } catch {
      der = undefined;
    }
    if (st.derSha256 && der && st.derSha256 !== sha256Hex(der)) problems.push({ what: `CRL ${k}`, message: 'DER differs from the one its issued record hashed' });
  }
  for (const [k, st] of crls) problems.push({ what: `CRL ${k}`, message: `reserved by audit #${st.seq}, but its row is missing` });

  for (const ca of store.listCas()) {
    const st = cas.get(ca.name);
    if (!st) {
      problems.push({ what: `CA ${ca.name}`, message: 'has no ca.bound audit record' });
      continue;
    }
    cas.delete(ca.name);
    if (st.card !== undefined && st.card !== ca.cardSerial) problems.push({ what: `CA ${ca.name}`, message: `card is ${ca.cardSerial}, the audit log bound ${st.card}` });
    if (st.cardFamily !== undefined && st.cardFamily !== ca.cardFamily) problems.push({ what: `CA ${ca.name}`, message: `card family is ${ca.cardFamily}, the audit log bound ${st.cardFamily}` });
    if (st.keyId !== undefined && st.keyId !== ca.keyId) problems.push({ what: `CA ${ca.name}`, message: `key id is ${ca.keyId}, the audit log bound ${st.keyId}` });
    if (st.spki !== undefined && st.spki !== toHex(ca.spkiSha256).toLowerCase()) problems.push({ what: `CA ${ca.name}`, message: 'public key differs from the one bound in the audit log' });
    if (st.certSha256 && (!ca.certificate || sha256Hex(ca.certificate) !== st.certSha256)) problems.push({ what: `CA ${ca.name}`, message: 'CA certificate differs from (or lacks) the one the audit log attached' });
    if (!st.certSha256 && ca.certificate) problems.push({ what: `CA ${ca.name}`, message: 'has a CA certificate without a ca.certificate audit record' });
  }
  for (const [name, st] of cas) problems.push({ what: `CA ${name}`, message: `bound by audit #${st.seq}, but its row is missing` });
  return problems;
}
