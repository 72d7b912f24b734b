import type { CrlReason } from '../crl/tbs-cert-list-input.js';
import type { AuditEvent, CaRecord, NewCaBinding, ReserveCertificate } from '../store.js';

/**
 * The store port of `ca adopt` (implemented by src/db): the whole import — the CA binding with
 * its certificate, every old certificate and revocation, every serial the old CA recorded,
 * its CRLs and CRL numbering — in one transaction with one audit record.
 */
/** The row fields an issuance reserves (store.ts), plus what an adopted certificate brings. */
export interface AdoptedCertificateRow extends Pick<ReserveCertificate, 'serial' | 'subject' | 'sans' | 'notBefore' | 'notAfter' | 'spkiSha256' | 'tbs' | 'tbsSha256' | 'isCa'> {
  /** Absent for a serial known only from index.txt or an old CRL (no certificate file). */
  readonly der?: Uint8Array;
  /** When the old CA issued it (capped at the adoption time). */
  readonly issuedAt: Date;
  readonly revocation?: { readonly date: Date; readonly reason: CrlReason; readonly invalidityDate?: Date };
}

export interface AdoptedCrlRow {
  readonly crlNumber: bigint;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly entries: number;
  readonly tbs: Uint8Array;
  readonly tbsSha256: Uint8Array;
  readonly der: Uint8Array;
}

export interface AdoptionImport {
  readonly binding: NewCaBinding;
  readonly certificate: Uint8Array;
  readonly source: 'openssl' | 'easyrsa';
  readonly sourceDir: string;
  readonly certificates: readonly AdoptedCertificateRow[];
  readonly crls: readonly AdoptedCrlRow[];
  /** cardca's first CRL number is above this (RFC 5280 §5.2.3: numbers only increase). */
  readonly lastCrlNumber: bigint;
  readonly nextSerialHex?: string;
}

export interface AdoptionRecord {
  readonly caName: string;
  readonly source: 'openssl' | 'easyrsa';
  readonly sourceDir: string;
  readonly lastCrlNumber: bigint;
  readonly certificates: number;
  readonly revocations: number;
  readonly adoptedAt: string;
}

export interface AdoptionStore {
  adoptCa(a: AdoptionImport, audit: AuditEvent, at: Date): { ca: CaRecord; auditSeq: number };
  adoption(caName: string): AdoptionRecord | undefined;
}
