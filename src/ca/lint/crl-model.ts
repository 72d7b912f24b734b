import { AsnConvert } from '@peculiar/asn1-schema';
import { AuthorityKeyIdentifier } from '@peculiar/asn1-x509';
import { children, readSingle, slice, value, type Tlv } from '../x509/der.js';
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
}

export interface CrlEntryModel {
  readonly serial: Uint8Array;
  readonly revocationDateTlv: Tlv;
  readonly extensions: readonly RawExtension[];
}

export interface CrlModel {
  readonly tbs: Uint8Array;
  readonly ctx: CrlLintContext;
  readonly version: number | undefined;
  readonly signatureAlgorithm: Uint8Array;
  readonly issuer: Uint8Array;
  readonly thisUpdateTlv: Tlv;
  readonly nextUpdateTlv: Tlv | undefined;
  /** undefined: field absent; []: present but empty (a DER/profile violation). */
  readonly entries: readonly CrlEntryModel[] | undefined;
  readonly extensions: readonly RawExtension[];
  readonly aki?: AuthorityKeyIdentifier;
  readonly crlNumberContent?: Uint8Array;
}

export function crlModel(tbs: Uint8Array, ctx: CrlLintContext): CrlModel {
  const f = children(tbs, readSingle(tbs));
  let i = 0;
  let version: number | undefined;
  if (f[0]?.tag === 0x02) {
    version = Number(value(tbs, f[0])[0] ?? 0);
    i = 1;
  }
  const sig = f[i]!;
  const issuer = f[i + 1]!;
  const thisUpdate = f[i + 2]!;
  let j = i + 3;
  let nextUpdate: Tlv | undefined;
  if (f[j] && (f[j]!.tag === 0x17 || f[j]!.tag === 0x18)) nextUpdate = f[j++];
  let entries: CrlEntryModel[] | undefined;
  if (f[j] && f[j]!.tag === 0x30) {
    entries = children(tbs, f[j]!).map((e) => {
      const ef = children(tbs, e);
      return {
        serial: value(tbs, ef[0]!),
        revocationDateTlv: ef[1]!,
        extensions: ef[2] ? parseExtensionList(tbs, ef[2]) : [],
      };
    });
    j++;
  }
  const extT = f[j] && f[j]!.tag === 0xa0 ? f[j] : undefined;
  const extensions = extT ? parseExtensionList(tbs, children(tbs, extT)[0]!) : [];
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
    entries,
    extensions,
    ...(aki ? { aki } : {}),
    ...(crlNumberContent ? { crlNumberContent } : {}),
  };
}
