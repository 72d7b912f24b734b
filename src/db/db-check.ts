import { sha256 } from '../common/sha256.js';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { bytesEqual, toHex } from '../common/hex.js';
import { isoUtc } from '../ca/clock.js';
import { verifyIssuedCertificate } from '../ca/cert/verify-issued-certificate.js';
import { verifyCrl } from '../ca/crl/assemble-crl.js';
import { chainHash, GENESIS_HASH } from './audit-chain.js';
import { canonicalJson } from './audit-chain.js';
import type { SqliteStore } from './sqlite-store.js';
import { replayAuditLog } from './audit-replay.js';
import { certificateCountProblems } from './count-check.js';
import { crlEntryProblems } from './crl-entry-check.js';
import { ISO_UTC_GLOB, TIME_COLUMNS } from './migrations.js';

/**
 * `ca audit verify` and `ca db check`: re-derive everything that can be re-derived and report
 * each disagreement. Read-only.
 */
export interface CheckProblem {
  readonly what: string;
  readonly message: string;
}


/** Recompute the audit hash chain from the genesis hash; every break is a problem. */
export function verifyAuditChain(store: SqliteStore): { records: number; problems: CheckProblem[]; head: string } {
  const problems: CheckProblem[] = [];
  const rows = store.db.prepare('SELECT seq, at, event, ca, data, prev_hash, hash FROM audit_log ORDER BY seq').all() as Record<string, unknown>[];
  let prev: Uint8Array = GENESIS_HASH;
  let expectSeq = 1;
  for (const r of rows) {
    const seq = r['seq'] as number;
    const what = `audit #${seq}`;
    if (seq !== expectSeq) problems.push({ what, message: `sequence gap: expected #${expectSeq}` });
    expectSeq = seq + 1;
    const storedPrev = new Uint8Array(r['prev_hash'] as Buffer);
    const storedHash = new Uint8Array(r['hash'] as Buffer);
    if (!bytesEqual(storedPrev, prev)) problems.push({ what, message: 'prev_hash does not match the previous record' });
    let dataText = r['data'] as string;
    try {
      // The stored text must itself be canonical, otherwise equal JSON could hide edits.
      if (canonicalJson(JSON.parse(dataText)) !== dataText) problems.push({ what, message: 'data is not canonical JSON' });
    } catch {
      problems.push({ what, message: 'data is not JSON' });
      dataText = 'null';
    }
    const h = chainHash(prev, { seq, at: r['at'] as string, event: r['event'] as string, ca: (r['ca'] as string | null) ?? null, data: dataText });
    if (!bytesEqual(h, storedHash)) problems.push({ what, message: 'hash does not match the record content (record or chain altered)' });
    prev = h;
  }
  return { records: rows.length, problems, head: toHex(prev) };
}

/** Every stored row matches its DER; every signature recorded; no `reserved` rows; integrity_check. */
export function checkDatabase(store: SqliteStore): { problems: CheckProblem[]; certificates: number; crls: number; auditRecords: number } {
  const problems: CheckProblem[] = [];
  const integrity = store.db.pragma('integrity_check') as { integrity_check: string }[];
  if (integrity.length !== 1 || integrity[0]?.integrity_check !== 'ok') {
    for (const x of integrity) problems.push({ what: 'sqlite', message: `integrity_check: ${x.integrity_check}` });
  }
  const fk = store.db.pragma('foreign_key_check') as unknown[];
  if (fk.length > 0) problems.push({ what: 'sqlite', message: `${fk.length} foreign key violation(s)` });

  const cas = new Map(store.listCas().map((c) => [c.name, c]));
  for (const ca of cas.values()) {
    if (!bytesEqual(sha256(ca.publicKey), ca.spkiSha256)) problems.push({ what: `CA ${ca.name}`, message: 'spki_sha256 does not match the public key' });
    if (!ca.certificate) problems.push({ what: `CA ${ca.name}`, message: 'has no certificate (ceremony not completed)' });
  }
  const certs = store.findCertificates({});
  for (const c of certs) {
    const what = `certificate ${c.issuerName}/${c.serialHex}`;
    if (c.status === 'reserved') problems.push({ what, message: 'still reserved (run any ca command to recover it, then resolve it)' });
    if (!bytesEqual(sha256(c.tbs), c.tbsSha256)) problems.push({ what, message: 'tbs_sha256 does not match the stored TBS' });
    if (c.status !== 'issued' && c.status !== 'revoked') continue;
    if (!c.der) {
      problems.push({ what, message: 'issued without DER (signature not recorded)' });
      continue;
    }
    const issuer = cas.get(c.issuerName);
    try {
      verifyIssuedCertificate(c.der, c.tbs, issuer!.publicKey);
    } catch (e) {
      problems.push({ what, message: `DER does not verify against the stored TBS and issuer key: ${(e as Error).message}` });
      continue;
    }
    try {
      const cert = AsnConvert.parse(c.der, Certificate);
      const tbs = cert.tbsCertificate;
      const serialHex = toHex(new Uint8Array(tbs.serialNumber)).toUpperCase();
      if (serialHex !== c.serialHex || !bytesEqual(new Uint8Array(tbs.serialNumber), c.serial)) problems.push({ what, message: `serial in DER is ${serialHex}` });
      const na = isoUtc(tbs.validity.notAfter.getTime());
      if (na !== c.notAfter) problems.push({ what, message: `notAfter in DER is ${na}, row says ${c.notAfter}` });
      const nb = isoUtc(tbs.validity.notBefore.getTime());
      if (nb !== c.notBefore) problems.push({ what, message: `notBefore in DER is ${nb}, row says ${c.notBefore}` });
      const spki = new Uint8Array(AsnConvert.serialize(tbs.subjectPublicKeyInfo));
      if (!bytesEqual(sha256(spki), c.spkiSha256)) problems.push({ what, message: 'subject key in DER differs from the row' });
      if (issuer?.certificate) {
        const issuerCert = AsnConvert.parse(issuer.certificate, Certificate);
        const want = new Uint8Array(AsnConvert.serialize(issuerCert.tbsCertificate.subject));
        const got = new Uint8Array(AsnConvert.serialize(tbs.issuer));
        if (!bytesEqual(want, got)) problems.push({ what, message: "issuer name in DER differs from the issuing CA's subject" });
      }
    } catch (e) {
      problems.push({ what, message: `DER does not parse: ${(e as Error).message}` });
    }
    if (c.status === 'revoked' && !c.revocation) problems.push({ what, message: 'status revoked without a revocation record' });
  }
  const crls = store.listCrls();
  for (const l of crls) {
    const what = `CRL ${l.issuerName} #${l.crlNumber}`;
    if (l.status === 'reserved') problems.push({ what, message: 'still reserved' });
    // Migration 11: a TBS in its own file is read (and checked against tbs_sha256) here; a
    // missing, truncated or changed file is a finding, not a crash of the check.
    let tbs: Uint8Array | undefined;
    try {
      tbs = l.tbs;
    } catch (e) {
      problems.push({ what, message: `TBS: ${(e as Error).message}` });
      continue;
    }
    if (!tbs) {
      problems.push({ what, message: 'no stored TBS' });
      continue;
    }
    if (!bytesEqual(sha256(tbs), l.tbsSha256)) problems.push({ what, message: 'tbs_sha256 does not match the stored TBS' });
    if (l.status !== 'issued') continue;
    try {
      verifyCrl(l.der!, tbs, cas.get(l.issuerName)!.publicKey);
    } catch (e) {
      problems.push({ what, message: `DER does not verify: ${(e as Error).message}` });
    }
  }
  const audit = verifyAuditChain(store);
  problems.push(...audit.problems);
  problems.push(...replayAuditLog(store));
  problems.push(...invalidTimes(store));
  problems.push(...certificateCountProblems(store));
  problems.push(...crlEntryProblems(store));
  return { problems, certificates: certs.length, crls: crls.length, auditRecords: audit.records };
}

/** Time values written before migration 2's triggers (e.g. "Invalid DateTime" from a bad fake clock). */
export function invalidTimes(store: SqliteStore): CheckProblem[] {
  const out: CheckProblem[] = [];
  for (const [table, cols] of Object.entries(TIME_COLUMNS)) {
    for (const c of cols) {
      const n = (store.db.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${c} IS NOT NULL AND ${c} NOT GLOB ?`).get(ISO_UTC_GLOB) as { n: number }).n;
      if (n > 0) out.push({ what: `${table}.${c}`, message: `${n} value(s) are not ISO 8601 UTC times` });
    }
  }
  return out;
}
