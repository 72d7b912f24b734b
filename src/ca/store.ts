import type { KeyLookupResult } from './csr/check-csr.js';
import type { CrlReason } from './crl/tbs-cert-list-input.js';
import type { CrlEntryChunks, CrlEntryStream } from './crl/crl-entry-stream.js';

/**
 * The store port of the CA engine (ARCHITECTURE.md: "ca defines the store interface that db
 * implements"). Every writer is one durable transaction; every state change carries its audit
 * record in the same transaction, so the audit log and the tables can never disagree.
 */

export type CertificateStatus = 'reserved' | 'issued' | 'revoked' | 'outcome_unknown' | 'abandoned';
export type CrlStatus = 'reserved' | 'issued' | 'outcome_unknown' | 'abandoned';

/** One audit event to append (sequence, time and hash are assigned by the store). */
export interface AuditEvent {
  readonly event: string;
  /** CA the event is about, if any. */
  readonly ca?: string;
  /** JSON-serialisable details; never a PIN or key material. */
  readonly data: Readonly<Record<string, unknown>>;
}

export interface AuditRecord extends AuditEvent {
  readonly seq: number;
  readonly at: string;
  readonly prevHash: Uint8Array;
  readonly hash: Uint8Array;
}

/** A CA of this installation and the card key it signs with. */
export interface CaRecord {
  readonly id: number;
  readonly name: string;
  readonly parentName: string | undefined;
  readonly profileName: string;
  readonly cardSerial: string;
  /** Card family of that card: its driver's name ('sc-hsm', 'piv', …). */
  readonly cardFamily: string;
  readonly keyId: string;
  readonly keyRef: number;
  /** DER SubjectPublicKeyInfo of the card key. */
  readonly publicKey: Uint8Array;
  readonly spkiSha256: Uint8Array;
  /** The CA's own certificate, once the ceremony completed. */
  readonly certificate: Uint8Array | undefined;
  readonly createdAt: string;
}

export interface NewCaBinding {
  readonly name: string;
  readonly parentName?: string;
  readonly profileName: string;
  readonly cardSerial: string;
  /** The card's driver name ('sc-hsm', 'piv', …). */
  readonly cardFamily: string;
  readonly keyId: string;
  readonly keyRef: number;
  readonly publicKey: Uint8Array;
  readonly spkiSha256: Uint8Array;
}

export interface CertificateRecord {
  readonly id: number;
  readonly issuerName: string;
  /** Serial content octets. */
  readonly serial: Uint8Array;
  /** Upper-case hex of `serial`. */
  readonly serialHex: string;
  readonly status: CertificateStatus;
  readonly profile: string;
  readonly subject: string;
  readonly sans: readonly string[];
  readonly notBefore: string;
  readonly notAfter: string;
  readonly spkiSha256: Uint8Array;
  readonly tbs: Uint8Array;
  readonly tbsSha256: Uint8Array;
  readonly der: Uint8Array | undefined;
  readonly reservedAt: string;
  readonly issuedAt: string | undefined;
  readonly isCa: boolean;
  readonly revocation: { readonly date: string; readonly reason: CrlReason; readonly recordedAt: string } | undefined;
  /**
   * Reserved by a batch and not yet sent to the card (migration 7): the card was certainly never
   * asked to sign it. False for every row outside a batch and once `markCertificateSent` ran.
   */
  readonly queued: boolean;
}

/** What a listing shows of a certificate: no TBS, no DER (`ca list` over a million rows). */
export type CertificateSummary = Pick<
  CertificateRecord,
  'id' | 'issuerName' | 'serial' | 'serialHex' | 'status' | 'profile' | 'subject' | 'sans' | 'notBefore' | 'notAfter' | 'isCa' | 'reservedAt' | 'issuedAt' | 'revocation'
>;

export interface ReserveCertificate {
  readonly issuerName: string;
  readonly serial: Uint8Array;
  readonly profile: string;
  readonly subject: string;
  readonly sans: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly spkiSha256: Uint8Array;
  readonly tbs: Uint8Array;
  readonly tbsSha256: Uint8Array;
  readonly isCa: boolean;
  /** The CSR, kept as the request record (absent for CA keys from a card). */
  readonly requestDer?: Uint8Array;
  readonly at: Date;
  /**
   * A batch row: reserved "queued", the card not asked for it until `markCertificateSent`
   * (recovery abandons a queued row instead of calling it outcome_unknown). Default false: the
   * row may be sent to the card as soon as this commits.
   */
  readonly queued?: boolean;
}

export interface CrlRecord {
  readonly id: number;
  readonly issuerName: string;
  readonly crlNumber: bigint;
  readonly status: CrlStatus;
  readonly thisUpdate: string;
  readonly nextUpdate: string;
  readonly tbs: Uint8Array;
  readonly tbsSha256: Uint8Array;
  readonly der: Uint8Array | undefined;
  readonly entries: number;
  readonly reservedAt: string;
  readonly issuedAt: string | undefined;
}

/** What goes on a CRL: revoked certificates, plus serials whose outcome is unknown. */
export interface RevokedEntry {
  readonly serial: Uint8Array;
  readonly serialHex: string;
  /** When the revocation was recorded (never backdated). */
  readonly revocationDate: string;
  readonly reason: CrlReason;
  /** The operator's compromise / invalidity date (`ca revoke --compromised-at`), if earlier. */
  readonly invalidityDate?: string;
}

export interface CertificateFilter {
  readonly issuer?: string;
  readonly status?: CertificateStatus;
  /** notAfter ≤ this instant (ISO), for `--expiring`. */
  readonly notAfterBefore?: string;
  /** notAfter > this instant (ISO). */
  readonly notAfterAfter?: string;
}

export interface CaStore {
  getCa(name: string): CaRecord | undefined;
  listCas(): CaRecord[];
  /** Bind a CA name to a card key (ceremony). Refuses a name or key already bound. */
  createCa(binding: NewCaBinding, audit: AuditEvent, at: Date): CaRecord;
  /** Attach the CA's own certificate after the ceremony signed and verified it. */
  setCaCertificate(name: string, der: Uint8Array, audit: AuditEvent, at: Date): void;

  /** Everything the store knows about a public key (for `checkKeyNotReused`). */
  lookupKey(spkiSha256: Uint8Array): KeyLookupResult[];
  /** Latest signing event: certificate or CRL reserved/issued, CA bound (clock sanity; never a refusal). */
  lastActivity(): Date | undefined;

  /**
   * Run `fn`'s store writes as one durable transaction: one commit (one fsync) for all of them,
   * nothing of them if `fn` throws. A batch reserves all its intents this way (issue #14 item 2).
   */
  atomically<T>(fn: () => T): T;
  /** Certificates `issuerName` made from exactly this CSR (by SHA-256 of its DER), oldest first. */
  certificatesForRequest(issuerName: string, csrSha256: Uint8Array): CertificateRecord[];

  /** TX1 of the issuance cycle. Throws `STORE_SERIAL_TAKEN` if the serial exists for the issuer. */
  reserveCertificate(r: ReserveCertificate, audit: AuditEvent): CertificateRecord;
  /**
   * A queued row is about to be sent to the card: clears `queued` (from now on a crash makes it
   * outcome_unknown). Inside `atomically` with the previous row's `markCertificateIssued`, so a
   * batch pays one commit per certificate.
   */
  markCertificateSent(id: number, audit: AuditEvent, at: Date): void;
  /** TX2: reserved → issued with the DER. */
  markCertificateIssued(id: number, der: Uint8Array, audit: AuditEvent, at: Date): CertificateRecord;
  /** reserved → outcome_unknown (signing may have happened) or abandoned (it certainly did not). */
  markCertificateFailed(id: number, status: 'outcome_unknown' | 'abandoned', audit: AuditEvent, at: Date): void;
  getCertificate(serialHex: string, issuerName?: string): CertificateRecord[];
  findCertificates(filter: CertificateFilter): CertificateRecord[];
  revokeCertificate(id: number, date: Date, reason: CrlReason, audit: AuditEvent, at: Date): CertificateRecord;

  /** Serials for `issuerName`'s next CRL. */
  revokedEntries(issuerName: string): RevokedEntry[];
  /**
   * The same entries as a stream for the CRL writer (no record per entry): call it inside the
   * transaction that stores the CRL intent, so the count and the entries agree.
   */
  revokedEntryStream(issuerName: string): CrlEntryStream;
  /** The same entries pre-encoded, in the same order (migration 9): what `ca crl` writes from. */
  revokedEntryChunks(issuerName: string): CrlEntryChunks;
  /** Certificates per status of one CA, from the counts the database keeps (no row scan). */
  certificateCounts(issuerName: string): Record<CertificateStatus, number>;
  /**
   * `findCertificates` as a stream of summaries, in id order (bounded memory at any size). The
   * caller may stop between rows (to wait for its output to drain); the read stays open until
   * the iteration ends or is abandoned with `return()`.
   */
  eachCertificate(filter: CertificateFilter): IterableIterator<CertificateSummary>;
  latestCrl(issuerName: string, status?: CrlStatus): CrlRecord | undefined;
  /**
   * CRL TX1: picks the next number (strictly above every number ever reserved for the issuer),
   * lets `build` make the TBS for it, stores it `reserved` with its audit intent. `audit` is
   * called once the TBS is stored (durably, when it goes to a file of its own) and before the
   * transaction commits, so the engine can name that moment as a crash point.
   */
  reserveCrl(
    issuerName: string,
    build: (crlNumber: bigint) => { tbs: Uint8Array; tbsSha256: Uint8Array; thisUpdate: Date; nextUpdate: Date; entries: number },
    audit: (crlNumber: bigint) => AuditEvent,
    at: Date,
    /** Never pick a number ≤ this (the highest number on a card's checkpoint: RFC 5280 §5.2.3). */
    floor?: bigint,
  ): CrlRecord;
  /**
   * CRL TX2: stores the signed CRL of a reserved row, refusing one whose TBS is not the one stored
   * with the intent (same length, same SHA-256). `tbsSha256`, when given, is the SHA-256 of
   * `der`'s TBS octets as the caller hashed them after signing (crl-cycle.ts, which verified the
   * signature on that digest): the store compares it instead of hashing 40 MB again.
   */
  markCrlIssued(id: number, der: Uint8Array, audit: AuditEvent, at: Date, tbsSha256?: Uint8Array): CrlRecord;
  markCrlFailed(id: number, status: 'outcome_unknown' | 'abandoned', audit: AuditEvent, at: Date): void;

  /** Append one audit record on its own (refusals, ceremony steps). */
  audit(event: AuditEvent, at: Date): AuditRecord;
}

