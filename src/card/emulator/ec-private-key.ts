import { AsnConvert, AsnProp, AsnPropTypes, BitString, OctetString } from '@peculiar/asn1-schema';

/**
 * SEC 1 v2 §C.4 ECPrivateKey, with the named-curve parameters (RFC 5915 §3):
 *
 * ```asn1
 * ECPrivateKey ::= SEQUENCE {
 *   version        INTEGER { ecPrivkeyVer1(1) },
 *   privateKey     OCTET STRING,
 *   parameters [0] ECParameters {{ NamedCurve }} OPTIONAL,
 *   publicKey  [1] BIT STRING OPTIONAL }
 * ```
 *
 * The emulator rebuilds an unwrapped EC key through this structure rather than through JWK,
 * because node's JWK import knows only the NIST curves and secp256k1, while the SmartCard-HSM
 * also holds brainpool keys (card-protocols.md §3.1).
 */
export class EcPrivateKeyAsn {
  @AsnProp({ type: AsnPropTypes.Integer })
  version = 1;

  @AsnProp({ type: OctetString })
  privateKey = new OctetString();

  @AsnProp({ type: AsnPropTypes.ObjectIdentifier, context: 0, optional: true })
  namedCurve?: string;

  @AsnProp({ type: BitString, context: 1, optional: true })
  publicKey?: BitString;

  constructor(params: Partial<EcPrivateKeyAsn> = {}) {
    Object.assign(this, params);
  }
}

/** DER ECPrivateKey of `d` on the curve `oid`, with the uncompressed public point `q`. */
export function encodeEcPrivateKey(oid: string, d: Uint8Array, q: Uint8Array): Uint8Array {
  const key = new EcPrivateKeyAsn({ privateKey: new OctetString(d), namedCurve: oid, publicKey: new BitString(q) });
  return new Uint8Array(AsnConvert.serialize(key));
}
