import { AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, BitString, OctetString } from '@peculiar/asn1-schema';

/**
 * PKCS#15 v1.1 §6.1 / ISO 7816-15 common attributes shared by every directory-file entry.
 *
 * ```asn1
 * Path ::= SEQUENCE {
 *   path    OCTET STRING,
 *   index   INTEGER (0..pkcs15-ub-index) OPTIONAL,
 *   length  [0] INTEGER (0..pkcs15-ub-index) OPTIONAL }
 *
 * CommonObjectFlags ::= BIT STRING { private(0), modifiable(1) }
 *
 * CommonObjectAttributes ::= SEQUENCE {
 *   label               Label OPTIONAL,            -- UTF8String
 *   flags               CommonObjectFlags OPTIONAL,
 *   authId              Identifier OPTIONAL,       -- OCTET STRING
 *   userConsent         INTEGER (1..pkcs15-ub-userConsent) OPTIONAL,
 *   accessControlRules  SEQUENCE SIZE (1..MAX) OF AccessControlRule OPTIONAL }
 *
 * KeyUsageFlags ::= BIT STRING { encrypt(0), decrypt(1), sign(2), signRecover(3), wrap(4),
 *   unwrap(5), verify(6), verifyRecover(7), derive(8), nonRepudiation(9) }
 * KeyAccessFlags ::= BIT STRING { sensitive(0), extractable(1), alwaysSensitive(2),
 *   neverExtractable(3), local(4) }
 *
 * CommonKeyAttributes ::= SEQUENCE {
 *   iD            Identifier,
 *   usage         KeyUsageFlags,
 *   native        BOOLEAN DEFAULT TRUE,
 *   accessFlags   KeyAccessFlags OPTIONAL,
 *   keyReference  Reference OPTIONAL,
 *   startDate     GeneralizedTime OPTIONAL,
 *   endDate       [0] GeneralizedTime OPTIONAL,
 *   ... }
 * ```
 */
export class Pkcs15Path {
  @AsnProp({ type: OctetString })
  path = new OctetString();

  @AsnProp({ type: AsnPropTypes.Integer, optional: true })
  index?: number;

  @AsnProp({ type: AsnPropTypes.Integer, context: 0, implicit: true, optional: true })
  length?: number;

  constructor(params: Partial<Pkcs15Path> = {}) {
    Object.assign(this, params);
  }
}

/** Named bits as flag values (bit n ↔ 1 << n), as `BitString.toNumber()` reports them. */
export const CommonObjectFlags = { private: 1 << 0, modifiable: 1 << 1 } as const;

export const KeyUsageFlags = {
  encrypt: 1 << 0,
  decrypt: 1 << 1,
  sign: 1 << 2,
  signRecover: 1 << 3,
  wrap: 1 << 4,
  unwrap: 1 << 5,
  verify: 1 << 6,
  verifyRecover: 1 << 7,
  derive: 1 << 8,
  nonRepudiation: 1 << 9,
} as const;

export const KeyAccessFlags = {
  sensitive: 1 << 0,
  extractable: 1 << 1,
  alwaysSensitive: 1 << 2,
  neverExtractable: 1 << 3,
  local: 1 << 4,
} as const;

export class CommonObjectAttributes {
  @AsnProp({ type: AsnPropTypes.Utf8String, optional: true })
  label?: string;

  @AsnProp({ type: BitString, optional: true })
  flags?: BitString;

  @AsnProp({ type: OctetString, optional: true })
  authId?: OctetString;

  @AsnProp({ type: AsnPropTypes.Integer, optional: true })
  userConsent?: number;

  constructor(params: Partial<CommonObjectAttributes> = {}) {
    Object.assign(this, params);
  }
}

export class CommonKeyAttributes {
  @AsnProp({ type: OctetString })
  iD = new OctetString();

  @AsnProp({ type: BitString })
  usage = new BitString();

  @AsnProp({ type: AsnPropTypes.Boolean, optional: true })
  native?: boolean;

  @AsnProp({ type: BitString, optional: true })
  accessFlags?: BitString;

  @AsnProp({ type: AsnPropTypes.Integer, optional: true })
  keyReference?: number;

  constructor(params: Partial<CommonKeyAttributes> = {}) {
    Object.assign(this, params);
  }
}

/**
 * ```asn1
 * CommonCertificateAttributes ::= SEQUENCE {
 *   iD                 Identifier,
 *   authority          BOOLEAN DEFAULT FALSE,
 *   identifier         CredentialIdentifier {{KeyIdentifiers}} OPTIONAL,
 *   certHash           [0] CertHash OPTIONAL,
 *   ... }
 * CommonAuthenticationObjectAttributes ::= SEQUENCE {
 *   authId             Identifier OPTIONAL,
 *   ... }
 * ```
 */
export class CommonCertificateAttributes {
  @AsnProp({ type: OctetString })
  iD = new OctetString();

  @AsnProp({ type: AsnPropTypes.Boolean, optional: true })
  authority?: boolean;

  constructor(params: Partial<CommonCertificateAttributes> = {}) {
    Object.assign(this, params);
  }
}

export class CommonAuthenticationObjectAttributes {
  @AsnProp({ type: OctetString, optional: true })
  authId?: OctetString;

  constructor(params: Partial<CommonAuthenticationObjectAttributes> = {}) {
    Object.assign(this, params);
  }
}

/** `ObjectValue ::= CHOICE { indirect Path, direct [0] … }` restricted to the two forms cards use. */
@AsnType({ type: AsnTypeTypes.Choice })
export class ObjectValue {
  @AsnProp({ type: Pkcs15Path })
  indirect?: Pkcs15Path;

  @AsnProp({ type: AsnPropTypes.Any, context: 0, implicit: false })
  direct?: ArrayBuffer;

  constructor(params: Partial<ObjectValue> = {}) {
    Object.assign(this, params);
  }
}
