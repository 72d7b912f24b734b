/**
 * CRLReason values (RFC 5280 §5.3.1). `certificateHold` and `removeFromCRL` are refused (no
 * holds, no delta CRLs), and so is `aACompromise`: it concerns attribute authorities, and BR
 * 7.2.2 / 4.9.1 allow only the reasons in `SUBSCRIBER_REASONS` and `CA_REASONS` below.
 */
export type CrlReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'removeFromCRL'
  | 'privilegeWithdrawn'
  | 'aACompromise';

export const CRL_REASON_CODES: Readonly<Record<CrlReason, number>> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

export interface CrlEntryInput {
  /** Serial content octets, byte-identical to the revoked certificate's serialNumber. */
  readonly serial: Uint8Array;
  readonly revocationDate: Date;
  /** Omitted or `unspecified` → no reasonCode extension (RFC 5280 §5.3.1 SHOULD be absent). */
  readonly reason?: CrlReason;
  /**
   * When the key is known or suspected to have been compromised, or the certificate otherwise
   * became invalid (RFC 5280 §5.3.2 invalidityDate). The revocationDate stays the time the
   * revocation was recorded; a compromise date is never written there.
   */
  readonly invalidityDate?: Date;
}

export interface TbsCertListInput {
  /** Issuer Name DER, byte-identical to the CA certificate's subject. */
  readonly issuerName: Uint8Array;
  /** Authority key identifier = the CA certificate's SKI (RFC 5280 §5.2.1). */
  readonly aki: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** Monotonic CRL number, 0 ≤ n < 2^159 (RFC 5280 §5.2.3: ≤ 20 octets). */
  readonly crlNumber: bigint;
  readonly entries: readonly CrlEntryInput[];
}

/**
 * Reasons a subscriber (end-entity) certificate may be revoked for (BR 4.9.1.1, 7.2.2):
 * `unspecified` is written as no reasonCode at all.
 */
export const SUBSCRIBER_REASONS: readonly CrlReason[] = ['unspecified', 'keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'privilegeWithdrawn'];

/**
 * Reasons a CA certificate may be revoked for (BR 4.9.1.2, 7.2.2: the reasonCode MUST be
 * present for a CA certificate's entry, and MUST NOT be unspecified).
 */
export const CA_REASONS: readonly CrlReason[] = ['keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation'];
