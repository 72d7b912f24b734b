import { createHash, createPublicKey } from 'node:crypto';
import { children, readSingle, slice, value, walkDer } from '../../../common/der.js';
import { toHex } from '../../../common/hex.js';
import { publicKeyTypeOfSpki, type PublicKeyType } from '../../../crypto/public-key-type.js';
import type { CardKeyEntry } from '../../card-service.js';
import { PcscError } from '../../errors.js';
import { parsePrivateKeyEntry, type PrivateKeyEntry } from '../../pkcs15/prkdf.js';
import { parseCvc } from './cv-request.js';
import { FID_PREFIX } from './sc-hsm-commands.js';

/** Reads one EF; `undefined` when the card answers 6A82 (file not found). */
export type EfReader = (fid: number) => Promise<Uint8Array | undefined>;

export const fidOf = (prefix: number, keyRef: number): number => (prefix << 8) | keyRef;
const hex4 = (fid: number): string => fid.toString(16).toUpperCase().padStart(4, '0');

/**
 * The EF where a certificate write-back stages the new certificate before it replaces `CE xx`
 * (see cert-write-back.ts). OpenSC lists `CA xx` files only through a `C8 xx` descriptor
 * (`pkcs15-sc-hsm.c`: the enumeration loop handles the CC, C8 and C9 prefixes only), so an
 * undescribed `CA xx` is invisible to OpenSC and ours to use.
 */
export const stagingFid = (keyRef: number): number => fidOf(FID_PREFIX.caCertificate, keyRef);

export interface ParsedPublicObject {
  readonly spki: Uint8Array;
  readonly keyType: PublicKeyType;
  readonly certificate: Uint8Array | undefined;
}

/** A `CE xx` / staging content: an X.509 certificate (`30`) or a CV request/certificate (`67`/`7F21`). */
export function parsePublicObject(bytes: Uint8Array): ParsedPublicObject {
  if (bytes[0] === 0x30) {
    const spki = certificateSpki(bytes);
    return { spki, keyType: publicKeyTypeOfSpki(spki), certificate: bytes };
  }
  const c = parseCvc(bytes);
  return { spki: c.spki, keyType: c.keyType, certificate: undefined };
}

/**
 * The subjectPublicKeyInfo of a DER certificate (RFC 5280 §4.1), on the strict DER reader: every
 * TLV well formed, nothing after the certificate (trailing bytes are a torn write, not a
 * certificate), the shape SEQUENCE { TBSCertificate, AlgorithmIdentifier, BIT STRING }. (The
 * asn1-schema parse and re-encode it replaces was most of the key discovery of every `ca sign`.)
 */
function certificateSpki(bytes: Uint8Array): Uint8Array {
  const top = readSingle(bytes);
  walkDer(bytes, top);
  const parts = children(bytes, top);
  const [tbs, alg, sig] = parts;
  if (parts.length !== 3 || tbs?.tag !== 0x30 || alg?.tag !== 0x30 || sig?.tag !== 0x03) throw new RangeError('not an X.509 certificate');
  const f = children(bytes, tbs);
  const spki = f[f[0]?.tag === 0xa0 ? 6 : 5];
  if (spki?.tag !== 0x30) throw new RangeError('certificate has no subjectPublicKeyInfo');
  return slice(bytes, spki).slice();
}

/**
 * OpenSC's intrinsic key iD for this public key: pkcs15init `select_intrinsic_id` with the
 * "mozilla" style that OpenSC's pkcs15.profile sets (`pkcs15-id-style = mozilla`; sc-hsm.profile
 * does not override it): SHA-1 of the RSA modulus, or SHA-1 of the X coordinate of the EC point
 * ("ID should be SHA1 of the X coordinate according to PKCS#15 v1.1", pkcs15-lib.c).
 */
export function intrinsicKeyId(spki: Uint8Array): Uint8Array {
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  let material: Uint8Array;
  if (key.asymmetricKeyType === 'rsa') {
    material = Buffer.from(key.export({ format: 'jwk' }).n!, 'base64url');
  } else {
    // subjectPublicKey is the point 04 ‖ X ‖ Y (RFC 5480 §2.2); the iD covers X only.
    const [, bits] = children(spki, readSingle(spki));
    const point = value(spki, bits!).subarray(1); // the BIT STRING's unused-bits octet first
    material = point.subarray(1, 1 + (point.length - 1) / 2);
  }
  return new Uint8Array(createHash('sha1').update(material).digest());
}

const why = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Read an EF, turning card refusals into a problem note; a removed card still throws. */
async function tryRead(read: EfReader, fid: number, problems: string[]): Promise<Uint8Array | undefined> {
  try {
    return await read(fid);
  } catch (e) {
    if (e instanceof PcscError) throw e;
    problems.push(`EF ${hex4(fid)} unreadable: ${why(e)}`);
    return undefined;
  }
}

/**
 * One key slot as OpenSC's `sc_pkcs15emu_sc_hsm_add_prkd` sees it: the key exists because
 * ENUMERATE listed `CC xx`; its PrKDF `C4 xx` and its certificate or CV request `CE xx` are read
 * directly, never looked up in the enumeration (a compatible card may list only CC/C4/C8/C9).
 * Nothing here throws for bad content: the key is listed with what is wrong with it.
 */
export async function discoverKey(read: EfReader, keyRef: number, hasDescriptor: (fid: number) => boolean): Promise<CardKeyEntry> {
  const problems: string[] = [];
  const prkdBytes = await tryRead(read, fidOf(FID_PREFIX.prkd, keyRef), problems);
  let prkd: PrivateKeyEntry | undefined;
  if (prkdBytes && prkdBytes.length > 0) {
    try {
      prkd = parsePrivateKeyEntry(prkdBytes);
    } catch (e) {
      problems.push(`PrKDF entry EF ${hex4(fidOf(FID_PREFIX.prkd, keyRef))} does not parse: ${why(e)}`);
    }
  }
  let pub: ParsedPublicObject | undefined;
  const ceFid = fidOf(FID_PREFIX.eeCertificate, keyRef);
  const ce = await tryRead(read, ceFid, problems);
  if (ce && ce.length > 0) {
    try {
      pub = parsePublicObject(ce);
    } catch (e) {
      problems.push(`EF ${hex4(ceFid)} does not hold a certificate or CV request: ${why(e)}`);
    }
  }
  if (!pub && !hasDescriptor(fidOf(FID_PREFIX.cd, keyRef))) {
    // An interrupted certificate write-back leaves the complete new certificate here.
    const staged = await tryRead(read, stagingFid(keyRef), []);
    if (staged && staged.length > 0 && staged[0] === 0x30) {
      try {
        pub = parsePublicObject(staged);
        problems.push(`certificate write-back was interrupted; finish it with \`ca card cert write --key-id ID FILE\``);
      } catch {
        /* a torn staging copy: CE xx is then intact or absent, reported above */
      }
    }
  }
  const label = prkd?.label ?? `key ${keyRef}`;
  if (!pub) {
    problems.unshift(`incomplete key in slot ${keyRef}: no readable public key (EF ${hex4(ceFid)} ${ce === undefined ? 'missing' : 'damaged'})`);
    const kind = prkd?.kind;
    return {
      id: prkd ? toHex(prkd.id) : '',
      keyRef,
      label,
      type: kind === 'rsa' && prkd?.size ? `rsa${prkd.size}` : kind === 'ec' ? `ec${prkd?.size ?? ''}` : 'unknown',
      bits: prkd?.size,
      algorithm: undefined,
      state: 'incomplete',
      usable: false,
      problems,
      publicKey: undefined,
      certificate: undefined,
    };
  }
  const t = pub.keyType;
  if (!t.algorithm) problems.push(`${t.type} keys are not used by cardca for signing (CA/B Forum BRs §6.1.5)`);
  return {
    id: toHex(prkd?.id ?? intrinsicKeyId(pub.spki)),
    keyRef,
    label,
    type: t.type,
    bits: t.bits,
    algorithm: t.algorithm,
    state: 'complete',
    usable: t.algorithm !== undefined,
    problems,
    publicKey: pub.spki,
    certificate: pub.certificate,
  };
}
