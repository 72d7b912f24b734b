import { AsnProp, AsnPropTypes, BitString, OctetString } from '@peculiar/asn1-schema';

/**
 * EF.TokenInfo (PKCS#15 v1.1 §6.9; SmartCard-HSM keeps it in EF `2F03`).
 *
 * ```asn1
 * TokenInfo ::= SEQUENCE {
 *   version          INTEGER {v1(0)} (v1,...),
 *   serialNumber     OCTET STRING,
 *   manufacturerID   Label OPTIONAL,          -- UTF8String
 *   label            [0] Label OPTIONAL,
 *   tokenflags       TokenFlags,
 *   ... }                                     -- further fields are not used by cardca
 * TokenFlags ::= BIT STRING { readonly(0), loginRequired(1), prnGeneration(2), eidCompliant(3) }
 * ```
 */
export const TokenFlags = { readonly: 1 << 0, loginRequired: 1 << 1, prnGeneration: 1 << 2, eidCompliant: 1 << 3 } as const;

export class TokenInfo {
  @AsnProp({ type: AsnPropTypes.Integer })
  version = 0;

  @AsnProp({ type: OctetString })
  serialNumber = new OctetString();

  @AsnProp({ type: AsnPropTypes.Utf8String, optional: true })
  manufacturerID?: string;

  @AsnProp({ type: AsnPropTypes.Utf8String, context: 0, implicit: true, optional: true })
  label?: string;

  @AsnProp({ type: BitString })
  tokenflags = new BitString();

  constructor(params: Partial<TokenInfo> = {}) {
    Object.assign(this, params);
  }
}
