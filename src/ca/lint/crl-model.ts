import { AsnConvert } from '@peculiar/asn1-schema';
import { AuthorityKeyIdentifier } from '@peculiar/asn1-x509';
import { readSingle, slice, value, type Tlv } from '../x509/der.js';
import { tbsCertListFields } from '../crl/crl-structure.js';
import { checkCrlEntries, type EntryRuleName } from './crl-entry-checks.js';
import { parseExtensionList, type RawExtension } from './certificate-model.js';
import { id_ce } from '../x509/oids.js';

export interface CrlLintContext {
  readonly now: Date;
  /** The CA certificate's subject Name DER. */
  readonly issuerName: Uint8Array;
  /** The CA certificate's SKI. */
  readonly issuerSki: Uint8Array;
  /** Largest allowed nextUpdate − thisUpdate in ms (profile crl.validity; BR: ≤ 12 months for CA-level CRLs). */
  readonly maxValidityMs: number;
  /** The previous CRL number for this issuer, if any: the new one must be larger. */
  readonly previousCrlNumber?: bigint;
  /** Serials of certificates this CA issued (hex, upper-case), to check entries refer to real certificates. */
  readonly knownSerialsHex?: ReadonlySet<string>;
  /** The same as a compact set (serial-set.ts), for CRLs of a million entries; wins over `knownSerialsHex`. */
  readonly knownSerials?: { has(serial: Uint8Array): boolean };
  /**
   * The entries come from the store's pre-encoded entries (migration 9) in these runs, each in
   * strictly increasing serial order (crl-entry-stream.ts CrlEntryChunks). The store's schema
   * proves what the serial sets proved: UNIQUE (issuer_id, serial) no duplicate, the trigger
   * and CHECK of crl_entries that every entry names a revoked or outcome_unknown certificate of
   * this issuer. The walk then checks that the bytes are those rows in that order (each run
   * strictly increasing, the runs' total the entry count) instead of building any set.
   */
  readonly entryRuns?: readonly number[];
}

export interface CrlModel {
  readonly tbs: Uint8Array;
  readonly ctx: CrlLintContext;
  readonly version: number | undefined;
  readonly signatureAlgorithm: Uint8Array;
  readonly issuer: Uint8Array;
  readonly thisUpdateTlv: Tlv;
  readonly nextUpdateTlv: Tlv | undefined;
  /** Number of revokedCertificates entries; undefined: field absent; 0: present but empty (a DER/profile violation). */
  readonly entryCount: number | undefined;
  /** Findings of the per-entry rules, from one walk over the entries (crl-entry-checks.ts). */
  readonly entryFindings: ReadonlyMap<EntryRuleName, readonly string[]>;
  readonly extensions: readonly RawExtension[];
  readonly aki?: AuthorityKeyIdentifier;
  readonly crlNumberContent?: Uint8Array;
}

export function crlModel(tbs: Uint8Array, ctx: CrlLintContext): CrlModel {
  const f = tbsCertListFields(tbs);
  const version = f.version ? Number(value(tbs, f.version)[0] ?? 0) : undefined;
  const sig = f.signature;
  const issuer = f.issuer;
  const thisUpdate = f.thisUpdate;
  const nextUpdate = f.nextUpdate;
  const entries = f.revoked ? checkCrlEntries(tbs, f.revoked, ctx) : undefined;
  const extensions = f.extensions ? parseExtensionList(tbs, f.extensions) : [];
  const akiExt = extensions.find((e) => e.oid === id_ce.authorityKeyIdentifier);
  const numExt = extensions.find((e) => e.oid === id_ce.cRLNumber);
  let aki: AuthorityKeyIdentifier | undefined;
  try {
    if (akiExt) aki = AsnConvert.parse(akiExt.value, AuthorityKeyIdentifier);
  } catch {
    aki = undefined;
  }
  let crlNumberContent: Uint8Array | undefined;
  if (numExt) {
    const t = readSingle(numExt.value);
    if (t.tag === 0x02) crlNumberContent = value(numExt.value, t);
  }
  return {
    tbs, ctx, version,
    signatureAlgorithm: slice(tbs, sig),
    issuer: slice(tbs, issuer),
    thisUpdateTlv: thisUpdate,
    nextUpdateTlv: nextUpdate,
    entryCount: entries?.count,
    entryFindings: entries?.messages ?? new Map(),
    extensions,
    ...(aki ? { aki } : {}),
    ...(crlNumberContent ? { crlNumberContent } : {}),
  };
}
