import { publicKeyObject } from '../../crypto/public-key-object.js';
import type { KeyAlgorithm } from '../../crypto/signer.js';

export interface SpkiKeyInfo {
  readonly type: 'rsa' | 'ec';
  /** RSA modulus bits, or the curve's field size. */
  readonly bits: number;
  /** `p256` … or `rsa2048` …; undefined for sizes/curves outside the KeyAlgorithm set. */
  readonly algorithm: KeyAlgorithm | undefined;
  readonly curve?: string;
}

/** What kind of key a DER SubjectPublicKeyInfo holds (parsed by node's crypto). */
export function spkiKeyInfo(spki: Uint8Array): SpkiKeyInfo {
  const key = publicKeyObject(spki);
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const bits = d.modulusLength ?? 0;
    const algorithm = bits === 2048 ? 'rsa2048' : bits === 3072 ? 'rsa3072' : bits === 4096 ? 'rsa4096' : undefined;
    return { type: 'rsa', bits, algorithm };
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = d.namedCurve ?? '';
    const map: Record<string, [KeyAlgorithm, number]> = {
      prime256v1: ['p256', 256],
      'P-256': ['p256', 256],
      secp384r1: ['p384', 384],
      'P-384': ['p384', 384],
      secp521r1: ['p521', 521],
      'P-521': ['p521', 521],
    };
    const m = map[curve];
    return { type: 'ec', bits: m?.[1] ?? 0, algorithm: m?.[0], curve };
  }
  throw new TypeError(`unsupported public key type ${String(key.asymmetricKeyType)}`);
}
