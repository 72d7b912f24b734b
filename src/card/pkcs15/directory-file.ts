import { readTlv } from '../tlv.js';
import { Pkcs15Error } from './pkcs15-error.js';
import type { DirectoryEntry } from './pkcs15-path.js';

/**
 * Split an ODF/xDF content into its concatenated entries (PKCS#15 §6.1, "entries in any xDF are
 * concatenated"). A 00 or FF byte where a tag should be ends the data: the EFs are fixed-size and
 * padded (OpenSC `asn1.c` `sc_asn1_read_tag`). A truncated entry is a typed error naming the file.
 */
export function splitDirectoryFile(content: Uint8Array, file: string): DirectoryEntry[] {
  const out: DirectoryEntry[] = [];
  let off = 0;
  while (off < content.length && content[off] !== 0x00 && content[off] !== 0xff) {
    let t;
    try {
      t = readTlv(content, off);
    } catch (err) {
      throw new Pkcs15Error('CARD_PKCS15_MALFORMED', file, `entry at offset ${off}`, `not a complete DER object (${(err as Error).message})`);
    }
    out.push({ tag: t.tag, der: content.subarray(off, t.end), offset: off });
    off = t.end;
  }
  return out;
}
