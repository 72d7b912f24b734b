import { AsnProp, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import { Pkcs15Path } from './common-attributes.js';

/**
 * One EF.ODF entry (PKCS#15 v1.1 §6.2). The ODF is a concatenation of these, padded with 00/FF.
 *
 * ```asn1
 * PKCS15Objects ::= CHOICE {
 *   privateKeys         [0] PrivateKeys,     -- each: CHOICE { path Path, ... }
 *   publicKeys          [1] PublicKeys,
 *   trustedPublicKeys   [2] PublicKeys,
 *   secretKeys          [3] SecretKeys,
 *   certificates        [4] Certificates,
 *   trustedCertificates [5] Certificates,
 *   usefulCertificates  [6] Certificates,
 *   dataObjects         [7] DataObjects,
 *   authObjects         [8] AuthObjects, ... }
 * ```
 */
@AsnType({ type: AsnTypeTypes.Choice })
export class OdfEntry {
  @AsnProp({ type: Pkcs15Path, context: 0, implicit: false })
  privateKeys?: Pkcs15Path;

  @AsnProp({ type: Pkcs15Path, context: 1, implicit: false })
  publicKeys?: Pkcs15Path;

  @AsnProp({ type: Pkcs15Path, context: 3, implicit: false })
  secretKeys?: Pkcs15Path;

  @AsnProp({ type: Pkcs15Path, context: 4, implicit: false })
  certificates?: Pkcs15Path;

  @AsnProp({ type: Pkcs15Path, context: 5, implicit: false })
  trustedCertificates?: Pkcs15Path;

  @AsnProp({ type: Pkcs15Path, context: 7, implicit: false })
  dataObjects?: Pkcs15Path;

  @AsnProp({ type: Pkcs15Path, context: 8, implicit: false })
  authObjects?: Pkcs15Path;

  constructor(params: Partial<OdfEntry> = {}) {
    Object.assign(this, params);
  }
}
