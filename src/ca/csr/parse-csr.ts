import { verifySignature } from '../../crypto/algorithms.js';
import { CsrError } from '../errors.js';
import { children, decodeOid, DerError, readSingle, slice, value, walkDer, type Tlv } from '../x509/der.js';
import { OTHER_GENERAL_NAMES, type SanEntry } from '../x509/extensions.js';
import { ipText } from '../x509/ip-address.js';
import { canonicalSpki } from '../x509/canonical-spki.js';
import { spkiSha256 } from '../x509/key-identifier.js';
import { decodeName } from '../x509/name.js';
import { id_ce } from '../x509/oids.js';
import { signatureAlgorithmFromIdentifier } from '../x509/signature-algorithm-identifier.js';
import type { ParsedCsr } from './parsed-csr.js';

/** Largest CSR accepted, in bytes of input (PEM or DER). A 4096-bit RSA CSR is under 2 KiB. */
export const MAX_CSR_BYTES = 64 * 1024;

const id_extensionRequest = '1.2.840.113549.1.9.14';

/** Signature algorithms refused as weak (RFC 6151 MD5, SHAttered for SHA-1; BR 7.1.3.2). */
const WEAK_SIGNATURE_OIDS: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10040.4.3': 'dsa-with-sha1',
  '1.3.14.3.2.29': 'sha1WithRSASignature (OIW)',
};

export interface ParseCsrOptions {
  readonly maxBytes?: number;
}

/**
 * Parse a PKCS#10 CSR (RFC 2986) from PEM text or DER bytes, strictly: size cap, one PEM block
 * with a valid armour, no trailing bytes, DER only, version 0, a strong signature algorithm, and
 * a valid self-signature (proof of possession). A request for a CA certificate (basicConstraints
 * cA=TRUE, keyUsage keyCertSign/cRLSign) is refused outright. Key policy is separate:
 * `checkCsrKeyPolicy`.
 *
 * DER (X.690 §10) is checked field by field on the strict reader (common/der.ts), not by
 * re-encoding: every TLV of the request and of each requested extension value it reads is
 * walked (definite, minimal lengths, children exactly filling their parent, no trailing bytes),
 * every field has its one tag (X.690 §8), INTEGER and OBJECT IDENTIFIER content is minimal
 * (§8.3.2, §8.19.2), a BOOLEAN is 00 or FF (§11.1) and a DEFAULT value is never encoded (§11.5).
 */
export function parseCsr(input: Uint8Array | string, opts: ParseCsrOptions = {}): ParsedCsr {
  const max = opts.maxBytes ?? MAX_CSR_BYTES;
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.length;
  if (size > max) {
    throw new CsrError('CSR_TOO_LARGE', `CSR is ${size} bytes; the limit is ${max}`, { hint: 'Check that you passed the CSR file and not something else.' });
  }
  const der = toDer(input);

  let top: Tlv;
  try {
    top = readSingle(der);
  } catch (e) {
    const msg = (e as Error).message;
    if (/trailing/.test(msg)) throw new CsrError('CSR_TRAILING_DATA', `CSR has data after its end: ${msg}`, { hint: 'Remove whatever was appended to the CSR.' });
    throw new CsrError('CSR_MALFORMED', `CSR is not valid DER: ${msg}`, { cause: e, hint: 'Regenerate the CSR.' });
  }
  let parts: Tlv[];
  let infoParts: Tlv[];
  let attrs: Tlv[];
  try {
    parts = children(der, top);
    if (top.tag !== 0x30 || parts.length !== 3 || parts[0]!.tag !== 0x30 || parts[1]!.tag !== 0x30 || parts[2]!.tag !== 0x03) {
      throw new Error('not SEQUENCE { certificationRequestInfo, signatureAlgorithm, BIT STRING }');
    }
    infoParts = children(der, parts[0]!);
    // CertificationRequestInfo ::= SEQUENCE { version INTEGER, subject Name, subjectPKInfo, attributes [0] IMPLICIT SET OF Attribute }
    if (infoParts.length !== 4 || infoParts[0]!.tag !== 0x02 || infoParts[1]!.tag !== 0x30 || infoParts[2]!.tag !== 0x30 || infoParts[3]!.tag !== 0xa0) {
      throw new Error('certificationRequestInfo is not SEQUENCE { INTEGER, Name, SubjectPublicKeyInfo, [0] attributes }');
    }
    checkName(der, infoParts[1]!);
    attrs = children(der, infoParts[3]!).map((a) => {
      const av = a.tag === 0x30 ? children(der, a) : [];
      if (av.length !== 2 || av[0]!.tag !== 0x06 || av[1]!.tag !== 0x31) throw new Error('an attribute is not SEQUENCE { OID, SET }');
      checkOid(der, av[0]!);
      return a;
    });
    const alg = children(der, parts[1]!);
    if (alg.length < 1 || alg.length > 2 || alg[0]!.tag !== 0x06) throw new Error('signatureAlgorithm is not SEQUENCE { OID, parameters }');
    checkOid(der, alg[0]!);
  } catch (e) {
    throw new CsrError('CSR_MALFORMED', `CSR structure is wrong: ${(e as Error).message}`, { cause: e, hint: 'Regenerate the CSR.' });
  }
  // Every nested TLV (Name values, SPKI, attribute values) read strictly: definite minimal
  // lengths, no overruns (X.690 §10.1). A BER length form is "not DER", not a broken structure.
  derWalk(der, top);
  const bad = derPrimitiveProblem(der, top);
  if (bad) throw new CsrError('CSR_NOT_DER', `CSR is not in canonical DER: ${bad}`, { hint: 'Regenerate the CSR with a standard tool (openssl req).' });
  const version = value(der, infoParts[0]!);
  if (!minimalInteger(version)) throw new CsrError('CSR_NOT_DER', 'CSR version is not a minimal DER INTEGER', { hint: 'Regenerate the CSR with a standard tool (openssl req).' });
  if (version.length !== 1 || version[0] !== 0) throw new CsrError('CSR_BAD_VERSION', `CSR version ${integerText(version)} is not v1 (0)`, { hint: 'Regenerate the CSR.' });

  const algDer = slice(der, parts[1]!);
  const algOid = decodeOid(value(der, children(der, parts[1]!)[0]!));
  if (WEAK_SIGNATURE_OIDS[algOid]) {
    throw new CsrError('CSR_WEAK_SIGNATURE', `CSR is signed with ${WEAK_SIGNATURE_OIDS[algOid]}`, { hint: 'Sign the CSR with SHA-256 or stronger.' });
  }
  const signatureAlgorithm = signatureAlgorithmFromIdentifier(algDer);
  if (!signatureAlgorithm) {
    throw new CsrError('CSR_UNSUPPORTED_ALGORITHM', `CSR signature algorithm ${algOid} (with these parameters) is not supported`, {
      hint: 'Use RSA PKCS#1 v1.5 or PSS (salt length = hash length) with SHA-256/384/512, or ECDSA with SHA-256/384.',
    });
  }
  const infoDer = slice(der, parts[0]!);
  // The returned copy, verified here: the KeyObject made for proof of possession is the one key
  // policy and the content decision use (crypto/public-key-object.ts caches per buffer).
  const spki = slice(der, infoParts[2]!).slice();
  const bits = value(der, parts[2]!);
  let ok = false;
  try {
    ok = bits.length > 1 && bits[0] === 0 && verifySignature(spki, signatureAlgorithm, infoDer, bits.subarray(1));
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new CsrError('CSR_BAD_SIGNATURE', 'CSR signature does not verify with its own public key (no proof of possession)', {
      hint: 'The CSR was altered or signed with another key; regenerate it.',
    });
  }

  // One key, one encoding (RFC 3279 §2.3.1, RFC 5480 §2.1.1/§2.2): a CSR whose SPKI is not the
  // canonical DER of its key is refused, so the certificate never carries attacker-chosen bytes.
  let spkiCheck;
  try {
    spkiCheck = canonicalSpki(spki);
  } catch (e) {
    throw new CsrError('KEY_MALFORMED', `the CSR public key is not a SubjectPublicKeyInfo: ${(e as Error).message}`, { cause: e, hint: 'Regenerate the CSR.' });
  }
  if (spkiCheck.problems.length > 0) {
    throw new CsrError('CSR_SPKI_NOT_CANONICAL', `the CSR public key is not in canonical form: ${spkiCheck.problems.map((p) => `${p.rule} (${p.message})`).join('; ')}`, {
      hint: 'Regenerate the CSR with a standard tool (openssl req): RSA keys with NULL parameters, EC keys on a named curve, uncompressed.',
      details: { rules: spkiCheck.problems.map((p) => p.rule) },
    });
  }

  const subjectName = slice(der, infoParts[1]!);
  let subject;
  try {
    subject = decodeName(subjectName);
  } catch (e) {
    throw new CsrError('CSR_MALFORMED', `CSR subject does not parse: ${(e as Error).message}`, { cause: e, hint: 'Regenerate the CSR.' });
  }
  const { sans, ignored, oids } = requestedExtensions(der, attrs);
  return {
    der: der.slice(),
    infoDer: infoDer.slice(),
    subject,
    subjectName: subjectName.slice(),
    spki,
    spkiSha256: spkiSha256(spki),
    signatureAlgorithm,
    sans,
    ignoredSanTypes: ignored,
    requestedExtensions: oids,
  };
}

/** `walkDer` with its BER-length findings as CSR_NOT_DER and anything else as CSR_MALFORMED. */
function derWalk(buf: Uint8Array, t: Tlv, what = 'CSR'): void {
  try {
    walkDer(buf, t);
  } catch (e) {
    if (e instanceof DerError && /indefinite|non-minimal/.test(e.message)) {
      throw new CsrError('CSR_NOT_DER', `${what} is not in canonical DER: ${e.message}`, { hint: 'Regenerate the CSR with a standard tool (openssl req).' });
    }
    throw new CsrError('CSR_MALFORMED', `${what} is not valid DER: ${(e as Error).message}`, { cause: e, hint: 'Regenerate the CSR.' });
  }
}

/**
 * The DER rules for universal types, on every TLV of the request outside OCTET/BIT STRING
 * contents (X.690 §10.2: strings primitive; §11.1 BOOLEAN 00/FF; §8.3.2 minimal INTEGER; §8.8.2
 * NULL empty; §8.19.2 minimal OID subidentifiers; §11.2.1 BIT STRING padding bits zero).
 * Undefined when all hold.
 */
function derPrimitiveProblem(buf: Uint8Array, t: Tlv): string | undefined {
  const universal = (t.tag & 0xc0) === 0;
  if (t.tag & 0x20) {
    if (universal && t.tag !== 0x30 && t.tag !== 0x31) return `constructed universal tag ${t.tag.toString(16)} at offset ${t.start}`;
    for (const c of children(buf, t)) {
      const p = derPrimitiveProblem(buf, c);
      if (p) return p;
    }
    return undefined;
  }
  if (!universal) return undefined;
  const c = value(buf, t);
  const at = ` at offset ${t.start}`;
  switch (t.tag) {
    case 0x01:
      return c.length === 1 && (c[0] === 0 || c[0] === 0xff) ? undefined : `BOOLEAN not 00 or FF${at}`;
    case 0x02:
      return minimalInteger(c) ? undefined : `INTEGER not minimal${at}`;
    case 0x05:
      return c.length === 0 ? undefined : `NULL with content${at}`;
    case 0x06:
      try {
        checkOid(buf, t);
        return undefined;
      } catch (e) {
        return `${(e as Error).message}${at}`;
      }
    case 0x03: {
      if (c.length === 0 || c[0]! > 7 || (c.length === 1 && c[0] !== 0)) return `BIT STRING unused-bits octet wrong${at}`;
      const pad = (1 << c[0]!) - 1;
      return c.length > 1 && c[c.length - 1]! & pad ? `BIT STRING padding bits not zero${at}` : undefined;
    }
    default:
      return undefined;
  }
}

/** X.690 §8.3.2: no 9 leading bits all equal. */
function minimalInteger(c: Uint8Array): boolean {
  if (c.length === 0) return false;
  if (c.length === 1) return true;
  return !((c[0] === 0x00 && !(c[1]! & 0x80)) || (c[0] === 0xff && c[1]! & 0x80));
}

function integerText(c: Uint8Array): string {
  return c.length <= 6 ? String(c.reduce((v, b, i) => v * 256 + (i === 0 && b & 0x80 ? b - 256 : b), 0)) : `0x${Buffer.from(c).toString('hex')}`;
}

/** OBJECT IDENTIFIER content: non-empty, every subidentifier minimal (X.690 §8.19.2). */
function checkOid(buf: Uint8Array, t: Tlv): void {
  const c = value(buf, t);
  if (c.length === 0 || c[c.length - 1]! & 0x80) throw new Error('an OBJECT IDENTIFIER is empty or cut');
  for (let i = 0; i < c.length; i++) {
    if (c[i] === 0x80 && (i === 0 || !(c[i - 1]! & 0x80))) throw new Error('an OBJECT IDENTIFIER subidentifier is not minimal');
  }
}

/** Name ::= SEQUENCE OF SET OF SEQUENCE { OID, value } (RFC 5280 §4.1.2.4), tags only. */
function checkName(buf: Uint8Array, name: Tlv): void {
  for (const rdn of children(buf, name)) {
    const atvs = rdn.tag === 0x31 ? children(buf, rdn) : [];
    if (atvs.length === 0) throw new Error('the subject has an RDN that is not a non-empty SET');
    for (const atv of atvs) {
      const tv = atv.tag === 0x30 ? children(buf, atv) : [];
      if (tv.length !== 2 || tv[0]!.tag !== 0x06) throw new Error('a subject attribute is not SEQUENCE { OID, value }');
      checkOid(buf, tv[0]!);
    }
  }
}

function toDer(input: Uint8Array | string): Uint8Array {
  const text = typeof input === 'string' ? input : looksLikePem(input) ? Buffer.from(input).toString('latin1') : undefined;
  if (text === undefined) return input as Uint8Array;
  const re = /-----BEGIN ((?:NEW )?CERTIFICATE REQUEST)-----\r?\n([A-Za-z0-9+/=\r\n]*?)-----END ((?:NEW )?CERTIFICATE REQUEST)-----/g;
  const blocks = [...text.matchAll(re)];
  const anyBegin = (text.match(/-----BEGIN /g) ?? []).length;
  if (blocks.length !== 1 || anyBegin !== 1) {
    throw new CsrError('CSR_BAD_PEM', `expected exactly one PEM CERTIFICATE REQUEST block, found ${blocks.length} (of ${anyBegin} PEM blocks)`, {
      hint: 'Pass a single CSR, PEM ("-----BEGIN CERTIFICATE REQUEST-----") or DER.',
    });
  }
  const m = blocks[0]!;
  if (m[1] !== m[3]) throw new CsrError('CSR_BAD_PEM', 'PEM BEGIN and END labels differ');
  const after = text.slice(m.index! + m[0].length);
  if (after.trim() !== '') throw new CsrError('CSR_TRAILING_DATA', 'there is text after the PEM END line', { hint: 'Remove whatever was appended to the CSR.' });
  const lines = m[2]!.split(/\r?\n/).filter((l) => l !== '');
  // RFC 7468 §2: lines of at most 64 characters; padding only at the end.
  const body = lines.join('');
  if (lines.some((l) => l.length > 76) || !/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0 || body.length === 0) {
    throw new CsrError('CSR_BAD_PEM', 'PEM body is not valid base64', { hint: 'The CSR file is damaged; regenerate or re-copy it.' });
  }
  const der = new Uint8Array(Buffer.from(body, 'base64'));
  if (Buffer.from(der).toString('base64') !== body) throw new CsrError('CSR_BAD_PEM', 'PEM body is not canonical base64');
  return der;
}

function looksLikePem(b: Uint8Array): boolean {
  const head = Buffer.from(b.subarray(0, 200)).toString('latin1');
  return head.trimStart().startsWith('-----BEGIN');
}

/** Content of a single DER value inside an extension (strict walk), for the checks below. */
function extValue(v: Uint8Array, oid: string): Tlv {
  let t: Tlv;
  try {
    t = readSingle(v);
  } catch (e) {
    throw new CsrError('CSR_MALFORMED', `CSR extension ${oid} does not parse: ${(e as Error).message}`, { cause: e, hint: 'Regenerate the CSR.' });
  }
  derWalk(v, t, `CSR extension ${oid}`);
  return t;
}

const notDer = (what: string): CsrError =>
  new CsrError('CSR_NOT_DER', `CSR ${what} is not in canonical DER`, { hint: 'Regenerate the CSR with a standard tool (openssl req).' });
const malformed = (what: string): CsrError => new CsrError('CSR_MALFORMED', `CSR ${what} does not parse`, { hint: 'Regenerate the CSR.' });

function requestedExtensions(der: Uint8Array, attrs: readonly Tlv[]): { sans: SanEntry[]; ignored: string[]; oids: string[] } {
  const sans: SanEntry[] = [];
  const ignored: string[] = [];
  const oids: string[] = [];
  const ext = attrs.map((a) => children(der, a)).filter(([t]) => decodeOid(value(der, t!)) === id_extensionRequest);
  const values = ext[0] ? children(der, ext[0][1]!) : [];
  if (ext.length > 1 || (ext[0] && values.length !== 1)) {
    throw new CsrError('CSR_MALFORMED', 'CSR has more than one extensionRequest', { hint: 'Regenerate the CSR.' });
  }
  if (!ext[0]) return { sans, ignored, oids };
  // Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
  const seq = values[0]!;
  const exts = seq.tag === 0x30 ? children(der, seq) : undefined;
  if (!exts || exts.length === 0) throw malformed('extensionRequest');
  for (const e of exts) {
    const f = e.tag === 0x30 ? children(der, e) : [];
    const crit = f.length === 3 ? f[1]! : undefined;
    const octets = f[f.length - 1];
    if (f.length < 2 || f.length > 3 || f[0]!.tag !== 0x06 || octets?.tag !== 0x04 || (crit && crit.tag !== 0x01)) throw malformed('extensionRequest');
    try {
      checkOid(der, f[0]!);
    } catch {
      throw malformed('extensionRequest');
    }
    const extnID = decodeOid(value(der, f[0]!));
    if (crit) {
      const b = value(der, crit);
      if (b.length !== 1) throw malformed(`extension ${extnID}`);
      // X.690 §11.1 TRUE is FF; §11.5 the DEFAULT FALSE is never encoded.
      if (b[0] !== 0xff) throw notDer('extensionRequest');
    }
    if (oids.includes(extnID)) throw new CsrError('CSR_MALFORMED', `CSR requests extension ${extnID} twice`, { hint: 'Regenerate the CSR.' });
    oids.push(extnID);
    const v = value(der, octets);
    if (extnID === id_ce.basicConstraints) {
      // BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }
      const t = extValue(v, extnID);
      const bc = t.tag === 0x30 ? children(v, t) : undefined;
      if (!bc || bc.length > 2 || (bc[0] && bc[0].tag !== 0x01 && bc[0].tag !== 0x02) || (bc[1] && (bc[0]!.tag !== 0x01 || bc[1].tag !== 0x02))) throw malformed(`extension ${extnID}`);
      const ca = bc[0]?.tag === 0x01 ? value(v, bc[0]) : undefined;
      if (ca && ca.length !== 1) throw malformed(`extension ${extnID}`);
      if (ca && ca[0] !== 0) {
        throw new CsrError('CSR_CA_REQUESTED', 'CSR asks for a CA certificate (basicConstraints cA=TRUE)', {
          hint: 'Sub-CAs are made in a ceremony, never from a CSR. Remove basicConstraints CA:TRUE.',
        });
      }
      const path = bc.find((x) => x.tag === 0x02);
      if (path && !minimalInteger(value(v, path))) throw malformed(`extension ${extnID}`);
    } else if (extnID === id_ce.keyUsage) {
      const t = extValue(v, extnID);
      const c = value(v, t);
      // keyCertSign is bit 5, cRLSign bit 6 (RFC 5280 §4.2.1.3), both in the first octet.
      if (t.tag === 0x03 && c.length > 1 && c[1]! & 0x06) {
        throw new CsrError('CSR_CA_REQUESTED', 'CSR asks for keyCertSign/cRLSign key usage', { hint: 'Remove keyCertSign and cRLSign from the request.' });
      }
      if (t.tag !== 0x03 || c.length === 0 || c[0]! > 7 || (c.length === 1 && c[0] !== 0)) throw malformed(`extension ${extnID}`);
    } else if (extnID === id_ce.subjectAltName) {
      // GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName (RFC 5280 §4.2.1.6)
      const t = extValue(v, extnID);
      const gns = t.tag === 0x30 ? children(v, t) : undefined;
      if (!gns) throw malformed(`extension ${extnID}`);
      for (const gn of gns) {
        const c = value(v, gn);
        // rfc822Name [1], dNSName [2], uniformResourceIdentifier [6]: IMPLICIT IA5String, one octet a character.
        if (gn.tag === 0x82) sans.push({ type: 'dns', value: Buffer.from(c).toString('latin1') });
        else if (gn.tag === 0x87) {
          // iPAddress [7] OCTET STRING: 4 (IPv4) or 16 (IPv6) octets in a subjectAltName.
          if (c.length !== 4 && c.length !== 16) throw malformed(`extension ${extnID}`);
          sans.push({ type: 'ip', value: ipText(c) });
        } else if (gn.tag === 0x81) sans.push({ type: 'email', value: Buffer.from(c).toString('latin1') });
        else if (gn.tag === 0x86) sans.push({ type: 'uri', value: Buffer.from(c).toString('latin1') });
        else if (OTHER_GENERAL_NAMES[gn.tag]) ignored.push(OTHER_GENERAL_NAMES[gn.tag]!);
        else throw malformed(`extension ${extnID}`);
      }
    }
  }
  return { sans, ignored, oids };
}
