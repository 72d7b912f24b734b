import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { splitDirectoryFile } from './directory-file.js';
import { parseEfDir } from './ef-dir.js';
import { Pkcs15Error } from './pkcs15-error.js';
import { pathHex, resolvePath, type FileReference } from './pkcs15-path.js';
import { PinFlags, PinObject } from './schema/auth-object.js';
import { CertificateType } from './schema/certificate.js';
import { DataType } from './schema/data-object.js';
import { Pkcs15Path, type ObjectValue } from './schema/common-attributes.js';
import { OdfEntry } from './schema/odf.js';
import { parsePrivateKeyEntry, type PrivateKeyEntry } from './prkdf.js';
import { PublicKeyType } from './schema/public-key.js';
import { TokenInfo } from './schema/token-info.js';

/** Where the reader gets file contents: the whole transparent EF at an absolute path, `undefined` if absent. */
export interface Pkcs15FileSource {
  readEf(path: Uint8Array): Promise<Uint8Array | undefined>;
}

/** The PKCS#15 application identifier (ISO 7816-15 §7.2; card-protocols.md §2.1). */
export const PKCS15_AID = Uint8Array.from([0xa0, 0x00, 0x00, 0x00, 0x63, 0x50, 0x4b, 0x43, 0x53, 0x2d, 0x31, 0x35]);
const MF = Uint8Array.of(0x3f, 0x00);
const EF_DIR = Uint8Array.of(0x3f, 0x00, 0x2f, 0x00);
const DEFAULT_APP = Uint8Array.of(0x3f, 0x00, 0x50, 0x15);
/** Largest object a reference may name: above any card's EF size (MyEID EFs stop at 32 767 bytes). */
export const MAX_OBJECT_LENGTH = 0x8000;

export interface Pkcs15Pin {
  readonly label: string | undefined;
  readonly authId: Uint8Array;
  readonly reference: number;
  readonly flags: number;
  /** 0 bcd, 1 ascii-numeric, 2 utf8, 3 half-nibble-bcd, 4 iso9564-1. */
  readonly pinType: number;
  readonly minLength: number;
  readonly storedLength: number;
  readonly maxLength: number | undefined;
  readonly padChar: number | undefined;
  /** DF to select before VERIFY (a local PIN), absolute. */
  readonly path: Uint8Array | undefined;
  readonly so: boolean;
  readonly unblocking: boolean;
}

/** A PrKDF entry (prkdf.ts fields) with its key EF resolved and its PIN found. */
export interface Pkcs15PrivateKey extends Omit<PrivateKeyEntry, 'rawPath'> {
  /** The key EF (MSE `81` FID is its last two bytes), absolute. */
  readonly path: Uint8Array | undefined;
  /** The AODF entry whose authId matches, when there is one. */
  readonly pin: Pkcs15Pin | undefined;
  /** Where the entry sits: directory file and index, for messages. */
  readonly where: string;
}

export interface Pkcs15PublicKey {
  readonly kind: 'rsa' | 'ec';
  readonly label: string | undefined;
  readonly id: Uint8Array;
  readonly size: number | undefined;
  readonly value: ObjectReference;
  readonly where: string;
}

export interface Pkcs15Certificate {
  readonly label: string | undefined;
  readonly id: Uint8Array;
  readonly authority: boolean;
  readonly value: ObjectReference;
  readonly where: string;
}

/** A DODF entry (an opaque data object, as `pkcs15-init --store-data` writes it). */
export interface Pkcs15DataObject {
  readonly label: string | undefined;
  readonly applicationName: string | undefined;
  /** The PIN that guards reading it (private data object), when it has one. */
  readonly authId: Uint8Array | undefined;
  readonly value: ObjectReference;
  readonly where: string;
}

/** An object's value: in a file (slice) or inline in the directory entry. */
export type ObjectReference = { readonly file: FileReference } | { readonly direct: Uint8Array };

export type DirectoryKind = 'prkdf' | 'pukdf' | 'trustedPukdf' | 'skdf' | 'cdf' | 'trustedCdf' | 'usefulCdf' | 'dodf' | 'aodf';
const ODF_TAGS: Readonly<Record<number, DirectoryKind>> = {
  0xa0: 'prkdf',
  0xa1: 'pukdf',
  0xa2: 'trustedPukdf',
  0xa3: 'skdf',
  0xa4: 'cdf',
  0xa5: 'trustedCdf',
  0xa6: 'usefulCdf',
  0xa7: 'dodf',
  0xa8: 'aodf',
};

export interface Pkcs15Application {
  readonly aid: Uint8Array | undefined;
  /** Application DF, absolute (3F00 5015 on OpenSC-personalised cards). */
  readonly path: Uint8Array;
  readonly dirLabel: string | undefined;
  readonly tokenInfo: { serial: Uint8Array; label: string | undefined; manufacturer: string | undefined; flags: number } | undefined;
  readonly directories: ReadonlyArray<{ kind: DirectoryKind; file: FileReference }>;
  readonly pins: readonly Pkcs15Pin[];
  readonly privateKeys: readonly Pkcs15PrivateKey[];
  readonly publicKeys: readonly Pkcs15PublicKey[];
  readonly certificates: readonly Pkcs15Certificate[];
  readonly dataObjects: readonly Pkcs15DataObject[];
  /**
   * Defects found on the way (dangling paths, unknown object types, oversized or cyclic
   * references, keys without a PIN object). Each names its file and object; the objects that are
   * not affected are listed above and stay usable.
   */
  readonly problems: readonly Pkcs15Error[];
}

const bytes = (b: ArrayBuffer | Uint8Array) => new Uint8Array(b instanceof Uint8Array ? b : new Uint8Array(b));
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Read a PKCS#15 application as any card family laid it out (ISO 7816-15; PKCS#15 v1.1; OpenSC
 * `pkcs15.c` `sc_pkcs15_bind_internal`, `dir.c`): EF.DIR (or the default DF 3F00 5015), ODF 5031,
 * TokenInfo 5032, then every AODF, PrKDF, PuKDF and CDF the ODF names, each private key mapped to
 * its PIN by authId. Only a missing application or unreadable ODF is fatal.
 */
export async function readPkcs15Application(src: Pkcs15FileSource): Promise<Pkcs15Application> {
  const problems: Pkcs15Error[] = [];
  // 1. Locate the application: EF.DIR records with the PKCS#15 AID, else 3F00 5015.
  let appPath = DEFAULT_APP;
  let aid: Uint8Array | undefined;
  let dirLabel: string | undefined;
  const dir = await src.readEf(EF_DIR);
  if (dir) {
    try {
      const rec = parseEfDir(dir).find((r) => sameBytes(r.aid, PKCS15_AID));
      if (rec) {
        aid = rec.aid;
        dirLabel = rec.label;
        if (rec.path && rec.path.length >= 2) appPath = rec.path[0] === 0x3f && rec.path[1] === 0x00 ? rec.path.slice() : Uint8Array.from([...MF, ...rec.path]);
      }
    } catch (err) {
      problems.push(new Pkcs15Error('CARD_PKCS15_MALFORMED', 'EF.DIR 3F002F00', undefined, `unreadable (${(err as Error).message}); using 3F00 5015`));
    }
  }
  const odfPath = Uint8Array.from([...appPath, 0x50, 0x31]);
  const odf = await src.readEf(odfPath);
  if (!odf) {
    throw new Pkcs15Error('CARD_PKCS15_NO_APPLICATION', `ODF ${pathHex(odfPath)}`, undefined, 'no PKCS#15 application: the ODF is missing', 'Personalise the card first (`pkcs15-init --create-pkcs15`, or `ca card init` where the family supports it).');
  }
  const tiPath = Uint8Array.from([...appPath, 0x50, 0x32]);
  let tokenInfo: Pkcs15Application['tokenInfo'];
  const ti = await src.readEf(tiPath);
  if (ti) {
    try {
      const t = AsnConvert.parse(trimDer(ti), TokenInfo);
      tokenInfo = { serial: bytes(t.serialNumber.buffer), label: t.label, manufacturer: t.manufacturerID, flags: t.tokenflags.toNumber() };
    } catch (err) {
      problems.push(new Pkcs15Error('CARD_PKCS15_MALFORMED', `TokenInfo ${pathHex(tiPath)}`, undefined, `not a TokenInfo (${(err as Error).message})`));
    }
  }

  // 2. The ODF: one Path per directory file. Unknown tags are reported, not fatal.
  const odfName = `ODF ${pathHex(odfPath)}`;
  const directories: Array<{ kind: DirectoryKind; file: FileReference }> = [];
  const seen = new Set([pathHex(EF_DIR), pathHex(odfPath), pathHex(tiPath)]);
  for (const [i, e] of splitDirectoryFile(odf, odfName).entries()) {
    const kind = ODF_TAGS[e.tag];
    const object = `entry ${i} (tag ${e.tag.toString(16).toUpperCase()})`;
    if (!kind) {
      problems.push(new Pkcs15Error('CARD_PKCS15_UNKNOWN_OBJECT', odfName, object, 'unknown directory type; ignored'));
      continue;
    }
    let ref: FileReference;
    try {
      const parsed = AsnConvert.parse(retag(e.der, 0xa0), OdfEntry);
      ref = resolvePath(appPath, parsed.privateKeys!);
    } catch (err) {
      problems.push(new Pkcs15Error('CARD_PKCS15_MALFORMED', odfName, object, `not a Path (${(err as Error).message})`));
      continue;
    }
    const key = pathHex(ref.path) + (ref.index === undefined ? '' : `@${ref.index}`);
    if (seen.has(key)) {
      problems.push(new Pkcs15Error('CARD_PKCS15_REFERENCE_CYCLE', odfName, object, `${kind} at ${pathHex(ref.path)} names a file already read (EF.DIR, ODF, TokenInfo or another directory); ignored`));
      continue;
    }
    seen.add(key);
    directories.push({ kind, file: ref });
  }

  // 3. Each directory file's entries.
  const pins: Pkcs15Pin[] = [];
  const rawKeys: Array<Omit<Pkcs15PrivateKey, 'pin'>> = [];
  const publicKeys: Pkcs15PublicKey[] = [];
  const certificates: Pkcs15Certificate[] = [];
  const dataObjects: Pkcs15DataObject[] = [];
  for (const d of directories) {
    if (!['aodf', 'prkdf', 'pukdf', 'cdf', 'trustedCdf', 'usefulCdf', 'dodf'].includes(d.kind)) continue;
    const name = `${d.kind.toUpperCase()} ${pathHex(d.file.path)}`;
    let content: Uint8Array;
    try {
      content = await readReference(src, d.file, name, undefined);
    } catch (err) {
      if (err instanceof Pkcs15Error) {
        problems.push(err);
        continue;
      }
      throw err;
    }
    let entries;
    try {
      entries = splitDirectoryFile(content, name);
    } catch (err) {
      problems.push(err as Pkcs15Error);
      continue;
    }
    for (const [i, e] of entries.entries()) {
      const where = `${name} entry ${i}`;
      try {
        switch (d.kind) {
          case 'aodf': {
            const p = parsePin(e.der, e.tag, name, i, appPath);
            if (p) pins.push(p);
            break;
          }
          case 'prkdf':
            rawKeys.push(parsePrivateKey(e.der, e.tag, name, i, appPath, where));
            break;
          case 'pukdf':
            publicKeys.push(parsePublicKey(e.der, e.tag, name, i, appPath, where));
            break;
          case 'dodf':
            dataObjects.push(parseDataObject(e.der, e.tag, name, i, appPath, where));
            break;
          default:
            certificates.push(parseCertificate(e.der, e.tag, name, i, appPath, where, d.kind === 'trustedCdf'));
        }
      } catch (err) {
        if (err instanceof Pkcs15Error) problems.push(err);
        else problems.push(new Pkcs15Error('CARD_PKCS15_MALFORMED', name, `entry ${i}`, `does not decode (${(err as Error).message}); ignored`));
      }
    }
  }

  // 4. Map every private key to its PIN (card-protocols.md §2.8 step 3).
  const privateKeys: Pkcs15PrivateKey[] = rawKeys.map((k) => {
    const pin = k.authId ? pins.find((p) => sameBytes(p.authId, k.authId!)) : undefined;
    if (!pin) {
      const [file, object] = splitWhere(k);
      problems.push(
        new Pkcs15Error(
          'CARD_PKCS15_KEY_WITHOUT_PIN',
          file,
          object,
          k.authId ? `authId ${Buffer.from(k.authId).toString('hex')} matches no PIN in the AODF` : 'has no authId: no PIN protects it',
          'A CA key must be PIN-protected: re-create it with `pkcs15-init --generate-key … --auth-id 01`, or fix the AODF.',
        ),
      );
    }
    return { ...k, pin };
  });

  return { aid, path: appPath, dirLabel, tokenInfo, directories, pins, privateKeys, publicKeys, certificates, dataObjects, problems };
}

function splitWhere(k: { where: string; label: string | undefined; id: Uint8Array }): [string, string] {
  const m = /^(.*) (entry \d+)$/.exec(k.where);
  const obj = `${m ? m[2] : ''} (label "${k.label ?? ''}", iD ${Buffer.from(k.id).toString('hex')})`.trim();
  return [m ? m[1]! : k.where, obj];
}

/**
 * Read what a reference names: the EF, or its [index, index+length) slice. A missing file is a
 * dangling path; a slice past the EF's end, or a length above MAX_OBJECT_LENGTH, an oversized one.
 */
export async function readReference(src: Pkcs15FileSource, ref: FileReference, file: string, object: string | undefined): Promise<Uint8Array> {
  if ((ref.length ?? 0) > MAX_OBJECT_LENGTH || (ref.index ?? 0) > MAX_OBJECT_LENGTH) {
    throw new Pkcs15Error('CARD_PKCS15_REFERENCE_TOO_LARGE', file, object, `reference to ${pathHex(ref.path)} asks for ${ref.length ?? 0} bytes at ${ref.index ?? 0}, beyond any EF`);
  }
  const content = await src.readEf(ref.path);
  if (!content) throw new Pkcs15Error('CARD_PKCS15_DANGLING_PATH', file, object, `names ${pathHex(ref.path)}, which does not exist on the card`);
  if (ref.index === undefined && ref.length === undefined) return content;
  const start = ref.index ?? 0;
  const end = ref.length === undefined ? content.length : start + ref.length;
  if (end > content.length) {
    throw new Pkcs15Error('CARD_PKCS15_REFERENCE_TOO_LARGE', file, object, `reference to ${pathHex(ref.path)} asks for bytes ${start}..${end} but the EF holds ${content.length}`);
  }
  return content.subarray(start, end);
}

/** The DER object at the start of a padded EF (TokenInfo, certificates, public keys). */
export function trimDer(content: Uint8Array): Uint8Array {
  const [e] = splitDirectoryFile(content, 'EF');
  return e ? e.der.slice() : content;
}

/** ODF entries differ only in their context tag; parse them all through one declared class. */
function retag(der: Uint8Array, tag: number): Uint8Array {
  const out = der.slice();
  out[0] = tag;
  return out;
}

function unknown(name: string, i: number, tag: number, what: string): Pkcs15Error {
  return new Pkcs15Error('CARD_PKCS15_UNKNOWN_OBJECT', name, `entry ${i} (tag ${tag.toString(16).toUpperCase()})`, `is not ${what} cardca knows; ignored`);
}

function objectValue(v: ObjectValue, appPath: Uint8Array): ObjectReference {
  if (v.indirect) return { file: resolvePath(appPath, v.indirect) };
  if (v.direct) return { direct: bytes(v.direct) };
  throw new RangeError('ObjectValue is neither a path nor direct');
}

function parsePin(der: Uint8Array, tag: number, name: string, i: number, appPath: Uint8Array): Pkcs15Pin | undefined {
  // AuthenticationType: pin is the untagged SEQUENCE; biometric [0], authKey [1], external [2] are not PINs.
  if (tag !== 0x30) throw unknown(name, i, tag, 'a PIN object');
  const o = AsnConvert.parse(der, PinObject);
  const a = o.typeAttributes;
  const authId = o.classAttributes.authId;
  if (!authId) throw new Pkcs15Error('CARD_PKCS15_MALFORMED', name, `entry ${i} (label "${o.commonObjectAttributes.label ?? ''}")`, 'PIN without authId; ignored');
  const flags = a.pinFlags.toNumber();
  return {
    label: o.commonObjectAttributes.label,
    authId: bytes(authId.buffer),
    reference: a.pinReference ?? 0,
    flags,
    pinType: a.pinType,
    minLength: a.minLength,
    storedLength: a.storedLength,
    maxLength: a.maxLength,
    padChar: a.padChar ? bytes(a.padChar.buffer)[0] : undefined,
    path: a.path ? resolvePath(appPath, a.path).path : undefined,
    so: (flags & PinFlags.soPin) !== 0,
    unblocking: (flags & PinFlags.unblockingPin) !== 0,
  };
}

function parsePrivateKey(der: Uint8Array, tag: number, name: string, i: number, appPath: Uint8Array, where: string): Omit<Pkcs15PrivateKey, 'pin'> {
  if (tag !== 0x30 && tag !== 0xa0) throw unknown(name, i, tag, 'an RSA or EC private key');
  const { rawPath, ...e } = parsePrivateKeyEntry(der);
  return { ...e, path: rawPath.length === 0 ? undefined : resolvePath(appPath, new Pkcs15Path({ path: new OctetString(rawPath) })).path, where };
}

function parsePublicKey(der: Uint8Array, tag: number, name: string, i: number, appPath: Uint8Array, where: string): Pkcs15PublicKey {
  if (tag !== 0x30 && tag !== 0xa0) throw unknown(name, i, tag, 'an RSA or EC public key');
  const t = AsnConvert.parse(der, PublicKeyType);
  if (t.publicRSAKey) {
    const o = t.publicRSAKey;
    return { kind: 'rsa', label: o.commonObjectAttributes.label, id: bytes(o.classAttributes.iD.buffer), size: o.typeAttributes.modulusLength, value: objectValue(o.typeAttributes.value, appPath), where };
  }
  const o = t.publicECKey!;
  return { kind: 'ec', label: o.commonObjectAttributes.label, id: bytes(o.classAttributes.iD.buffer), size: undefined, value: objectValue(o.typeAttributes.value, appPath), where };
}

function parseDataObject(der: Uint8Array, tag: number, name: string, i: number, appPath: Uint8Array, where: string): Pkcs15DataObject {
  // externalIDO [0] and oidDO [1] carry no value cardca reads.
  if (tag !== 0x30) throw unknown(name, i, tag, 'an opaque data object');
  const o = AsnConvert.parse(der, DataType).opaqueDO!;
  const authId = o.commonObjectAttributes.authId;
  return {
    label: o.commonObjectAttributes.label,
    applicationName: o.classAttributes.applicationName,
    authId: authId ? bytes(authId.buffer) : undefined,
    value: objectValue(o.typeAttributes, appPath),
    where,
  };
}

function parseCertificate(der: Uint8Array, tag: number, name: string, i: number, appPath: Uint8Array, where: string, trusted: boolean): Pkcs15Certificate {
  if (tag !== 0x30) throw unknown(name, i, tag, 'an X.509 certificate');
  const o = AsnConvert.parse(der, CertificateType).x509Certificate!;
  return {
    label: o.commonObjectAttributes.label,
    id: bytes(o.classAttributes.iD.buffer),
    authority: o.classAttributes.authority ?? trusted,
    value: objectValue(o.typeAttributes.value, appPath),
    where,
  };
}
