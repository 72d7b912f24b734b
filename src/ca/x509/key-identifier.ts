import { createHash } from 'node:crypto';
import { sha256 } from '../../common/sha256.js';
import { canonicalSpki } from './canonical-spki.js';
import { children, DerError, readSingle, value } from './der.js';

/**
 * Subject key identifier, RFC 5280 §4.2.1.2 method (1): the 160-bit SHA-1 hash of the value of
 * the BIT STRING subjectPublicKey (excluding tag, length and unused-bits octet). SHA-1 here is
 * an identifier, not a security function.
 */
export function subjectKeyIdentifier(spkiDer: Uint8Array): Uint8Array {
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
  const f = children(spkiDer, readSingle(spkiDer));
  if (f.length !== 2 || f[0]!.tag !== 0x30 || f[1]!.tag !== 0x03) throw new DerError('not a SubjectPublicKeyInfo');
  const bits = value(spkiDer, f[1]!);
  if (bits.length < 1 || bits[0] !== 0) throw new DerError('subjectPublicKey BIT STRING has unused bits');
  return new Uint8Array(createHash('sha1').update(bits.subarray(1)).digest());
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
  return sha256(canonical);
}
