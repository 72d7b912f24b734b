import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { canonicalSpki } from './canonical-spki.js';

/**
 * Subject key identifier, RFC 5280 §4.2.1.2 method (1): the 160-bit SHA-1 hash of the value of
 * the BIT STRING subjectPublicKey (excluding tag, length and unused-bits octet). SHA-1 here is
 * an identifier, not a security function.
 */
export function subjectKeyIdentifier(spkiDer: Uint8Array): Uint8Array {
  const spki = AsnConvert.parse(spkiDer, SubjectPublicKeyInfo);
  return new Uint8Array(createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest());
}

/**
 * SHA-256 of the key's canonical DER SubjectPublicKeyInfo (canonical-spki.ts): the key
 * fingerprint used for duplicate, CA-key and revoked-key checks. Hashing the canonical form
 * makes one key one fingerprint, whatever parameters a CSR wrapped it in.
 */
export function spkiSha256(spkiDer: Uint8Array): Uint8Array {
  let canonical = spkiDer;
  try {
    canonical = canonicalSpki(spkiDer).canonical;
  } catch {
    /* not an SPKI at all: hash the bytes; the key policy refuses it anyway */
  }
  return new Uint8Array(createHash('sha256').update(canonical).digest());
}
