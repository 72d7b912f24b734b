import type { SignatureAlgorithm } from '../../crypto/signer.js';
import type { SanEntry } from '../x509/extensions.js';
import type { NameAttribute } from '../x509/name.js';

/** A CSR that passed structural checks and proof of possession (not yet key policy). */
export interface ParsedCsr {
  /** The whole CSR, DER. */
  readonly der: Uint8Array;
  /** certificationRequestInfo, the exact signed bytes. */
  readonly infoDer: Uint8Array;
  readonly subject: readonly NameAttribute[];
  /** Subject Name DER as in the CSR. */
  readonly subjectName: Uint8Array;
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  /** SHA-256 of `spki` (duplicate-key / CA-key checks). */
  readonly spkiSha256: Uint8Array;
  /** The algorithm the CSR was self-signed with. */
  readonly signatureAlgorithm: SignatureAlgorithm;
  /** SANs from the extensionRequest (dns, ip, email, uri only). */
  readonly sans: readonly SanEntry[];
  /** Other GeneralName kinds seen in the requested SAN (they are never issued). */
  readonly ignoredSanTypes: readonly string[];
  /** OIDs of every requested extension (informational: extensions are never copied). */
  readonly requestedExtensions: readonly string[];
}
