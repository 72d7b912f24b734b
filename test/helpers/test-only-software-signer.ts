/**
 * TEST ONLY. A `Signer` backed by a software private key held in this process.
 *
 * cardca itself never holds a private key (ARCHITECTURE.md, ca-invariants.md G20): this file
 * lives under test/ so engine tests can build and sign certificates and CRLs without a card.
 * Never import it from src/.
 */
import { generateKeyPairSync, sign as nodeSign, constants, type KeyObject } from 'node:crypto';
import type { KeyAlgorithm, SignatureAlgorithm, Signer } from '../../src/crypto/signer.js';
import { signatureAlgorithmInfo } from '../../src/crypto/algorithms.js';

export class TestOnlySoftwareSigner implements Signer {
  readonly privateKey: KeyObject;
  readonly publicKeyObject: KeyObject;
  readonly keyAlgorithm: KeyAlgorithm;

  private constructor(key: KeyAlgorithm, priv: KeyObject, pub: KeyObject) {
    this.keyAlgorithm = key;
    this.privateKey = priv;
    this.publicKeyObject = pub;
  }

  static generate(key: KeyAlgorithm): TestOnlySoftwareSigner {
    if (key.startsWith('rsa')) {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: Number(key.slice(3)), publicExponent: 65537 });
      return new TestOnlySoftwareSigner(key, privateKey, publicKey);
    }
    const namedCurve = key === 'p256' ? 'P-256' : key === 'p384' ? 'P-384' : 'P-521';
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
    return new TestOnlySoftwareSigner(key, privateKey, publicKey);
  }

  algorithms(): readonly SignatureAlgorithm[] {
    switch (this.keyAlgorithm) {
      case 'p256':
        return ['ecdsa-sha256'];
      case 'p384':
        return ['ecdsa-sha384'];
      case 'p521':
        return ['ecdsa-sha512'];
      default:
        return ['rsa-pkcs1-sha256', 'rsa-pss-sha256', 'rsa-pkcs1-sha384', 'rsa-pss-sha384', 'rsa-pkcs1-sha512', 'rsa-pss-sha512'];
    }
  }

  publicKey(): Uint8Array {
    return new Uint8Array(this.publicKeyObject.export({ format: 'der', type: 'spki' }));
  }

  /** PEM of the private key, for handing to openssl in tests (e.g. `openssl req -key`). */
  privateKeyPem(): string {
    return this.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  }

  async sign(tbs: Uint8Array, alg: SignatureAlgorithm): Promise<Uint8Array> {
    return this.signSync(tbs, alg);
  }

  signSync(tbs: Uint8Array, alg: SignatureAlgorithm): Uint8Array {
    const info = signatureAlgorithmInfo(alg);
    const hash = info.hash === 'SHA-256' ? 'sha256' : info.hash === 'SHA-384' ? 'sha384' : 'sha512';
    if (info.family === 'ecdsa') return new Uint8Array(nodeSign(hash, tbs, { key: this.privateKey, dsaEncoding: 'der' }));
    if (info.family === 'rsa-pss') {
      return new Uint8Array(
        nodeSign(hash, tbs, { key: this.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: info.hashLength }),
      );
    }
    return new Uint8Array(nodeSign(hash, tbs, { key: this.privateKey, padding: constants.RSA_PKCS1_PADDING }));
  }
}
