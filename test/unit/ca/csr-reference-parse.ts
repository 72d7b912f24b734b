/**
 * The asn1-schema parseCsr that src/ca/csr/parse-csr.ts replaced (main 8384aae, verbatim but for
 * import paths): the reference of the differential test (csr-differential.test.ts). Its DER check
 * was "a re-encoding gives the same bytes".
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { BasicConstraints, Extensions, GeneralNames } from '@peculiar/asn1-x509';
import { bytesEqual } from '../../../src/common/hex.js';
import { verifySignature } from '../../../src/crypto/algorithms.js';
import { CsrError } from '../../../src/ca/errors.js';
import { children, readSingle, slice, value, type Tlv } from '../../../src/ca/x509/der.js';
import type { SanEntry } from '../../../src/ca/x509/extensions.js';
import { canonicalSpki } from '../../../src/ca/x509/canonical-spki.js';
import { spkiSha256 } from '../../../src/ca/x509/key-identifier.js';
import { decodeName } from '../../../src/ca/x509/name.js';
import { id_ce } from '../../../src/ca/x509/oids.js';
import { signatureAlgorithmFromIdentifier } from '../../../src/ca/x509/signature-algorithm-identifier.js';
import type { ParsedCsr } from '../../../src/ca/csr/parsed-csr.js';

/** Largest CSR accepted, in bytes of input (PEM or DER). A 4096-bit RSA CSR is under 2 KiB. */
const MAX_CSR_BYTES = 64 * 1024;

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
 * with a valid armour, no trailing bytes, DER only (re-encoding must give the same bytes),
 * version 0, a strong signature algorithm, and a valid self-signature (proof of possession).
 * A request for a CA certificate (basicConstraints cA=TRUE, keyUsage keyCertSign/cRLSign) is
 * refused outright. Key policy is separate: `checkCsrKeyPolicy`.
 */
export function referenceParseCsr(input: Uint8Array | string, opts: ParseCsrOptions = {}): ParsedCsr {
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
  try {
    parts = children(der, top);
    if (top.tag !== 0x30 || parts.length !== 3 || parts[0]!.tag !== 0x30 || parts[1]!.tag !== 0x30 || parts[2]!.tag !== 0x03) {
      throw new Error('not SEQUENCE { certificationRequestInfo, signatureAlgorithm, BIT STRING }');
    }
    infoParts = children(der, parts[0]!);
  } catch (e) {
    throw new CsrError('CSR_MALFORMED', `CSR structure is wrong: ${(e as Error).message}`, { cause: e, hint: 'Regenerate the CSR.' });
  }
  let csr: CertificationRequest;
  try {
    csr = AsnConvert.parse(der, CertificationRequest);
  } catch (e) {
    throw new CsrError('CSR_MALFORMED', `CSR does not parse as PKCS#10: ${(e as Error).message}`, { cause: e, hint: 'Regenerate the CSR.' });
  }
  // DER is the only encoding accepted (X.690 §10): a canonical re-encoding must equal the input.
  let reencoded: Uint8Array | undefined;
  try {
    reencoded = new Uint8Array(AsnConvert.serialize(csr));
  } catch {
    reencoded = undefined;
  }
  if (!reencoded || !bytesEqual(reencoded, der)) {
    throw new CsrError('CSR_NOT_DER', 'CSR is not in canonical DER (BER or non-minimal encoding)', { hint: 'Regenerate the CSR with a standard tool (openssl req).' });
  }
  const info = csr.certificationRequestInfo;
  if (info.version !== 0) throw new CsrError('CSR_BAD_VERSION', `CSR version ${info.version} is not v1 (0)`, { hint: 'Regenerate the CSR.' });

  const algDer = slice(der, parts[1]!);
  const algOid = csr.signatureAlgorithm.algorithm;
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
  const spki = slice(der, infoParts[2]!);
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
  const { sans, ignored, oids } = requestedExtensions(csr);
  return {
    der: der.slice(),
    infoDer: infoDer.slice(),
    subject: decodeName(subjectName),
    subjectName: subjectName.slice(),
    spki: spki.slice(),
    spkiSha256: spkiSha256(spki),
    signatureAlgorithm,
    sans,
    ignoredSanTypes: ignored,
    requestedExtensions: oids,
  };
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

function requestedExtensions(csr: CertificationRequest): { sans: SanEntry[]; ignored: string[]; oids: string[] } {
  const sans: SanEntry[] = [];
  const ignored: string[] = [];
  const oids: string[] = [];
  const attrs = csr.certificationRequestInfo.attributes.filter((a) => a.type === id_extensionRequest);
  if (attrs.length > 1 || (attrs[0] && attrs[0].values.length !== 1)) {
    throw new CsrError('CSR_MALFORMED', 'CSR has more than one extensionRequest', { hint: 'Regenerate the CSR.' });
  }
  if (!attrs[0]) return { sans, ignored, oids };
  let exts: Extensions;
  try {
    exts = AsnConvert.parse(attrs[0].values[0]!, Extensions);
  } catch (e) {
    throw new CsrError('CSR_MALFORMED', 'CSR extensionRequest does not parse', { cause: e, hint: 'Regenerate the CSR.' });
  }
  // The attribute value is opaque to the CSR-level re-encoding check: check it on its own.
  if (!bytesEqual(new Uint8Array(AsnConvert.serialize(exts)), new Uint8Array(attrs[0].values[0]!))) {
    throw new CsrError('CSR_NOT_DER', 'CSR extensionRequest is not in canonical DER', { hint: 'Regenerate the CSR with a standard tool (openssl req).' });
  }
  for (const e of exts) {
    if (oids.includes(e.extnID)) throw new CsrError('CSR_MALFORMED', `CSR requests extension ${e.extnID} twice`, { hint: 'Regenerate the CSR.' });
    oids.push(e.extnID);
    const v = new Uint8Array(e.extnValue.buffer);
    try {
      if (e.extnID === id_ce.basicConstraints) {
        if (AsnConvert.parse(v, BasicConstraints).cA) {
          throw new CsrError('CSR_CA_REQUESTED', 'CSR asks for a CA certificate (basicConstraints cA=TRUE)', {
            hint: 'Sub-CAs are made in a ceremony, never from a CSR. Remove basicConstraints CA:TRUE.',
          });
        }
      } else if (e.extnID === id_ce.keyUsage) {
        const t = readSingle(v);
        const c = value(v, t);
        // keyCertSign is bit 5, cRLSign bit 6 (RFC 5280 §4.2.1.3), both in the first octet.
        if (t.tag === 0x03 && c.length > 1 && c[1]! & 0x06) {
          throw new CsrError('CSR_CA_REQUESTED', 'CSR asks for keyCertSign/cRLSign key usage', { hint: 'Remove keyCertSign and cRLSign from the request.' });
        }
      } else if (e.extnID === id_ce.subjectAltName) {
        for (const gn of AsnConvert.parse(v, GeneralNames)) {
          if (gn.dNSName !== undefined) sans.push({ type: 'dns', value: gn.dNSName });
          else if (gn.iPAddress !== undefined) sans.push({ type: 'ip', value: gn.iPAddress });
          else if (gn.rfc822Name !== undefined) sans.push({ type: 'email', value: gn.rfc822Name });
          else if (gn.uniformResourceIdentifier !== undefined) sans.push({ type: 'uri', value: gn.uniformResourceIdentifier });
          else ignored.push(Object.keys(gn).find((k) => (gn as unknown as Record<string, unknown>)[k] !== undefined) ?? 'unknown');
        }
      }
    } catch (err) {
      if (err instanceof CsrError) throw err;
      throw new CsrError('CSR_MALFORMED', `CSR extension ${e.extnID} does not parse`, { cause: err, hint: 'Regenerate the CSR.' });
    }
  }
  return { sans, ignored, oids };
}
