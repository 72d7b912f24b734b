import { createPublicKey } from 'node:crypto';
import { AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { OID } from './algorithms.js';
import { curveByName, namedCurves, type NamedCurve } from './ec-curves.js';
import type { KeyAlgorithm } from './signer.js';

/**
 * What a public key really is, whether or not cardca signs with it: `rsa1024`, `rsa2048`,
 * `p256`, `brainpoolP256r1`, `secp256k1`, … (`type`), its size in bits, and the KeyAlgorithm
 * when cardca can use it (RSA 2048/3072/4096 and the BR curves; CA/B Forum BRs §6.1.5).
 */
export interface PublicKeyType {
  readonly type: string;
  readonly bits: number;
  readonly algorithm: KeyAlgorithm | undefined;
  readonly curve?: NamedCurve;
}

const RSA_ALG: Readonly<Record<number, KeyAlgorithm>> = { 2048: 'rsa2048', 3072: 'rsa3072', 4096: 'rsa4096' };

export function rsaKeyType(bits: number): PublicKeyType {
  return { type: `rsa${bits}`, bits, algorithm: RSA_ALG[bits] };
}

export function ecKeyType(curve: NamedCurve): PublicKeyType {
  return { type: curve.keyAlgorithm ?? curve.name, bits: curve.orderBits, algorithm: curve.keyAlgorithm, curve };
}

/** The type of a DER SubjectPublicKeyInfo; throws TypeError for key types we cannot name. */
export function publicKeyTypeOfSpki(spki: Uint8Array): PublicKeyType {
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') return rsaKeyType(d.modulusLength ?? 0);
  if (key.asymmetricKeyType === 'ec') {
    const curve = d.namedCurve ? curveByName(d.namedCurve) : undefined;
    if (!curve) throw new TypeError(`EC key on curve ${String(d.namedCurve)}, which cardca does not know`);
    return ecKeyType(curve);
  }
  throw new TypeError(`unsupported public key type ${String(key.asymmetricKeyType)}`);
}

/** The KeyAlgorithm of a DER SubjectPublicKeyInfo; TypeError for a key cardca does not sign with. */
export function keyAlgorithmOfSpki(spki: Uint8Array): KeyAlgorithm {
  const t = publicKeyTypeOfSpki(spki);
  if (!t.algorithm) throw new TypeError(`${t.type} keys are not usable as cardca keys`);
  return t.algorithm;
}

/** `ECParameters ::= CHOICE { namedCurve OBJECT IDENTIFIER, … }` (RFC 5480 §2.1.1). */
@AsnType({ type: AsnTypeTypes.Choice })
class EcNamedCurve {
  @AsnProp({ type: AsnPropTypes.ObjectIdentifier })
  namedCurve = '';
}

/**
 * SubjectPublicKeyInfo for an uncompressed EC point on a named curve (RFC 5480 §2). Built here
 * rather than through node's JWK import, which knows no brainpool curves.
 */
export function ecSpki(curve: NamedCurve, point: Uint8Array): Uint8Array {
  const params = new EcNamedCurve();
  params.namedCurve = curve.oid;
  const spki = new SubjectPublicKeyInfo({
    algorithm: new AlgorithmIdentifier({ algorithm: OID.id_ecPublicKey, parameters: AsnConvert.serialize(params) }),
    subjectPublicKey: point.slice().buffer,
  });
  return new Uint8Array(AsnConvert.serialize(spki));
}

/** Every curve name cardca can identify (for messages). */
export function knownCurveNames(): string[] {
  return namedCurves().map((c) => c.name);
}
