import type { KeyAlgorithm, SignatureAlgorithm, Signer } from '../crypto/signer.js';
import { digest, emsaPkcs1v15Encode, signatureAlgorithmInfo, verifySignature } from '../crypto/algorithms.js';
import { verifySignatureOfDigest } from '../crypto/verify-digest.js';
import type { CardDriver } from './drivers/card-driver.js';
import { CardError } from './errors.js';
import { canonicalCardEcdsa } from './ecdsa-card-signature.js';
import { curveOfKeyAlgorithm, truncateDigestForCurve } from '../crypto/ec-curves.js';

/**
 * An RSA signature is an octet string of exactly k bytes (RFC 8017 §8.2.1 step 2c, I2OSP); a
 * card may drop leading zero bytes (about 1 in 256 signatures). OpenSC pads them back
 * (`card-sc-hsm.c` / `pkcs15-sec.c`); so do we. Longer than k is an error, not trimmed.
 */
export function leftPad(sig: Uint8Array, k: number): Uint8Array {
  if (sig.length === k) return sig;
  if (sig.length > k) {
    throw new CardError('CARD_BAD_SIGNATURE', `the card returned an RSA signature of ${sig.length} bytes for a ${k}-byte modulus`, {
      hint: 'Do not use this card for a ceremony until the cause is known; the signature was discarded.',
    });
  }
  const out = new Uint8Array(k);
  out.set(sig, k - sig.length);
  return out;
}

/** Serialises access to one card: one exchange sequence at a time (style rule 9). */
export type CardLock = <T>(fn: () => Promise<T>) => Promise<T>;

const ALGS: Readonly<Record<KeyAlgorithm, readonly SignatureAlgorithm[]>> = {
  rsa2048: ['rsa-pkcs1-sha256', 'rsa-pkcs1-sha384', 'rsa-pkcs1-sha512', 'rsa-pss-sha256', 'rsa-pss-sha384', 'rsa-pss-sha512'],
  rsa3072: ['rsa-pkcs1-sha256', 'rsa-pkcs1-sha384', 'rsa-pkcs1-sha512', 'rsa-pss-sha256', 'rsa-pss-sha384', 'rsa-pss-sha512'],
  rsa4096: ['rsa-pkcs1-sha256', 'rsa-pkcs1-sha384', 'rsa-pkcs1-sha512', 'rsa-pss-sha256', 'rsa-pss-sha384', 'rsa-pss-sha512'],
  // Hash matched to the curve first (card-protocols.md §3 "Match hash and curve").
  p256: ['ecdsa-sha256', 'ecdsa-sha384', 'ecdsa-sha512'],
  p384: ['ecdsa-sha384', 'ecdsa-sha256', 'ecdsa-sha512'],
  p521: ['ecdsa-sha512', 'ecdsa-sha384', 'ecdsa-sha256'],
};

const MODULUS_BYTES: Partial<Record<KeyAlgorithm, number>> = { rsa2048: 256, rsa3072: 384, rsa4096: 512 };

/**
 * A `Signer` backed by one key on a card. Hashing and PKCS#1 v1.5 padding happen on the host
 * (card-protocols.md §3: the card gets `20` raw RSA with the EM, `40` PSS with the hash, `70`
 * ECDSA with the hash). Each `sign` is exactly one SIGN exchange; the result is verified against
 * the key's public key before it is returned.
 */
export class CardSigner implements Signer {
  private readonly driver: CardDriver;
  private readonly keyRef: number;
  private readonly keyAlgorithm: KeyAlgorithm;
  private readonly spki: Uint8Array;
  private readonly lock: CardLock;

  constructor(o: { driver: CardDriver; keyRef: number; algorithm: KeyAlgorithm; publicKey: Uint8Array; lock: CardLock }) {
    this.driver = o.driver;
    this.keyRef = o.keyRef;
    this.keyAlgorithm = o.algorithm;
    this.spki = o.publicKey;
    this.lock = o.lock;
  }

  algorithms(): readonly SignatureAlgorithm[] {
    return ALGS[this.keyAlgorithm];
  }

  publicKey(): Uint8Array {
    return this.spki.slice();
  }

  async sign(tbs: Uint8Array, alg: SignatureAlgorithm, tbsDigest?: Uint8Array): Promise<Uint8Array> {
    if (!this.algorithms().includes(alg)) {
      throw new CardError('KEY_ALGORITHM_MISMATCH', `key ${this.keyRef} (${this.keyAlgorithm}) cannot produce ${alg}`, {
        hint: `Use one of: ${this.algorithms().join(', ')}.`,
      });
    }
    const info = signatureAlgorithmInfo(alg);
    if (tbsDigest && tbsDigest.length !== info.hashLength) throw new TypeError(`a ${info.hash} digest is ${info.hashLength} octets, not ${tbsDigest.length}`);
    const h = tbsDigest ?? digest(info.hash, tbs);
    let sig: Uint8Array;
    if (info.family === 'rsa-pkcs1') {
      const k = MODULUS_BYTES[this.keyAlgorithm]!;
      const em = emsaPkcs1v15Encode(info.hash, h, k); // RFC 8017 §9.2, sent to raw RSA (alg 20)
      sig = leftPad(await this.lock(() => this.driver.sign(this.keyRef, { kind: 'rsa-raw' }, em)), k);
    } else if (info.family === 'rsa-pss') {
      const k = MODULUS_BYTES[this.keyAlgorithm]!;
      sig = leftPad(await this.lock(() => this.driver.sign(this.keyRef, { kind: 'rsa-pss', hashLength: info.hashLength }, h)), k);
    } else {
      // FIPS 186-4 §6.4: the card gets at most the curve order's length (OpenSC pkcs15-sec.c).
      const curve = curveOfKeyAlgorithm(this.keyAlgorithm)!;
      const input = truncateDigestForCurve(h, curve);
      const der = await this.lock(() => this.driver.sign(this.keyRef, { kind: 'ecdsa' }, input));
      try {
        sig = canonicalCardEcdsa(der, curve.fieldBytes);
      } catch (e) {
        throw new CardError('CARD_BAD_SIGNATURE', `the card returned a malformed ECDSA signature: ${(e as Error).message}`, { cause: e });
      }
    }
    // Given a digest (a CRL's 40 MB TBS): on that digest (verify-digest.ts), not on a second
    // hash of the TBS. Otherwise OpenSSL's verify: @noble/curves' JavaScript ECDSA verify costs
    // ~2 ms per signature, which showed as card time in a batch (docs/benchmarks.md).
    const ok = tbsDigest ? verifySignatureOfDigest(this.spki, alg, h, sig, tbs) : verifySignature(this.spki, alg, tbs, sig);
    if (!ok) {
      throw new CardError('CARD_BAD_SIGNATURE', `the signature from key ${this.keyRef} does not verify with its public key`, {
        hint: 'Do not use this card for a ceremony until the cause is known; the signature was discarded.',
      });
    }
    return sig;
  }
}
