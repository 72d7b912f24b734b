import type { CrlReason } from '../crl/tbs-cert-list-input.js';
import type { AuditEvent, CaRecord, NewCaBinding } from '../store.js';

/**
 * The store port of `ca adopt` (implemented by src/db): the whole import — the CA binding with
 * its certificate, every old certificate and revocation, every serial the old CA recorded,
 * its CRLs and CRL numbering — in one transaction with one audit record.
 */
export interface AdoptedCertificateRow {
  readonly serial: Uint8Array;
  readonly subject: string;
  readonly sans: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly spkiSha256: Uint8Array;
  readonly tbs: Uint8Array;
  readonly tbsSha256: Uint8Array;
  /** Absent for a serial known only from index.txt or an old CRL (no certificate file). */
  readonly der?: Uint8Array;
  readonly isCa: boolean;
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
