/** Shared shapes of the export renderers (pure: inputs in, file list out; writing is the caller's job). */

/** One output file. `path` is relative to the export directory, `/`-separated. */
export interface ExportFile {
  readonly path: string;
  readonly bytes: Uint8Array;
  /** 0o644: everything an export contains is public. */
  readonly mode: number;
}

/**
 * A CA chain to export.
 * - `chain`: DER certificates, the issuing CA first … the root last (RFC 5246 §7.4.2 order).
 * - `crls`: DER CRLs, one per CA level (any order; each is matched to its issuer by name and
 *   checked against that CA's key identifier). Formats for concentrators need all of them.
 * - `names`: file-safe names for each chain element, same order as `chain`
 *   (e.g. `['servers', 'root']`); used for per-CA file names. `[A-Za-z0-9._-]`, no leading dot.
 */
export interface ChainExportInput {
  readonly chain: readonly Uint8Array[];
  readonly crls: readonly Uint8Array[];
  readonly names: readonly string[];
}

export const PUBLIC_MODE = 0o644;
