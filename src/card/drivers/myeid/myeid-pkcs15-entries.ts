import { AsnConvert, BitString, OctetString } from '@peculiar/asn1-schema';
import { CertificateType, X509CertificateAttributes, X509CertificateObject } from '../../pkcs15/schema/certificate.js';
import {
  CommonCertificateAttributes,
  CommonKeyAttributes,
  CommonObjectAttributes,
  CommonObjectFlags,
  KeyAccessFlags,
  KeyUsageFlags,
  ObjectValue,
  Pkcs15Path,
} from '../../pkcs15/schema/common-attributes.js';
import { CommonDataObjectAttributes, DataType, OpaqueDataObject } from '../../pkcs15/schema/data-object.js';
import { PrivateEcKeyAttributes, PrivateEcKeyObject, PrivateKeyType, PrivateRsaKeyAttributes, PrivateRsaKeyObject } from '../../pkcs15/schema/private-key.js';
import { PublicEcKeyAttributes, PublicEcKeyObject, PublicKeyType, PublicRsaKeyAttributes, PublicRsaKeyObject } from '../../pkcs15/schema/public-key.js';

/**
 * PrKDF, PuKDF and CDF entries exactly as OpenSC 0.23's pkcs15-init writes them on a MyEID
 * (pkcs15init/pkcs15-lib.c `sc_pkcs15init_generate_key`, `sc_pkcs15init_store_certificate`;
 * checked byte for byte against test/fixtures/myeid): private keys private+modifiable, usage sign,
 * access flags sensitive/alwaysSensitive/neverExtractable/local, key reference = the key EF's
 * last FID byte; public keys modifiable, usage verify, native FALSE, key reference 0.
 */
export interface KeyEntryFields {
  readonly kind: 'rsa' | 'ec';
  readonly label: string;
  readonly id: Uint8Array;
  /** Absolute path of the key EF (private) or public-key EF (public). */
  readonly path: Uint8Array;
  /** Modulus length (RSA) or field size (EC), bits. */
  readonly size: number;
}

const path = (p: Uint8Array) => new Pkcs15Path({ path: new OctetString(p) });
const ser = (x: object) => new Uint8Array(AsnConvert.serialize(x));

export function encodeMyeidPrivateKeyEntry(e: KeyEntryFields & { authId: Uint8Array; keyReference: number }): Uint8Array {
  const common = new CommonObjectAttributes({
    label: e.label,
    flags: new BitString(CommonObjectFlags.private | CommonObjectFlags.modifiable),
    authId: new OctetString(e.authId),
  });
  const cls = new CommonKeyAttributes({
    iD: new OctetString(e.id),
    usage: new BitString(KeyUsageFlags.sign),
    accessFlags: new BitString(KeyAccessFlags.sensitive | KeyAccessFlags.alwaysSensitive | KeyAccessFlags.neverExtractable | KeyAccessFlags.local),
    keyReference: e.keyReference,
  });
  const t =
    e.kind === 'rsa'
      ? new PrivateKeyType({
          privateRSAKey: new PrivateRsaKeyObject({ commonObjectAttributes: common, classAttributes: cls, typeAttributes: new PrivateRsaKeyAttributes({ value: path(e.path), modulusLength: e.size }) }),
        })
      : new PrivateKeyType({
          privateECKey: new PrivateEcKeyObject({ commonObjectAttributes: common, classAttributes: cls, typeAttributes: new PrivateEcKeyAttributes({ value: path(e.path), fieldSize: e.size }) }),
        });
  return ser(t);
}

export function encodeMyeidPublicKeyEntry(e: KeyEntryFields): Uint8Array {
  const common = new CommonObjectAttributes({ label: e.label, flags: new BitString(CommonObjectFlags.modifiable) });
  const cls = new CommonKeyAttributes({ iD: new OctetString(e.id), usage: new BitString(KeyUsageFlags.verify), native: false, keyReference: 0 });
  const value = new ObjectValue({ indirect: path(e.path) });
  const t =
    e.kind === 'rsa'
      ? new PublicKeyType({
          publicRSAKey: new PublicRsaKeyObject({ commonObjectAttributes: common, classAttributes: cls, typeAttributes: new PublicRsaKeyAttributes({ value, modulusLength: e.size }) }),
        })
      : new PublicKeyType({
          publicECKey: new PublicEcKeyObject({ commonObjectAttributes: common, classAttributes: cls, typeAttributes: new PublicEcKeyAttributes({ value }) }),
        });
  return ser(t);
}

export function encodeMyeidCertificateEntry(e: { label: string; id: Uint8Array; path: Uint8Array; authority?: boolean }): Uint8Array {
  return ser(
    new CertificateType({
      x509Certificate: new X509CertificateObject({
        commonObjectAttributes: new CommonObjectAttributes({ label: e.label, flags: new BitString(CommonObjectFlags.modifiable) }),
        classAttributes: new CommonCertificateAttributes({ iD: new OctetString(e.id), ...(e.authority ? { authority: true } : {}) }),
        typeAttributes: new X509CertificateAttributes({ value: new ObjectValue({ indirect: path(e.path) }) }),
      }),
    }),
  );
}

/**
 * A private opaque data object's DODF entry as `pkcs15-init --store-data FILE --auth-id 01
 * --label L --application-name A` writes it (pkcs15-lib.c `sc_pkcs15init_store_data_object`):
 * private+modifiable, the PIN's authId, applicationName, the EF's absolute path.
 */
export function encodeMyeidDataObjectEntry(e: { label: string; applicationName: string; authId: Uint8Array; path: Uint8Array }): Uint8Array {
  return ser(
    new DataType({
      opaqueDO: new OpaqueDataObject({
        commonObjectAttributes: new CommonObjectAttributes({ label: e.label, flags: new BitString(CommonObjectFlags.private | CommonObjectFlags.modifiable), authId: new OctetString(e.authId) }),
        classAttributes: new CommonDataObjectAttributes({ applicationName: e.applicationName }),
        typeAttributes: new ObjectValue({ indirect: path(e.path) }),
      }),
    }),
  );
}
