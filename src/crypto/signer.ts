/**
 * The one seam between the CA engine and wherever its keys live.
 *
 * The CA engine (`src/ca`) only ever sees this interface. Implementations hash on their side of
 * the seam and decide padding, because cards differ (see card-protocols.md §3: "Hash on the
 * host"). There is deliberately no software implementation in `src/`: cardca never holds a
 * private key.
 */
export type HashAlgorithm = 'SHA-256' | 'SHA-384' | 'SHA-512';

export type SignatureAlgorithm =
  | 'rsa-pkcs1-sha256'
  | 'rsa-pkcs1-sha384'
  | 'rsa-pkcs1-sha512'
  | 'rsa-pss-sha256'
  | 'rsa-pss-sha384'
  | 'rsa-pss-sha512'
  | 'ecdsa-sha256'
  | 'ecdsa-sha384'
  | 'ecdsa-sha512';

export type KeyAlgorithm = 'rsa2048' | 'rsa3072' | 'rsa4096' | 'p256' | 'p384' | 'p521';

export interface Signer {
  /** Signature algorithms this key can produce, preferred first. */
  algorithms(): readonly SignatureAlgorithm[];
  /** The public key as a DER SubjectPublicKeyInfo. */
  publicKey(): Uint8Array;
  /**
   * Sign `tbs` (the exact DER of a TBSCertificate / TBSCertList / CSR info).
   * Returns the signature in X.509 form: the RSA signature octets, or a DER
   * `Ecdsa-Sig-Value` (RFC 5480 §2.2, RFC 3279 §2.2.3) for ECDSA.
   * `digest`, when given, is the hash of `tbs` under `alg`'s hash algorithm, computed by the
   * caller as it wrote `tbs` (a CRL's TBS of a million entries is 40 MB): the signer signs and
   * checks that digest instead of hashing `tbs` again. The caller still verifies the signed
   * object's bytes afterwards (crl-cycle.ts).
   */
  sign(tbs: Uint8Array, alg: SignatureAlgorithm, digest?: Uint8Array): Promise<Uint8Array>;
}
