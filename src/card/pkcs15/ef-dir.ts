import { readAllTlv, findTlv } from '../tlv.js';

/**
 * EF.DIR application templates (ISO 7816-4 §8.2.1.1, ISO 7816-15 §7.2; OpenSC `dir.c`):
 * `61 { 4F aid, [50 label], [51 path], [73 ddo] }`, concatenated, padded with 00/FF.
 *
 * ```asn1
 * DIRRecord ::= [APPLICATION 1] SEQUENCE {
 *   aid   [APPLICATION 15] OCTET STRING,
 *   label [APPLICATION 16] UTF8String OPTIONAL,
 *   path  [APPLICATION 17] OCTET STRING OPTIONAL,
 *   ddo   [APPLICATION 19] DDO OPTIONAL }
 * ```
 * Parsed with the BER-TLV reader rather than an asn1-schema class: asn1-schema declares only
 * universal and context-specific tags, and this record uses APPLICATION tags throughout.
 */
export interface DirRecord {
  readonly aid: Uint8Array;
  readonly label: string | undefined;
  readonly path: Uint8Array | undefined;
}

export function parseEfDir(bytes: Uint8Array): DirRecord[] {
  return readAllTlv(bytes)
    .filter((t) => t.tag === 0x61)
    .map((t) => {
      const aid = findTlv(t.value, 0x4f);
      if (!aid) throw new RangeError('EF.DIR record without an AID (4F)');
      const label = findTlv(t.value, 0x50);
      return { aid, label: label ? new TextDecoder().decode(label) : undefined, path: findTlv(t.value, 0x51) };
    });
}
