import type { KeyAlgorithm, SignatureAlgorithm, Signer } from '../crypto/signer.js';
import { canonicalEcdsaDer, digest, emsaPkcs1v15Encode, signatureAlgorithmInfo, verifySignature } from '../crypto/algorithms.js';
import type { CardDriver } from './drivers/card-driver.js';
import { CardError } from './errors.js';

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

const FIELD_BYTES: Partial<Record<KeyAlgorithm, number>> = { p256: 32, p384: 48, p521: 66 };
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

  async sign(tbs: Uint8Array, alg: SignatureAlgorithm): Promise<Uint8Array> {
    if (!this.algorithms().includes(alg)) {
      throw new CardError('KEY_ALGORITHM_MISMATCH', `key ${this.keyRef} (${this.keyAlgorithm}) cannot produce ${alg}`, {
        hint: `Use one of: ${this.algorithms().join(', ')}.`,
      });
    }
    const info = signatureAlgorithmInfo(alg);
    const h = digest(info.hash, tbs);
    let sig: Uint8Array;
    if (info.family === 'rsa-pkcs1') {
      const k = MODULUS_BYTES[this.keyAlgorithm]!;
      const em = emsaPkcs1v15Encode(info.hash, h, k); // RFC 8017 §9.2, sent to raw RSA (alg 20)
      sig = await this.lock(() => this.driver.sign(this.keyRef, { kind: 'rsa-raw' }, em));
    } else if (info.family === 'rsa-pss') {
      sig = await this.lock(() => this.driver.sign(this.keyRef, { kind: 'rsa-pss', hashLength: info.hashLength }, h));
    } else {
      const der = await this.lock(() => this.driver.sign(this.keyRef, { kind: 'ecdsa' }, h));
      try {
        sig = canonicalEcdsaDer(der, FIELD_BYTES[this.keyAlgorithm]!);
      } catch (e) {
        throw new CardError('CARD_BAD_SIGNATURE', `the card returned a malformed ECDSA signature: ${(e as Error).message}`, { cause: e });
      }
    }
    if (!verifySignature(this.spki, alg, tbs, sig)) {
      throw new CardError('CARD_BAD_SIGNATURE', `the signature from key ${this.keyRef} does not verify with its public key`, {
        hint: 'Do not use this card for a ceremony until the cause is known; the signature was discarded.',
      });
    }
    return sig;
  }
}
