import type Database from 'better-sqlite3';
import { sha256 } from '../common/sha256.js';
import { bytesEqual, toHex } from '../common/hex.js';
import { children, readSingle, tlvHeader } from '../common/der.js';
import { isoUtc } from '../ca/clock.js';
import { CRL_REASON_CODES, type CrlReason } from '../ca/crl/tbs-cert-list-input.js';
import type { KeyLookupResult } from '../ca/csr/check-csr.js';
import type {
  AuditEvent,
  AuditRecord,
  CaRecord,
  CaStore,
  CertificateFilter,
  CertificateRecord,
  CertificateStatus,
  CertificateSummary,
  CrlRecord,
  CrlStatus,
  NewCaBinding,
  ReserveCertificate,
  RevokedEntry,
} from '../ca/store.js';
import { adoptedCrlFloor } from './adoption-import.js';
import { canonicalJson, chainHash, GENESIS_HASH } from './audit-chain.js';
import type { CrlEntryChunks, CrlEntryStream } from '../ca/crl/crl-entry-stream.js';
import { writeTransaction, type Db } from './database.js';
import { DbError } from './db-error.js';
import { SENT_OR_INTENT_NEWEST_FIRST_SQL } from './audit-by-event.js';
import { CRL_TBS_DIR, crlTbsFileName, isCrlTbsFileName, orphanCrlTbsFiles, readCrlTbsFile, removeCrlTbsFile, writeCrlTbsFile } from './crl-tbs-file.js';
import { dirname, join } from 'node:path';

type Row = Record<string, unknown>;
/** Entries per chunk of a CRL read (≈ 40 octets each: ≈ 2.6 MB per value). */
let CRL_ENTRY_CHUNK = 65_536;
/** Tests: a small chunk size, so that a few entries cross chunk boundaries. */
export function setCrlEntryChunkForTests(n: number): void {
  CRL_ENTRY_CHUNK = n;
}
const u8 = (v: unknown): Uint8Array => new Uint8Array(v as Buffer);
const buf = (v: Uint8Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/**
 * A CertificateSummary's columns: [SQL expression, result name]. SUMMARY_SELECT selects them in
 * this order, so `eachCertificate` reads its rows as arrays (better-sqlite3's raw mode) and takes
 * each by position: a row as an object of 16 named keys cost ≈ 1.2 µs more (10,000 rows of
 * `ca list --expiring 30d`: 51 → 39 ms for the query and its rows at the scale of issue #14).
 */
const SUMMARY_FIELDS = [
  ['c.id', 'id'], ['c.serial', 'serial'], ['c.serial_hex', 'serial_hex'], ['c.status', 'status'], ['c.profile', 'profile'],
  ['c.subject', 'subject'], ['c.sans', 'sans'], ['c.not_before', 'not_before'], ['c.not_after', 'not_after'],
  ['c.reserved_at', 'reserved_at'], ['c.issued_at', 'issued_at'], ['c.is_ca', 'is_ca'], ['i.name', 'issuer_name'],
  ['r.revoked_at', 'revoked_at'], ['r.reason', 'reason'], ['r.recorded_at', 'recorded_at'],
] as const;
type SummaryColumn = (typeof SUMMARY_FIELDS)[number][1];
const SUMMARY_AT = Object.fromEntries(SUMMARY_FIELDS.map(([, name], i) => [name, i])) as Record<SummaryColumn, number>;

const SUMMARY_SELECT = `
SELECT ${SUMMARY_FIELDS.map(([expr, name]) => (expr.endsWith(`.${name}`) ? expr : `${expr} AS ${name}`)).join(', ')}
FROM certificates c JOIN cas i ON i.id = c.issuer_id LEFT JOIN revocations r ON r.certificate_id = c.id`;

/**
 * SQL for a revocation's CRLReason code as the two digits of a packed CRL entry
 * (crl-entry-stream.ts): no revocation row (outcome_unknown) or `unspecified` → 00; a stored
 * reason that is no CRLReason → ?? (the writer refuses it).
 */
const REASON_CODE_SQL = `CASE coalesce(r.reason, 'unspecified') ${Object.entries(CRL_REASON_CODES)
  .map(([name, code]) => `WHEN '${name}' THEN '${String(code).padStart(2, '0')}'`)
  .join(' ')} ELSE '??' END`;

const ALL_STATUSES: readonly CertificateStatus[] = ['reserved', 'issued', 'revoked', 'outcome_unknown', 'abandoned'];

const CERT_SELECT = `
SELECT c.*, i.name AS issuer_name, r.revoked_at, r.reason, r.recorded_at
FROM certificates c JOIN cas i ON i.id = c.issuer_id LEFT JOIN revocations r ON r.certificate_id = c.id`;

/** `CaStore` over better-sqlite3. Every writer runs in `BEGIN IMMEDIATE` with its audit record. */
export class SqliteStore implements CaStore {
  /**
   * Merged into the data of every audit record this store appends (a rehearsal home's fake
   * clock: `{ fakeClock: ISO }`), so every record made under it says so.
   */
  auditTag: Readonly<Record<string, unknown>> | undefined;

  /**
   * Where the TBS files of migration 11 live: `crl-tbs` beside the database file. An in-memory
   * database (tests) has none and keeps every TBS in crl_tbs.
   */
  readonly crlTbsDir: string | undefined;

  constructor(readonly db: Db) {
    this.crlTbsDir = db.memory ? undefined : join(dirname(db.name), CRL_TBS_DIR);
  }

  /**
   * The stored TBS of CRL row `id`: crl_tbs when it holds one (before migration 11, adopted, a
   * backup's copy), else its file, checked against `tbs_sha256` and the recorded length.
   */
  crlTbs(id: number, tbsSha256: Uint8Array): Uint8Array | undefined {
    const t = this.db.prepare('SELECT tbs FROM crl_tbs WHERE crl_id = ?').pluck().get(id) as Buffer | undefined;
    if (t) return u8(t);
    const length = this.db.prepare('SELECT length FROM crl_tbs_files WHERE crl_id = ?').pluck().get(id) as number | undefined;
    if (length === undefined) return undefined;
    if (!this.crlTbsDir) throw new DbError('STORE_CRL_TBS_MISSING', `the TBS of CRL row ${id} is in a file, and this database has no directory`, { hint: 'Open the database from its CA home.' });
    return readCrlTbsFile(this.crlTbsDir, id, length, tbsSha256);
  }

  /**
   * Prepared statements, once per SQL text: better-sqlite3's prepare() compiles the SQL every
   * time, and a batch runs the same dozen statements per certificate (it was 6 % of a batch's
   * host time). Statements iterated, plucked or switched to raw mode are not cached (a cached
   * statement keeps its mode, and one being iterated cannot run again).
   */
  private readonly stmts = new Map<string, Database.Statement<unknown[]>>();
  private q(sql: string): Database.Statement<unknown[]> {
    let st = this.stmts.get(sql);
    if (!st) this.stmts.set(sql, (st = this.db.prepare(sql)));
    return st;
  }

  // ---- CAs -------------------------------------------------------------------------------

  private caFromRow(r: Row): CaRecord {
    return {
      id: r['id'] as number,
      name: r['name'] as string,
      parentName: (r['parent_name'] as string | null) ?? undefined,
      profileName: r['profile'] as string,
      cardSerial: r['card_serial'] as string,
      cardFamily: r['card_family'] as string,
      keyId: r['key_id'] as string,
      keyRef: r['key_ref'] as number,
      publicKey: u8(r['public_key']),
      spkiSha256: u8(r['spki_sha256']),
      certificate: r['certificate'] ? u8(r['certificate']) : undefined,
      createdAt: r['created_at'] as string,
    };
  }

  getCa(name: string): CaRecord | undefined {
    const r = this.q('SELECT c.*, p.name AS parent_name FROM cas c LEFT JOIN cas p ON p.id = c.parent_id WHERE c.name = ?').get(name) as Row | undefined;
    return r ? this.caFromRow(r) : undefined;
  }

  listCas(): CaRecord[] {
    return (this.q('SELECT c.*, p.name AS parent_name FROM cas c LEFT JOIN cas p ON p.id = c.parent_id ORDER BY c.id').all() as Row[]).map((r) => this.caFromRow(r));
  }

  private caId(name: string): number {
    const r = this.q('SELECT id FROM cas WHERE name = ?').get(name) as Row | undefined;
    if (!r) throw new DbError('UNKNOWN_ISSUER', `no CA named ${name} in the database`, { hint: 'See `ca list` for the CAs; run its ceremony first.' });
    return r['id'] as number;
  }

  createCa(b: NewCaBinding, audit: AuditEvent, at: Date): CaRecord {
    return writeTransaction(this.db, () => {
      if (this.getCa(b.name)) throw new DbError('STORE_CA_EXISTS', `a CA named ${b.name} already exists`, { hint: 'A CA is created once; see `ca show`/`ca list`.' });
      const parentId = b.parentName === undefined ? null : this.caId(b.parentName);
      try {
        this.db
          .prepare('INSERT INTO cas (name, parent_id, profile, card_serial, card_family, key_id, key_ref, public_key, spki_sha256, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)')
          .run(b.name, parentId, b.profileName, b.cardSerial, b.cardFamily, b.keyId, b.keyRef, buf(b.publicKey), buf(b.spkiSha256), isoUtc(at));
      } catch (e) {
        if (String((e as Error).message).includes('UNIQUE')) {
          throw new DbError('STORE_KEY_IS_CA_KEY', `the key ${b.keyId} on card ${b.cardSerial} is already bound to another CA`, { hint: 'Every CA needs its own key.' });
        }
        throw e;
      }
      this.appendAudit(audit, at);
      return this.getCa(b.name)!;
    });
  }

  setCaCertificate(name: string, der: Uint8Array, audit: AuditEvent, at: Date): void {
    writeTransaction(this.db, () => {
      const r = this.q('UPDATE cas SET certificate = ? WHERE name = ? AND certificate IS NULL').run(buf(der), name);
      if (r.changes !== 1) throw new DbError('STORE_CA_CERTIFICATE', `CA ${name} is unknown or already has a certificate`);
      this.appendAudit(audit, at);
    });
  }

  // ---- keys and clock ---------------------------------------------------------------------

  lookupKey(spkiSha256: Uint8Array): KeyLookupResult[] {
    const out: KeyLookupResult[] = [];
    for (const r of this.q('SELECT name FROM cas WHERE spki_sha256 = ?').all(buf(spkiSha256)) as Row[]) {
      out.push({ kind: 'ca', caName: r['name'] as string });
    }
    const certs = this
      .q(`SELECT c.serial_hex, c.status, c.is_ca, r.certificate_id AS rev FROM certificates c LEFT JOIN revocations r ON r.certificate_id = c.id
                WHERE c.spki_sha256 = ? AND c.status IN ('issued', 'revoked', 'outcome_unknown', 'reserved')`)
      .all(buf(spkiSha256)) as Row[];
    for (const r of certs) {
      if (r['is_ca'] === 1) continue; // CA certificates are covered by the CA rows above
      // A serial whose signing outcome is unknown (card pulled, crash) does not block retrying
      // the same CSR: that serial goes on the CRL anyway. Once revoked explicitly, it does.
      if (r['status'] === 'outcome_unknown' && r['rev'] === null) continue;
      out.push({ kind: 'issued', serialHex: r['serial_hex'] as string, revoked: r['status'] === 'revoked' || r['rev'] !== null });
    }
    return out.length ? out : [{ kind: 'none' }];
  }

  lastActivity(): Date | undefined {
    const r = this.db
      // Signing events only (issue #8 item 4): a refused command's audit record must not move
      // the watermark, or one refusal under a clock in 2036 would lock every write until 2036.
      .prepare(`SELECT max(t) AS t FROM (
        SELECT max(issued_at) AS t FROM certificates UNION ALL
        SELECT max(reserved_at) FROM certificates UNION ALL
        SELECT max(issued_at) FROM crls UNION ALL
        SELECT max(reserved_at) FROM crls UNION ALL
        SELECT max(created_at) FROM cas)`)
      .get() as Row;
    return r['t'] ? new Date(r['t'] as string) : undefined;
  }

  // ---- certificates -----------------------------------------------------------------------

  private certFromRow(r: Row): CertificateRecord {
    return {
      ...this.summaryFromRow(r),
      spkiSha256: u8(r['spki_sha256']),
      tbs: u8(r['tbs']),
      tbsSha256: u8(r['tbs_sha256']),
      der: r['der'] ? u8(r['der']) : undefined,
      queued: r['queued'] === 1,
    };
  }

  private summaryFromRow(r: Row): CertificateSummary {
    return summaryFromValues(SUMMARY_FIELDS.map(([, name]) => r[name]));
  }

  private certById(id: number): CertificateRecord {
    return this.certFromRow(this.q(`${CERT_SELECT} WHERE c.id = ?`).get(id) as Row);
  }

  atomically<T>(fn: () => T): T {
    // Nested writeTransaction calls inside fn become savepoints of this one transaction.
    return writeTransaction(this.db, fn);
  }

  reserveCertificate(r: ReserveCertificate, audit: AuditEvent): CertificateRecord {
    return writeTransaction(this.db, () => {
      const issuerId = this.caId(r.issuerName);
      const serialHex = toHex(r.serial).toUpperCase();
      const taken = this.q('SELECT 1 FROM certificates WHERE issuer_id = ? AND serial = ?').get(issuerId, buf(r.serial));
      if (taken) throw new DbError('STORE_SERIAL_TAKEN', `serial ${serialHex} already exists for ${r.issuerName}`);
      let requestId: number | null = null;
      if (r.requestDer) {
        requestId = Number(
          this.q('INSERT INTO requests (csr, csr_sha256, received_at) VALUES (?,?,?)').run(buf(r.requestDer), buf(sha256(r.requestDer)), isoUtc(r.at)).lastInsertRowid,
        );
      }
      const id = Number(
        this
          .q(
            `INSERT INTO certificates (issuer_id, serial, serial_hex, status, profile, request_id, subject, sans, not_before, not_after,
               spki_sha256, tbs, tbs_sha256, is_ca, reserved_at${r.queued === true ? ', queued' : ''}) VALUES (?,?,?,'reserved',?,?,?,?,?,?,?,?,?,?,?${r.queued === true ? ',1' : ''})`,
          )
          .run(
            issuerId, buf(r.serial), serialHex, r.profile, requestId, r.subject, JSON.stringify(r.sans), isoUtc(r.notBefore), isoUtc(r.notAfter),
            buf(r.spkiSha256), buf(r.tbs), buf(r.tbsSha256), r.isCa ? 1 : 0, isoUtc(r.at),
          ).lastInsertRowid,
      );
      this.appendAudit(audit, r.at);
      return this.certById(id);
    });
  }

  markCertificateSent(id: number, audit: AuditEvent, at: Date): void {
    writeTransaction(this.db, () => {
      const r = this.q("UPDATE certificates SET queued = 0 WHERE id = ? AND status = 'reserved' AND queued = 1").run(id);
      if (r.changes !== 1) throw new DbError('STORE_NOT_QUEUED', `certificate row ${id} is not a queued reservation`, { hint: 'Run `ca db check`.' });
      this.appendAudit(audit, at);
    });
  }

  markCertificateIssued(id: number, der: Uint8Array, audit: AuditEvent, at: Date): CertificateRecord {
    return writeTransaction(this.db, () => {
      const r = this.q("UPDATE certificates SET status = 'issued', der = ?, issued_at = ? WHERE id = ? AND status = 'reserved'").run(buf(der), isoUtc(at), id);
      if (r.changes !== 1) throw new DbError('STORE_NOT_RESERVED', `certificate row ${id} is not reserved`, { hint: 'Run `ca db check`.' });
      this.appendAudit(audit, at);
      return this.certById(id);
    });
  }

  markCertificateFailed(id: number, status: 'outcome_unknown' | 'abandoned', audit: AuditEvent, at: Date): void {
    writeTransaction(this.db, () => {
      this.q("UPDATE certificates SET status = ? WHERE id = ? AND status = 'reserved'").run(status, id);
      this.appendAudit(audit, at);
    });
  }

  getCertificate(serialHex: string, issuerName?: string): CertificateRecord[] {
    const hex = serialHex.replace(/[:\s]/g, '').toUpperCase();
    const rows = issuerName
      ? (this.q(`${CERT_SELECT} WHERE c.serial_hex = ? AND i.name = ?`).all(hex, issuerName) as Row[])
      : (this.q(`${CERT_SELECT} WHERE c.serial_hex = ?`).all(hex) as Row[]);
    return rows.map((r) => this.certFromRow(r));
  }

  /** Certificates `issuerName` made from exactly this CSR (by SHA-256 of its DER), oldest first. */
  certificatesForRequest(issuerName: string, csrSha256: Uint8Array): CertificateRecord[] {
    return (
      // From the request's hash to its certificates (indexes of migration 7; CROSS JOIN keeps
      // SQLite from starting at the issuer's every certificate instead).
      this.q(`SELECT c.*, i.name AS issuer_name, r.revoked_at, r.reason, r.recorded_at
              FROM requests rq CROSS JOIN certificates c ON c.request_id = rq.id CROSS JOIN cas i ON i.id = c.issuer_id
              LEFT JOIN revocations r ON r.certificate_id = c.id WHERE rq.csr_sha256 = ? AND i.name = ? ORDER BY c.id`).all(buf(csrSha256), issuerName) as Row[]
    ).map((r) => this.certFromRow(r));
  }

  private static filterSql(f: CertificateFilter): { where: string; args: unknown[] } {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.issuer !== undefined) (where.push('i.name = ?'), args.push(f.issuer));
    if (f.status !== undefined) (where.push('c.status = ?'), args.push(f.status));
    if (f.notAfterBefore !== undefined) (where.push('c.not_after <= ?'), args.push(f.notAfterBefore));
    if (f.notAfterAfter !== undefined) (where.push('c.not_after > ?'), args.push(f.notAfterAfter));
    return { where: where.length ? ` WHERE ${where.join(' AND ')}` : '', args };
  }

  findCertificates(f: CertificateFilter): CertificateRecord[] {
    const { where, args } = SqliteStore.filterSql(f);
    return (this.q(`${CERT_SELECT}${where} ORDER BY c.id`).all(...args) as Row[]).map((r) => this.certFromRow(r));
  }

  *eachCertificate(f: CertificateFilter): IterableIterator<CertificateSummary> {
    const { where, args } = SqliteStore.filterSql(f);
    const rows = this.db.prepare(`${SUMMARY_SELECT}${where} ORDER BY c.id`).raw().iterate(...args) as IterableIterator<unknown[]>;
    for (const v of rows) yield summaryFromValues(v);
  }

  certificateCounts(issuerName: string): Record<CertificateStatus, number> {
    const out = Object.fromEntries(ALL_STATUSES.map((s) => [s, 0])) as Record<CertificateStatus, number>;
    const rows = this.q('SELECT k.status, k.n FROM certificate_counts k JOIN cas i ON i.id = k.issuer_id WHERE i.name = ?').all(issuerName) as Row[];
    for (const r of rows) out[r['status'] as CertificateStatus] = r['n'] as number;
    return out;
  }

  revokeCertificate(id: number, date: Date, reason: CrlReason, audit: AuditEvent, at: Date): CertificateRecord {
    return writeTransaction(this.db, () => {
      const c = this.certById(id);
      if (c.revocation) throw new DbError('REVOKE_ALREADY', `serial ${c.serialHex} of ${c.issuerName} is already revoked (${c.revocation.reason})`, { hint: 'Nothing to do.' });
      if (c.status !== 'issued' && c.status !== 'outcome_unknown') {
        throw new DbError('REVOKE_NOT_ISSUED', `serial ${c.serialHex} has status ${c.status} and cannot be revoked`);
      }
      this.q('INSERT INTO revocations (certificate_id, revoked_at, reason, recorded_at) VALUES (?,?,?,?)').run(id, isoUtc(date), reason, isoUtc(at));
      // outcome_unknown keeps its status (no DER to show); the revocation row puts it on the CRL.
      if (c.status === 'issued') this.q("UPDATE certificates SET status = 'revoked' WHERE id = ?").run(id);
      this.appendAudit(audit, at);
      return this.certById(id);
    });
  }

  revokedEntries(issuerName: string): RevokedEntry[] {
    const rows = this.db
      .prepare(
        `SELECT c.serial, c.serial_hex, c.reserved_at, r.revoked_at, r.recorded_at, r.reason FROM certificates c JOIN cas i ON i.id = c.issuer_id
         LEFT JOIN revocations r ON r.certificate_id = c.id
         WHERE i.name = ? AND (r.certificate_id IS NOT NULL OR c.status = 'outcome_unknown') ORDER BY c.id`,
      )
      .all(issuerName) as Row[];
    return rows.map((r) => {
      // revocationDate is when the revocation was recorded (RFC 5280 §5.3.2: a compromise date
      // belongs in invalidityDate). revoked_at holds the operator's invalidity date
      // (`--compromised-at`; equal to recorded_at when none was given). An outcome_unknown
      // serial is listed from the moment it was reserved, reason unspecified: if a certificate
      // exists for it, it must not be trusted (ARCHITECTURE.md, recovery).
      const recorded = (r['recorded_at'] as string | null) ?? (r['reserved_at'] as string);
      const invalidity = r['revoked_at'] as string | null;
      return {
        serial: u8(r['serial']),
        serialHex: r['serial_hex'] as string,
        revocationDate: recorded,
        reason: ((r['reason'] as string | null) ?? 'unspecified') as CrlReason,
        ...(invalidity !== null && invalidity < recorded ? { invalidityDate: invalidity } : {}),
      };
    });
  }

  revokedEntryStream(issuerName: string): CrlEntryStream {
    const issuerId = this.caId(issuerName);
    // Every certificate with a revocation row is `revoked` (or stays `outcome_unknown`):
    // revokeCertificate changes both in one transaction, and the status only moves forward
    // (migration 1's triggers). So the CRL's entries are exactly these two statuses, read
    // through the covering (issuer_id, status, serial, reserved_at) index in its own order: no
    // sort (an ORDER BY id sorted a million rows in a temporary B-tree), no full scan. The
    // count comes from the kept counts (migration 5), read in the same transaction as the rows;
    // the writer refuses a stream that does not deliver exactly that many.
    const counts = this.db.prepare("SELECT coalesce(sum(n), 0) FROM certificate_counts WHERE issuer_id = ? AND status IN ('revoked', 'outcome_unknown')").pluck();
    const count = counts.get(issuerId) as number;
    // One packed string per row (crl-entry-stream.ts): a string is the cheapest value
    // better-sqlite3 hands over, a Buffer per row cost twice as much (issue #14). As
    // revokedEntries(): revocationDate = when recorded; revoked_at is the operator's invalidity
    // date when earlier; an outcome_unknown serial is listed from its reservation, unspecified.
    const rows = this.db
      .prepare(
        `SELECT coalesce(r.recorded_at, c.reserved_at) || ${REASON_CODE_SQL} || CASE WHEN r.revoked_at < r.recorded_at THEN 'I' || r.revoked_at ELSE '-' END || hex(c.serial)
         FROM certificates c LEFT JOIN revocations r ON r.certificate_id = c.id WHERE c.issuer_id = ? AND c.status = ?`,
      )
      .pluck(true);
    return {
      count,
      // An upper bound (serials are 1..20 octets, RFC 5280 §4.1.2.2): summing the real lengths
      // would read every row once more.
      serialOctets: count * 20,
      forEach: (visit) => {
        for (const status of ['revoked', 'outcome_unknown']) {
          for (const e of rows.iterate(issuerId, status) as IterableIterator<string>) visit(e);
        }
      },
    };
  }

  revokedEntryChunks(issuerName: string): CrlEntryChunks {
    const issuerId = this.caId(issuerName);
    // The pre-encoded entries of migration 9, kept by triggers with every revocation and
    // outcome_unknown: their count and octets come from the totals the same triggers keep (the
    // TBS is allocated at its exact size; a wrong total is refused by the writer),
    // then read as concatenated chunks in primary-key order (group, then serial: the order the
    // CRL has always listed), a few hundred values instead of a row per entry. All of it runs
    // inside reserveCrl's transaction: one snapshot.
    const sums = this.q('SELECT grp, n, octets FROM crl_entry_totals WHERE issuer_id = ?').all(issuerId) as Row[];
    const runOf = (g: number): Row | undefined => sums.find((r) => r['grp'] === g);
    const runs = [0, 1].map((g) => (runOf(g)?.['n'] as number | undefined) ?? 0);
    const octets = sums.reduce((a, r) => a + (r['octets'] as number), 0);
    const chunk = this.db
      .prepare(
        `SELECT CAST(group_concat(der, '') AS BLOB), count(*), max(serial) FROM
           (SELECT der, serial FROM crl_entries WHERE issuer_id = ? AND grp = ? AND serial > ? ORDER BY serial LIMIT ${CRL_ENTRY_CHUNK})`,
      )
      .raw(true);
    return {
      runs,
      octets,
      forEach: (visit) => {
        for (const g of [0, 1]) {
          let after: Buffer = Buffer.alloc(0); // the empty BLOB sorts before every serial
          for (;;) {
            const [der, n, last] = chunk.get(issuerId, g, after) as [Buffer | null, number, Buffer | null];
            if (n === 0 || !der || !last) break;
            visit(der, n);
            if (n < CRL_ENTRY_CHUNK) break;
            after = last;
          }
        }
      },
    };
  }

  // ---- CRLs -------------------------------------------------------------------------------

  /**
   * A CRL row without its TBS and DER, which are read on first access: a CRL of a million
   * entries is ~40 MB twice, and `ca status` or the CRL cycle only want its number and dates.
   */
  private crlFromRow(r: Row, known: { tbs?: Uint8Array; der?: Uint8Array } = {}): CrlRecord {
    const id = r['id'] as number;
    // The bytes this process just stored need not be read back (40 MB each for a CRL of a
    // million entries, through a chain of overflow pages or from its TBS file); a TBS read once
    // serves both getters.
    let tbs: Uint8Array | undefined = known.tbs;
    let der: Uint8Array | null | undefined = known.der ?? null;
    // Migration 10: the TBS in crl_tbs, the DER as SEQUENCE header ‖ TBS ‖ the tail in
    // crl_signatures. Migration 11: or the TBS in its file (crl-tbs-file.ts), read only when asked for.
    const loadTbs = (): Uint8Array | undefined => (tbs ??= this.crlTbs(id, u8(r['tbs_sha256'])));
    const loadDer = (): Uint8Array | undefined => {
      const tail = this.db.prepare('SELECT tail FROM crl_signatures WHERE crl_id = ?').pluck().get(id) as Buffer | undefined;
      const t = tail && loadTbs();
      if (!tail || !t) return undefined;
      const h = tlvHeader(0x30, t.length + tail.length);
      const out = new Uint8Array(h.length + t.length + tail.length);
      out.set(h, 0);
      out.set(t, h.length);
      out.set(tail, h.length + t.length);
      return out;
    };
    return {
      id,
      issuerName: r['issuer_name'] as string,
      crlNumber: BigInt(r['crl_number'] as number),
      status: r['status'] as CrlStatus,
      thisUpdate: r['this_update'] as string,
      nextUpdate: r['next_update'] as string,
      get tbs(): Uint8Array {
        return loadTbs()!;
      },
      tbsSha256: u8(r['tbs_sha256']),
      get der(): Uint8Array | undefined {
        if (der === null) der = loadDer();
        return der;
      },
      entries: r['entries'] as number,
      reservedAt: r['reserved_at'] as string,
      issuedAt: (r['issued_at'] as string | null) ?? undefined,
    };
  }

  latestCrl(issuerName: string, status?: CrlStatus): CrlRecord | undefined {
    const r = this.db
      .prepare(`SELECT l.id, l.crl_number, l.status, l.this_update, l.next_update, l.tbs_sha256, l.entries, l.reserved_at, l.issued_at, i.name AS issuer_name FROM crls l JOIN cas i ON i.id = l.issuer_id WHERE i.name = ? ${status ? 'AND l.status = ?' : ''} ORDER BY l.crl_number DESC LIMIT 1`)
      .get(...(status ? [issuerName, status] : [issuerName])) as Row | undefined;
    return r ? this.crlFromRow(r) : undefined;
  }

  /** TBS files in the home's crl-tbs directory that no CRL row names (crl-tbs-file.ts). */
  orphanCrlTbsFiles(): string[] {
    if (!this.crlTbsDir) return [];
    const named = new Set((this.q('SELECT l.id, l.tbs_sha256 FROM crl_tbs_files f JOIN crls l ON l.id = f.crl_id').all() as Row[]).map((r) => crlTbsFileName(r['id'] as number, new Uint8Array(r['tbs_sha256'] as Buffer))));
    return orphanCrlTbsFiles(this.crlTbsDir, named);
  }

  listCrls(): CrlRecord[] {
    return (this.q('SELECT l.id, l.crl_number, l.status, l.this_update, l.next_update, l.tbs_sha256, l.entries, l.reserved_at, l.issued_at, i.name AS issuer_name FROM crls l JOIN cas i ON i.id = l.issuer_id ORDER BY l.id').all() as Row[]).map((r) => this.crlFromRow(r));
  }

  reserveCrl(
    issuerName: string,
    build: (crlNumber: bigint) => { tbs: Uint8Array; tbsSha256: Uint8Array; thisUpdate: Date; nextUpdate: Date; entries: number },
    audit: (crlNumber: bigint) => AuditEvent,
    at: Date,
    floor?: bigint,
  ): CrlRecord {
    return writeTransaction(this.db, () => {
      const issuerId = this.caId(issuerName);
      const max = this.q('SELECT max(crl_number) AS n FROM crls WHERE issuer_id = ?').get(issuerId) as Row;
      const inDb = BigInt((max['n'] as number | null) ?? 0);
      // An adopted CA continues above every number its old tool used (adoption-import.ts).
      const adopted = adoptedCrlFloor(this.db, issuerId);
      const highest = adopted > inDb ? adopted : inDb;
      const n = (floor !== undefined && floor > highest ? floor : highest) + 1n;
      const b = build(n);
      const id = Number(
        this.db
          .prepare(`INSERT INTO crls (issuer_id, crl_number, status, this_update, next_update, entries, tbs_sha256, reserved_at) VALUES (?,?, 'reserved', ?,?,?,?,?)`)
          .run(issuerId, Number(n), isoUtc(b.thisUpdate), isoUtc(b.nextUpdate), b.entries, buf(b.tbsSha256), isoUtc(at)).lastInsertRowid,
      );
      // The exact TBS, durable before the transaction that reserves the number and holds the
      // intent record commits: in its own fsynced file (migration 11, crl-tbs-file.ts), or in
      // crl_tbs for a database without a directory (in memory).
      let file: string | undefined;
      try {
        if (this.crlTbsDir) {
          // Files a crash left between a TBS file's fsync and its commit: inside this write
          // transaction no other reservation can be under way, so every TBS file no row names is one.
          for (const f of this.orphanCrlTbsFiles()) if (isCrlTbsFileName(f)) removeCrlTbsFile(join(this.crlTbsDir, f));
          file = writeCrlTbsFile(this.crlTbsDir, crlTbsFileName(id, b.tbsSha256), b.tbs);
          this.q('INSERT INTO crl_tbs_files (crl_id, length) VALUES (?,?)').run(id, b.tbs.length);
        } else {
          this.q('INSERT INTO crl_tbs (crl_id, tbs) VALUES (?,?)').run(id, buf(b.tbs));
        }
        this.appendAudit(audit(n), at);
      } catch (e) {
        if (file) removeCrlTbsFile(file); // the transaction rolls back: no row will name it
        throw e;
      }
      return this.crlFromRow(this.q('SELECT l.id, l.crl_number, l.status, l.this_update, l.next_update, l.tbs_sha256, l.entries, l.reserved_at, l.issued_at, i.name AS issuer_name FROM crls l JOIN cas i ON i.id = l.issuer_id WHERE l.id = ?').get(id) as Row, { tbs: b.tbs });
    });
  }

  markCrlIssued(id: number, der: Uint8Array, audit: AuditEvent, at: Date, tbsSha256?: Uint8Array): CrlRecord {
    return writeTransaction(this.db, () => {
      // The DER is SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue } (RFC 5280
      // §5.1): its TBS is the one stored with the intent (crl_tbs), so only what follows the TBS
      // is stored, and the signed bytes are checked to be exactly header ‖ stored TBS ‖ tail.
      const top = readSingle(der);
      const parts = children(der, top);
      const tbsTlv = parts[0];
      const stored = this.q(
        'SELECT l.status, l.tbs_sha256, coalesce((SELECT length(tbs) FROM crl_tbs WHERE crl_id = l.id), (SELECT length FROM crl_tbs_files WHERE crl_id = l.id)) AS n FROM crls l WHERE l.id = ?',
      ).get(id) as Row | undefined;
      if (!stored || stored['status'] !== 'reserved') throw new DbError('STORE_NOT_RESERVED', `CRL row ${id} is not reserved`, { hint: 'Run `ca db check`.' });
      if (parts.length !== 3 || !tbsTlv || tbsTlv.start !== top.valueStart || tbsTlv.end - tbsTlv.start !== stored['n'] || !bytesEqual(tbsSha256 ?? sha256(der.subarray(tbsTlv.start, tbsTlv.end)), u8(stored['tbs_sha256']))) {
        throw new DbError('STORE_CRL_TBS_MISMATCH', `the signed CRL of row ${id} does not carry the TBS stored with its intent`, { hint: 'Run `ca db check`.' });
      }
      this.q('INSERT INTO crl_signatures (crl_id, tail) VALUES (?,?)').run(id, buf(der.subarray(tbsTlv.end)));
      const r = this.q("UPDATE crls SET status = 'issued', issued_at = ? WHERE id = ? AND status = 'reserved'").run(isoUtc(at), id);
      if (r.changes !== 1) throw new DbError('STORE_NOT_RESERVED', `CRL row ${id} is not reserved`, { hint: 'Run `ca db check`.' });
      this.appendAudit(audit, at);
      return this.crlFromRow(this.q('SELECT l.id, l.crl_number, l.status, l.this_update, l.next_update, l.tbs_sha256, l.entries, l.reserved_at, l.issued_at, i.name AS issuer_name FROM crls l JOIN cas i ON i.id = l.issuer_id WHERE l.id = ?').get(id) as Row, { der });
    });
  }

  markCrlFailed(id: number, status: 'outcome_unknown' | 'abandoned', audit: AuditEvent, at: Date): void {
    writeTransaction(this.db, () => {
      this.q("UPDATE crls SET status = ? WHERE id = ? AND status = 'reserved'").run(status, id);
      this.appendAudit(audit, at);
    });
  }

  // ---- audit ------------------------------------------------------------------------------

  audit(event: AuditEvent, at: Date): AuditRecord {
    return writeTransaction(this.db, () => this.appendAudit(event, at));
  }

  /** Append inside the caller's transaction. */
  private appendAudit(e: AuditEvent, at: Date): AuditRecord {
    const last = this.q('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as Row | undefined;
    const seq = last ? (last['seq'] as number) + 1 : 1;
    const prevHash = last ? u8(last['hash']) : GENESIS_HASH;
    const data = this.auditTag ? { ...e.data, ...this.auditTag } : e.data;
    const fields = { seq, at: isoUtc(at), event: e.event, ca: e.ca ?? null, data: canonicalJson(data) };
    const hash = chainHash(prevHash, fields);
    this.q('INSERT INTO audit_log (seq, at, event, ca, data, prev_hash, hash) VALUES (?,?,?,?,?,?,?)').run(seq, fields.at, fields.event, fields.ca, fields.data, buf(prevHash), buf(hash));
    return { seq, at: fields.at, event: e.event, ...(e.ca === undefined ? {} : { ca: e.ca }), data, prevHash, hash };
  }

  auditRecords(): AuditRecord[] {
    return (this.q('SELECT * FROM audit_log ORDER BY seq').all() as Row[]).map((r) => ({
      seq: r['seq'] as number,
      at: r['at'] as string,
      event: r['event'] as string,
      ...(r['ca'] === null ? {} : { ca: r['ca'] as string }),
      data: JSON.parse(r['data'] as string) as Record<string, unknown>,
      prevHash: u8(r['prev_hash']),
      hash: u8(r['hash']),
    }));
  }

  // ---- startup recovery -------------------------------------------------------------------

  /**
   * Rows left `reserved` by a crash. A certificate the card may have been asked to sign
   * (`queued` = 0: every row outside a batch, and a batch row once marked sent) becomes
   * `outcome_unknown`: the card may or may not have signed, so the serial is never reused and
   * goes on the next CRL (ARCHITECTURE.md). A batch row still `queued` was certainly never sent
   * (its "sent" mark is committed before its SIGN: batch-issuance.ts) and becomes `abandoned`:
   * serial burnt, nothing to list, its CSR free to be signed again. The audit log has the last
   * word over the column: a queued row whose `certificate.sent` record exists (the column was
   * edited) is outcome_unknown all the same, and `ca db check` names the disagreement.
   * CRL rows have no queue: every reserved CRL becomes outcome_unknown.
   */
  recoverReserved(at: Date): { certificates: number; crls: number; outcomeUnknown: number; abandoned: number } {
    return writeTransaction(this.db, () => {
      const certs = this.q("SELECT c.id, c.serial_hex, c.queued, i.name FROM certificates c JOIN cas i ON i.id = c.issuer_id WHERE c.status = 'reserved'").all() as Row[];
      const crls = this.q("SELECT l.id, l.crl_number, i.name FROM crls l JOIN cas i ON i.id = l.issuer_id WHERE l.status = 'reserved'").all() as Row[];
      const sent = certs.some((c) => c['queued'] === 1) ? this.sentInAuditTail(certs) : new Set<string>();
      let abandoned = 0;
      for (const c of certs) {
        const key = `${c['name'] as string}/${c['serial_hex'] as string}`;
        if (c['queued'] === 1 && !sent.has(key)) {
          this.q("UPDATE certificates SET status = 'abandoned' WHERE id = ?").run(c['id']);
          this.appendAudit({ event: 'recovery.certificate-abandoned', ca: c['name'] as string, data: { serial: c['serial_hex'] } }, at);
          abandoned++;
          continue;
        }
        // A queued row the log says was sent: the column was edited. It stays evidence in the log.
        const forged = c['queued'] === 1;
        if (forged) this.q('UPDATE certificates SET queued = 0 WHERE id = ?').run(c['id']);
        this.q("UPDATE certificates SET status = 'outcome_unknown' WHERE id = ?").run(c['id']);
        this.appendAudit({ event: 'recovery.certificate-outcome-unknown', ca: c['name'] as string, data: { serial: c['serial_hex'], ...(forged ? { markedQueuedButSent: true } : {}) } }, at);
      }
      for (const c of crls) {
        this.q("UPDATE crls SET status = 'outcome_unknown' WHERE id = ?").run(c['id']);
        this.appendAudit({ event: 'recovery.crl-outcome-unknown', ca: c['name'] as string, data: { crlNumber: c['crl_number'] } }, at);
      }
      return { certificates: certs.length, crls: crls.length, outcomeUnknown: certs.length - abandoned + crls.length, abandoned };
    });
  }

  /**
   * "CA/SERIAL" of the reserved rows the audit log records as sent to the card. Read from the
   * newest record backwards until every reserved row's intent was passed: a crash leaves only
   * the rows of the run it interrupted, so this reads that run's records, not the whole log.
   */
  private sentInAuditTail(reserved: readonly Row[]): Set<string> {
    const open = new Set(reserved.map((c) => `${c['name'] as string}/${c['serial_hex'] as string}`));
    const sent = new Set<string>();
    for (const r of this.db.prepare(SENT_OR_INTENT_NEWEST_FIRST_SQL).iterate() as IterableIterator<Row>) {
      const serial = String((JSON.parse(r['data'] as string) as { serial?: unknown }).serial ?? '').toUpperCase();
      const key = `${(r['ca'] as string | null) ?? ''}/${serial}`;
      if (!open.has(key)) continue;
      if (r['event'] === 'certificate.sent') sent.add(key);
      else open.delete(key);
      if (open.size === 0) break;
    }
    return sent;
  }
}

/** A CertificateSummary from SUMMARY_SELECT's values, in SUMMARY_FIELDS order. */
function summaryFromValues(v: readonly unknown[]): CertificateSummary {
  const at = SUMMARY_AT;
  const revokedAt = v[at.revoked_at] as string | null;
  return {
    id: v[at.id] as number,
    issuerName: v[at.issuer_name] as string,
    serial: u8(v[at.serial]),
    serialHex: v[at.serial_hex] as string,
    status: v[at.status] as CertificateStatus,
    profile: v[at.profile] as string,
    subject: v[at.subject] as string,
    sans: JSON.parse(v[at.sans] as string) as string[],
    notBefore: v[at.not_before] as string,
    notAfter: v[at.not_after] as string,
    reservedAt: v[at.reserved_at] as string,
    issuedAt: (v[at.issued_at] as string | null) ?? undefined,
    isCa: v[at.is_ca] === 1,
    revocation: revokedAt ? { date: revokedAt, reason: v[at.reason] as CrlReason, recordedAt: v[at.recorded_at] as string } : undefined,
  };
}
