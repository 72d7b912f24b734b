import type { Pkcs15Path } from './schema/common-attributes.js';

/** A resolved PKCS#15 Path (ISO 7816-15 §8.2): absolute file path plus optional slice of the EF. */
export interface FileReference {
  /** Absolute path from the MF, e.g. 3F00 5015 4402. */
  readonly path: Uint8Array;
  readonly index: number | undefined;
  readonly length: number | undefined;
}

/** Path octets starting with 3F00 are absolute; anything else is relative to the application DF (card-protocols.md §2.1). */
export function resolvePath(appPath: Uint8Array, p: Pkcs15Path): FileReference {
  const raw = new Uint8Array(p.path.buffer);
  const absolute = raw.length >= 2 && raw[0] === 0x3f && raw[1] === 0x00;
  const path = absolute ? raw.slice() : Uint8Array.from([...appPath, ...raw]);
  return { path, index: p.index, length: p.length };
}

export function pathHex(path: Uint8Array): string {
  return Buffer.from(path).toString('hex').toUpperCase();
}

/** The split of a directory file into its entries: each entry's full DER with its offset. */
export interface DirectoryEntry {
  readonly tag: number;
  readonly der: Uint8Array;
  readonly offset: number;
}
