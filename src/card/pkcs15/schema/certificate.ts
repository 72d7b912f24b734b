import { AsnProp, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import { CommonCertificateAttributes, CommonObjectAttributes, ObjectValue } from './common-attributes.js';

/**
 * CDF entries (PKCS#15 v1.1 §6.6). SmartCard-HSM keeps CA certificates' entries in `C8xx`.
 *
 * ```asn1
 * CertificateType ::= CHOICE {
 *   x509Certificate  CertificateObject { X509CertificateAttributes }, ... }
 * CertificateObject {CertAttributes} ::= PKCS15Object {CommonCertificateAttributes,
 *   NULL, CertAttributes}
 * X509CertificateAttributes ::= SEQUENCE {
 *   value         ObjectValue { Certificate },
 *   subject       Name OPTIONAL, ... }
 * ```
 */
export class X509CertificateAttributes {
  @AsnProp({ type: ObjectValue })
  value = new ObjectValue();

  constructor(params: Partial<X509CertificateAttributes> = {}) {
    Object.assign(this, params);
  }
}

export class X509CertificateObject {
  @AsnProp({ type: CommonObjectAttributes })
  commonObjectAttributes = new CommonObjectAttributes();

  @AsnProp({ type: CommonCertificateAttributes })
  classAttributes = new CommonCertificateAttributes();

  @AsnProp({ type: X509CertificateAttributes, context: 1, implicit: false })
  typeAttributes = new X509CertificateAttributes();

  constructor(params: Partial<X509CertificateObject> = {}) {
    Object.assign(this, params);
  }
}

@AsnType({ type: AsnTypeTypes.Choice })
export class CertificateType {
  @AsnProp({ type: X509CertificateObject })
  x509Certificate?: X509CertificateObject;

  constructor(params: Partial<CertificateType> = {}) {
    Object.assign(this, params);
  }
}
