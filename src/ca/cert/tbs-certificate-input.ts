/**
 * Everything that goes into a TBSCertificate, already validated against the profile and in
 * encoded form where the bytes matter (names, key, extension values). The builder only
 * serialises this; all decisions are made by `certificateContent` (certificate-content.ts).
 */
export interface ExtensionInput {
  readonly oid: string;
  readonly critical: boolean;
  /** DER of the extension value (the content of extnValue's OCTET STRING). */
  readonly value: Uint8Array;
}

export interface TbsCertificateInput {
  /** Serial number: content octets of a positive, minimally encoded DER INTEGER, ≤ 20 octets. */
  readonly serial: Uint8Array;
  /** Issuer Name DER, byte-identical to the issuing CA's subject (RFC 5280 §4.1.2.4). */
  readonly issuerName: Uint8Array;
  /** Subject Name DER. */
  readonly subjectName: Uint8Array;
  /** Whole seconds (X.509 times carry no fractions, RFC 5280 §4.1.2.5.1/2). */
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Subject public key, DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  /** In the order they are to be encoded. */
  readonly extensions: readonly ExtensionInput[];
}
