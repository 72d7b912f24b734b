import { AsnProp, AsnPropTypes, BitString, OctetString } from '@peculiar/asn1-schema';
import { CommonAuthenticationObjectAttributes, CommonObjectAttributes, Pkcs15Path } from './common-attributes.js';

/**
 * AODF PIN entries (PKCS#15 v1.1 §6.8).
 *
 * ```asn1
 * AuthenticationType ::= CHOICE { pin AuthenticationObject { PinAttributes }, ... }
 * PinAttributes ::= SEQUENCE {
 *   pinFlags       PinFlags,
 *   pinType        PinType,               -- ENUMERATED {bcd, ascii-numeric, utf8, ...}
 *   minLength      INTEGER,
 *   storedLength   INTEGER,
 *   maxLength      INTEGER OPTIONAL,
 *   pinReference   [0] Reference DEFAULT 0,
 *   padChar        OCTET STRING (SIZE(1)) OPTIONAL,
 *   lastPinChange  GeneralizedTime OPTIONAL,
 *   path           Path OPTIONAL, ... }
 * PinFlags ::= BIT STRING { case-sensitive(0), local(1), change-disabled(2),
 *   unblock-disabled(3), initialized(4), needs-padding(5), unblockingPin(6), soPin(7), ... }
 * ```
 */
export const PinFlags = {
  caseSensitive: 1 << 0,
  local: 1 << 1,
  changeDisabled: 1 << 2,
  unblockDisabled: 1 << 3,
  initialized: 1 << 4,
  needsPadding: 1 << 5,
  unblockingPin: 1 << 6,
  soPin: 1 << 7,
} as const;

export class PinAttributes {
  @AsnProp({ type: BitString })
  pinFlags = new BitString();

  @AsnProp({ type: AsnPropTypes.Enumerated })
  pinType = 1;

  @AsnProp({ type: AsnPropTypes.Integer })
  minLength = 0;

  @AsnProp({ type: AsnPropTypes.Integer })
  storedLength = 0;

  @AsnProp({ type: AsnPropTypes.Integer, optional: true })
  maxLength?: number;

  @AsnProp({ type: AsnPropTypes.Integer, context: 0, implicit: true, optional: true })
  pinReference?: number;

  @AsnProp({ type: OctetString, optional: true })
  padChar?: OctetString;

  @AsnProp({ type: Pkcs15Path, optional: true })
  path?: Pkcs15Path;

  constructor(params: Partial<PinAttributes> = {}) {
    Object.assign(this, params);
  }
}

export class PinObject {
  @AsnProp({ type: CommonObjectAttributes })
  commonObjectAttributes = new CommonObjectAttributes();

  @AsnProp({ type: CommonAuthenticationObjectAttributes })
  classAttributes = new CommonAuthenticationObjectAttributes();

  @AsnProp({ type: PinAttributes, context: 1, implicit: false })
  typeAttributes = new PinAttributes();

  constructor(params: Partial<PinObject> = {}) {
    Object.assign(this, params);
  }
}
