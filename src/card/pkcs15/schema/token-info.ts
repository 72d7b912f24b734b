import { AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, BitString, OctetString } from '@peculiar/asn1-schema';

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
 *   seInfo           SEQUENCE OF SecurityEnvironmentInfo OPTIONAL,
 *   recordInfo       [1] RecordInfo OPTIONAL,
 *   supportedAlgorithms [2] SEQUENCE OF AlgorithmInfo OPTIONAL,
 *   ...,
 *   issuerId         [3] Label OPTIONAL,
 *   holderId         [4] Label OPTIONAL,
 *   lastUpdate       [5] LastUpdate OPTIONAL,    -- CHOICE { generalizedTime GeneralizedTime, ... }
 *   preferredLanguage PrintableString OPTIONAL }
 * TokenFlags ::= BIT STRING { readonly(0), loginRequired(1), prnGeneration(2), eidCompliant(3) }
 * AlgorithmInfo ::= SEQUENCE {
 *   reference            Reference,            -- INTEGER
 *   algorithm            PKCS15-ALGORITHM.&id, -- INTEGER: the PKCS #11 mechanism
 *   parameters           PKCS15-ALGORITHM.&Parameters,
 *   supportedOperations  PKCS15-ALGORITHM.&Operations,  -- BIT STRING
 *   objId                PKCS15-ALGORITHM.&objectIdentifier OPTIONAL,
 *   algRef               Reference OPTIONAL }
 * ```
 * seInfo (as raw values) and recordInfo are declared so that the fields after them still parse;
 * issuerId, holderId and preferredLanguage are not declared: cardca neither reads nor writes them. supportedAlgorithms and lastUpdate are what OpenSC's pkcs15-init writes
 * on a MyEID (pkcs15-myeid.c `myeid_init_card`, pkcs15-lib.c `sc_pkcs15init_update_tokeninfo`).
 */
export const TokenFlags = { readonly: 1 << 0, loginRequired: 1 << 1, prnGeneration: 1 << 2, eidCompliant: 1 << 3 } as const;

/** AlgorithmInfo supportedOperations (PKCS#15 v1.1 §6.9). */
export const AlgorithmOperations = {
  computeChecksum: 1 << 0,
  computeSignature: 1 << 1,
  verifyChecksum: 1 << 2,
  verifySignature: 1 << 3,
  encipher: 1 << 4,
  decipher: 1 << 5,
  hash: 1 << 6,
  generateKey: 1 << 7,
} as const;

export class AlgorithmInfo {
  @AsnProp({ type: AsnPropTypes.Integer })
  reference = 0;

  @AsnProp({ type: AsnPropTypes.Integer })
  algorithm = 0;

  /** OpenSC writes NULL for the algorithms it lists (asn1.c `c_asn1_algorithm_info` with no parameters). */
  @AsnProp({ type: AsnPropTypes.Null })
  parameters: null = null;

  @AsnProp({ type: BitString })
  supportedOperations = new BitString();

  @AsnProp({ type: AsnPropTypes.ObjectIdentifier, optional: true })
  objId?: string;

  @AsnProp({ type: AsnPropTypes.Integer, optional: true })
  algRef?: number;

  constructor(params: Partial<AlgorithmInfo> = {}) {
    Object.assign(this, params);
  }
}

/**
 * RecordInfo ::= SEQUENCE { oDFRecordLength [0] INTEGER OPTIONAL, prKDFRecordLength [1] …,
 *   puKDFRecordLength [2] …, sKDFRecordLength [3] …, cDFRecordLength [4] …, dODFRecordLength [5] …,
 *   aODFRecordLength [6] … } (record-structured directory files; not used by cardca).
 */
export class RecordInfo {
  @AsnProp({ type: AsnPropTypes.Integer, context: 0, implicit: true, optional: true })
  odf?: number;
  @AsnProp({ type: AsnPropTypes.Integer, context: 1, implicit: true, optional: true })
  prkdf?: number;
  @AsnProp({ type: AsnPropTypes.Integer, context: 2, implicit: true, optional: true })
  pukdf?: number;
  @AsnProp({ type: AsnPropTypes.Integer, context: 3, implicit: true, optional: true })
  skdf?: number;
  @AsnProp({ type: AsnPropTypes.Integer, context: 4, implicit: true, optional: true })
  cdf?: number;
  @AsnProp({ type: AsnPropTypes.Integer, context: 5, implicit: true, optional: true })
  dodf?: number;
  @AsnProp({ type: AsnPropTypes.Integer, context: 6, implicit: true, optional: true })
  aodf?: number;
}

/** LastUpdate ::= CHOICE { generalizedTime GeneralizedTime, referencedTime ReferencedValue, ... } */
@AsnType({ type: AsnTypeTypes.Choice })
export class LastUpdate {
  @AsnProp({ type: AsnPropTypes.GeneralizedTime })
  generalizedTime?: Date;

  constructor(params: Partial<LastUpdate> = {}) {
    Object.assign(this, params);
  }
}

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

  /** SEQUENCE OF SecurityEnvironmentInfo: declared so that cards that have it still parse; not read. */
  @AsnProp({ type: AsnPropTypes.Any, repeated: 'sequence', optional: true })
  seInfo?: ArrayBuffer[];

  /** Declared so that cards that have it still parse; not read. */
  @AsnProp({ type: RecordInfo, context: 1, implicit: true, optional: true })
  recordInfo?: RecordInfo;

  @AsnProp({ type: AlgorithmInfo, context: 2, implicit: true, repeated: 'sequence', optional: true })
  supportedAlgorithms?: AlgorithmInfo[];

  @AsnProp({ type: LastUpdate, context: 5, implicit: false, optional: true })
  lastUpdate?: LastUpdate;

  constructor(params: Partial<TokenInfo> = {}) {
    Object.assign(this, params);
  }
}
