import type { AuditRecord } from './store.js';

/**
 * Audit events of token enrolment (`ca enroll`). `token.enrolled` is the binding of a
 * certificate to a user card's serial and key id: `ca list --card` and `ca revoke --card` read
 * it from the hash-chained audit log, so the binding is as tamper-evident as the issuance itself.
 */
export const TOKEN_EVENTS = {
  keyGenerated: 'token.key-generated',
  enrolled: 'token.enrolled',
  certificateWritten: 'token.certificate-written',
  incomplete: 'token.enroll-incomplete',
  caCertificatesWritten: 'token.ca-certificates-written',
} as const;

export interface TokenBinding {
  readonly cardSerial: string;
  readonly keyId: string;
  readonly label: string | undefined;
  readonly issuerName: string;
  readonly serialHex: string;
  /** Audit sequence number of the binding record. */
  readonly auditSeq: number;
}

/** Every certificate bound to a token, oldest first; one entry per (issuer, serial). */
export function tokenBindings(records: readonly AuditRecord[], cardSerial?: string): TokenBinding[] {
  const out = new Map<string, TokenBinding>();
  for (const r of records) {
    if (r.event !== TOKEN_EVENTS.enrolled) continue;
    const d = r.data as { card?: unknown; keyId?: unknown; label?: unknown; issuer?: unknown; serial?: unknown };
    if (typeof d.card !== 'string' || typeof d.serial !== 'string' || typeof d.issuer !== 'string' || typeof d.keyId !== 'string') continue;
    if (cardSerial !== undefined && d.card !== cardSerial) continue;
    const k = `${d.issuer}\t${d.serial}`;
    if (out.has(k)) continue;
    out.set(k, { cardSerial: d.card, keyId: d.keyId, label: typeof d.label === 'string' ? d.label : undefined, issuerName: d.issuer, serialHex: d.serial, auditSeq: r.seq });
  }
  return [...out.values()];
}
