import { AsnConvert, BitString, OctetString } from '@peculiar/asn1-schema';
import { CommonKeyAttributes, CommonObjectAttributes, CommonObjectFlags, KeyAccessFlags, KeyUsageFlags, Pkcs15Path } from './schema/common-attributes.js';
import { PrivateEcKeyAttributes, PrivateEcKeyObject, PrivateKeyType, PrivateRsaKeyAttributes, PrivateRsaKeyObject } from './schema/private-key.js';

/** The fields of a PrKDF entry (PKCS#15 §6.4) that cardca uses. */
export interface PrivateKeyEntry {
  readonly kind: 'rsa' | 'ec';
  readonly label: string | undefined;
  readonly id: Uint8Array;
  readonly authId: Uint8Array | undefined;
  readonly usage: number;
  readonly accessFlags: number | undefined;
  readonly keyReference: number | undefined;
  /** Modulus length (RSA) or field size (EC) in bits, when present. */
  readonly size: number | undefined;
  /** Path octets of the key (`value` of the type attributes) as stored; empty on a SmartCard-HSM. */
  readonly rawPath: Uint8Array;
}

export function parsePrivateKeyEntry(der: Uint8Array): PrivateKeyEntry {
  const t = AsnConvert.parse(der, PrivateKeyType);
  const obj = t.privateRSAKey ?? t.privateECKey;
  if (!obj) throw new RangeError('PrKDF entry is neither an RSA nor an EC private key');
  const common = obj.commonObjectAttributes;
  const cls = obj.classAttributes;
  const size =
    obj instanceof PrivateRsaKeyObject ? obj.typeAttributes.modulusLength : (obj as PrivateEcKeyObject).typeAttributes.fieldSize;
  return {
    kind: t.privateRSAKey ? 'rsa' : 'ec',
    label: common.label,
    id: new Uint8Array(cls.iD.buffer),
    authId: common.authId ? new Uint8Array(common.authId.buffer) : undefined,
    usage: cls.usage.toNumber(),
    accessFlags: cls.accessFlags?.toNumber(),
    keyReference: cls.keyReference,
    size,
    rawPath: new Uint8Array(obj.typeAttributes.value.path.buffer),
  };
}

/**
 * Encode the PrKDF entry cardca writes next to a generated key (SmartCard-HSM `C4xx`): private,
 * authId 01 (the user PIN in the synthesised AODF), usage sign (+signRecover for RSA, as
 * CardContact's templates), access flags sensitive/alwaysSensitive/neverExtractable/local
 * (generated on the card), keyReference = key id, empty path.
 */
export function encodePrivateKeyEntry(e: {
  kind: 'rsa' | 'ec';
  label: string;
  id: Uint8Array;
  keyReference: number;
  size: number;
}): Uint8Array {
  const common = new CommonObjectAttributes({
    label: e.label,
    flags: new BitString(CommonObjectFlags.private),
    authId: new OctetString(Uint8Array.of(0x01)),
  });
  const usage = e.kind === 'rsa' ? KeyUsageFlags.sign | KeyUsageFlags.signRecover : KeyUsageFlags.sign;
  const cls = new CommonKeyAttributes({
    iD: new OctetString(e.id),
    usage: new BitString(usage),
    accessFlags: new BitString(
      KeyAccessFlags.sensitive | KeyAccessFlags.alwaysSensitive | KeyAccessFlags.neverExtractable | KeyAccessFlags.local,
    ),
    keyReference: e.keyReference,
  });
  const path = new Pkcs15Path({ path: new OctetString(0) });
  const t =
    e.kind === 'rsa'
      ? new PrivateKeyType({
          privateRSAKey: new PrivateRsaKeyObject({
            commonObjectAttributes: common,
            classAttributes: cls,
            typeAttributes: new PrivateRsaKeyAttributes({ value: path, modulusLength: e.size }),
          }),
        })
      : new PrivateKeyType({
          privateECKey: new PrivateEcKeyObject({
            commonObjectAttributes: common,
            classAttributes: cls,
            typeAttributes: new PrivateEcKeyAttributes({ value: path, fieldSize: e.size }),
          }),
        });
  return new Uint8Array(AsnConvert.serialize(t));
}
