import { AsnProp, AsnPropTypes } from '@peculiar/asn1-schema';
import { CommonKeyAttributes, CommonObjectAttributes } from './common-attributes.js';

/**
 * The part every PKCS#15 key object shares, private or public, RSA or EC (PKCS#15 v1.1 §6.4, §6.5):
 *
 * ```asn1
 * PKCS15Object {ClassAttributes, SubClassAttributes, TypeAttributes} ::= SEQUENCE {
 *   commonObjectAttributes  CommonObjectAttributes,
 *   classAttributes         ClassAttributes,            -- CommonKeyAttributes
 *   subClassAttributes      [0] SubClassAttributes OPTIONAL,
 *   typeAttributes          [1] TypeAttributes }
 * ```
 * Subclasses declare `typeAttributes` ([1], the key type's own attributes); asn1-schema puts a
 * base class's fields first. `subClassAttributes` (CommonPrivateKeyAttributes /
 * CommonPublicKeyAttributes) is unused by cardca and kept as raw bytes. Subclass constructors
 * assign their parameters after `super()`, so the field defaults here never override them.
 */
export abstract class Pkcs15KeyObject {
  @AsnProp({ type: CommonObjectAttributes })
  commonObjectAttributes = new CommonObjectAttributes();

  @AsnProp({ type: CommonKeyAttributes })
  classAttributes = new CommonKeyAttributes();

  @AsnProp({ type: AsnPropTypes.Any, context: 0, implicit: false, optional: true })
  subClassAttributes?: ArrayBuffer;
}
