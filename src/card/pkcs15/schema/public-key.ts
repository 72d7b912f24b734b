import { AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import { ObjectValue } from './common-attributes.js';
import { Pkcs15KeyObject } from './key-object.js';

/**
 * PuKDF entries (PKCS#15 v1.1 §6.5; OpenSC `pkcs15-pubkey.c` `c_asn1_pubkey`). OpenSC's
 * pkcs15-init writes the value as a path to a public-key EF (MyEID `55xx`).
 *
 * ```asn1
 * PublicKeyType ::= CHOICE {
 *   publicRSAKey  PublicKeyObject {PublicRSAKeyAttributes},
 *   publicECKey   [0] PublicKeyObject {PublicECKeyAttributes}, ... }
 * PublicRSAKeyAttributes ::= SEQUENCE {
 *   value          ObjectValue {RSAPublicKeyChoice},
 *   modulusLength  INTEGER,
 *   keyInfo        KeyInfo {…} OPTIONAL, ... }
 * PublicECKeyAttributes ::= SEQUENCE {
 *   value    ObjectValue {ECPublicKeyChoice},
 *   keyInfo  KeyInfo {…} OPTIONAL, ... }
 * ```
 */
export class PublicRsaKeyAttributes {
  @AsnProp({ type: ObjectValue })
  value = new ObjectValue();
  @AsnProp({ type: AsnPropTypes.Integer })
  modulusLength = 0;
  constructor(params: Partial<PublicRsaKeyAttributes> = {}) {
    Object.assign(this, params);
  }
}

export class PublicEcKeyAttributes {
  @AsnProp({ type: ObjectValue })
  value = new ObjectValue();
  constructor(params: Partial<PublicEcKeyAttributes> = {}) {
    Object.assign(this, params);
  }
}

export class PublicRsaKeyObject extends Pkcs15KeyObject {
  @AsnProp({ type: PublicRsaKeyAttributes, context: 1, implicit: false })
  typeAttributes = new PublicRsaKeyAttributes();
  constructor(params: Partial<PublicRsaKeyObject> = {}) {
    super();
    Object.assign(this, params);
  }
}

export class PublicEcKeyObject extends Pkcs15KeyObject {
  @AsnProp({ type: PublicEcKeyAttributes, context: 1, implicit: false })
  typeAttributes = new PublicEcKeyAttributes();
  constructor(params: Partial<PublicEcKeyObject> = {}) {
    super();
    Object.assign(this, params);
  }
}

@AsnType({ type: AsnTypeTypes.Choice })
export class PublicKeyType {
  @AsnProp({ type: PublicRsaKeyObject })
  publicRSAKey?: PublicRsaKeyObject;
  @AsnProp({ type: PublicEcKeyObject, context: 0, implicit: true })
  publicECKey?: PublicEcKeyObject;
  constructor(params: Partial<PublicKeyType> = {}) {
    Object.assign(this, params);
  }
}
