import { AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import { CommonObjectAttributes, ObjectValue } from './common-attributes.js';

/**
 * DODF entries (PKCS#15 v1.1 §6.7), the form OpenSC writes for `pkcs15-init --store-data`
 * (pkcs15-data.c `sc_pkcs15_encode_dodf_entry`): an opaque data object whose type attributes are
 * the ObjectValue itself, explicitly tagged [1].
 *
 * ```asn1
 * DataType ::= CHOICE {
 *   opaqueDO     DataObject {Opaque},
 *   externalIDO  [0] DataObject {ExternalIDO},
 *   oidDO        [1] DataObject {OidDO}, ... }
 * DataObject {DataObjectAttributes} ::= PKCS15Object {
 *   CommonDataObjectAttributes, NULL, DataObjectAttributes }
 * CommonDataObjectAttributes ::= SEQUENCE {
 *   applicationName  Label OPTIONAL,
 *   applicationOID   OBJECT IDENTIFIER OPTIONAL, ... }
 * Opaque ::= ObjectValue {OCTET STRING}
 * ```
 */
export class CommonDataObjectAttributes {
  @AsnProp({ type: AsnPropTypes.Utf8String, optional: true })
  applicationName?: string;

  @AsnProp({ type: AsnPropTypes.ObjectIdentifier, optional: true })
  applicationOID?: string;

  constructor(params: Partial<CommonDataObjectAttributes> = {}) {
    Object.assign(this, params);
  }
}

export class OpaqueDataObject {
  @AsnProp({ type: CommonObjectAttributes })
  commonObjectAttributes = new CommonObjectAttributes();

  @AsnProp({ type: CommonDataObjectAttributes })
  classAttributes = new CommonDataObjectAttributes();

  @AsnProp({ type: ObjectValue, context: 1, implicit: false })
  typeAttributes = new ObjectValue();

  constructor(params: Partial<OpaqueDataObject> = {}) {
    Object.assign(this, params);
  }
}

@AsnType({ type: AsnTypeTypes.Choice })
export class DataType {
  @AsnProp({ type: OpaqueDataObject })
  opaqueDO?: OpaqueDataObject;

  constructor(params: Partial<DataType> = {}) {
    Object.assign(this, params);
  }
}
