import { AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import { Pkcs15Path } from './common-attributes.js';
import { Pkcs15KeyObject } from './key-object.js';

/**
 * PrKDF entries (PKCS#15 v1.1 §6.4; OpenSC `pkcs15-prkey.c` adds `fieldSize` for EC keys).
 * On a SmartCard-HSM, EF `C4xx` holds exactly one of these for key `CCxx`.
 *
 * ```asn1
 * PrivateKeyType ::= CHOICE {
 *   privateRSAKey  PrivateKeyObject {PrivateRSAKeyAttributes},
 *   privateECKey   [0] PrivateKeyObject {PrivateECKeyAttributes},
 *   ... }
 * PrivateKeyObject {KeyAttributes} ::= PKCS15Object {CommonKeyAttributes,
 *   CommonPrivateKeyAttributes, KeyAttributes}      -- key-object.ts
 * PKCS15Object {ClassAttributes, SubClassAttributes, TypeAttributes} ::= SEQUENCE {
 *   commonObjectAttributes  CommonObjectAttributes,
 *   classAttributes         ClassAttributes,
 *   subClassAttributes      [0] SubClassAttributes OPTIONAL,
 *   typeAttributes          [1] TypeAttributes }
 * PrivateRSAKeyAttributes ::= SEQUENCE {
 *   value          Path,
 *   modulusLength  INTEGER,
 *   keyInfo        KeyInfo {…} OPTIONAL, ... }
 * PrivateECKeyAttributes ::= SEQUENCE {
 *   value      Path,
 *   fieldSize  INTEGER OPTIONAL,   -- OpenSC
 *   keyInfo    KeyInfo {…} OPTIONAL, ... }
 * ```
 */
export class PrivateRsaKeyAttributes {
  @AsnProp({ type: Pkcs15Path })
  value = new Pkcs15Path();

  @AsnProp({ type: AsnPropTypes.Integer })
  modulusLength = 0;

  constructor(params: Partial<PrivateRsaKeyAttributes> = {}) {
    Object.assign(this, params);
  }
}

export class PrivateEcKeyAttributes {
  @AsnProp({ type: Pkcs15Path })
  value = new Pkcs15Path();

  @AsnProp({ type: AsnPropTypes.Integer, optional: true })
  fieldSize?: number;

  constructor(params: Partial<PrivateEcKeyAttributes> = {}) {
    Object.assign(this, params);
  }
}

export class PrivateRsaKeyObject extends Pkcs15KeyObject {
  @AsnProp({ type: PrivateRsaKeyAttributes, context: 1, implicit: false })
  typeAttributes = new PrivateRsaKeyAttributes();

  constructor(params: Partial<PrivateRsaKeyObject> = {}) {
    super();
    Object.assign(this, params);
  }
}

export class PrivateEcKeyObject extends Pkcs15KeyObject {
  @AsnProp({ type: PrivateEcKeyAttributes, context: 1, implicit: false })
  typeAttributes = new PrivateEcKeyAttributes();

  constructor(params: Partial<PrivateEcKeyObject> = {}) {
    super();
    Object.assign(this, params);
  }
}

@AsnType({ type: AsnTypeTypes.Choice })
export class PrivateKeyType {
  @AsnProp({ type: PrivateRsaKeyObject })
  privateRSAKey?: PrivateRsaKeyObject;

  @AsnProp({ type: PrivateEcKeyObject, context: 0, implicit: true })
  privateECKey?: PrivateEcKeyObject;

  constructor(params: Partial<PrivateKeyType> = {}) {
    Object.assign(this, params);
  }
}
