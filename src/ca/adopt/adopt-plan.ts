// @peculiar/x509 resolves its extension and algorithm classes through tsyringe, which needs the
// Reflect metadata polyfill loaded before it: this import must stay first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { bytesEqual, toHex } from '../../common/hex.js';
import { verifySignature } from '../../crypto/algorithms.js';
import type { SignatureAlgorithm } from '../../crypto/signer.js';
import { pemDecodeAll } from '../chain.js';
import type { CrlReason } from '../crl/tbs-cert-list-input.js';
import { CaError } from '../errors.js';
import { sha256 } from '../issuance.js';
import { children, readSingle, slice, value } from '../x509/der.js';
import { integerContentToBigint } from '../x509/integer.js';
import { spkiSha256 } from '../x509/key-identifier.js';
import { decodeName, formatName } from '../x509/name.js';
import { signatureAlgorithmFromIdentifier } from '../x509/signature-algorithm-identifier.js';
import type { AdoptSources, SourceFile } from './adopt-sources.js';
import { parseIndexTxt, parseNumberFile, serialHexOf, type IndexEntry } from './index-txt.js';

/**
 * Everything `ca adopt` will write, computed and checked before anything is written (issue #15
 * item 3): the CA certificate and its chain, every certificate file verified against the CA
 * key and matched against index.txt, every revocation, the CRL numbering, and the list of
 * discrepancies (refused unless the operator accepts them, and then recorded in the audit log).
 * Parsing and signature checks use @peculiar/x509, an implementation independent of cardca's
 * own DER code; exact bytes (TBS, serial octets, names) come from the DER itself.
 */
export interface AdoptedRevocation {
  readonly date: Date;
  readonly reason: CrlReason;
  readonly invalidityDate?: Date;
}

export interface AdoptedCertificate {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  readonly serial: Uint8Array;
  readonly serialHex: string;
  readonly subject: string;
  readonly sans: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly spki: Uint8Array;
  readonly spkiSha256: Uint8Array;
  readonly isCa: boolean;
  readonly revocation?: AdoptedRevocation;
  readonly file: string;
  readonly indexLine?: number;
  /** Signature algorithm the old CA used for it (for the derived profile). */
  readonly signatureAlgorithm?: SignatureAlgorithm;
  readonly parsed: x509.X509Certificate;
}

/** A serial the old CA recorded (index.txt or a CRL) whose certificate file is not there. */
export interface IndexOnlySerial {
  readonly serial: Uint8Array;
  readonly serialHex: string;
  readonly subject: string;
  readonly notAfter: Date;
  readonly revocation?: AdoptedRevocation;
  readonly where: string;
}

export interface AdoptedCrl {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  readonly crlNumber: bigint | undefined;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly entries: number;
  readonly file: string;
}

export type DiscrepancyKind = 'missing-file' | 'not-in-index' | 'subject-mismatch' | 'expiry-mismatch' | 'status-mismatch' | 'crl-lists-unknown';

export interface Discrepancy {
  readonly kind: DiscrepancyKind;
  readonly serialHex: string;
  readonly where: string;
  readonly detail: string;
}

export interface AdoptionPlan {
  readonly caCertificate: Uint8Array;
  readonly caCert: x509.X509Certificate;
  readonly caSubject: string;
  readonly caSpki: Uint8Array;
  readonly certificates: readonly AdoptedCertificate[];
  readonly indexOnly: readonly IndexOnlySerial[];
  readonly crls: readonly AdoptedCrl[];
  /** Highest CRL number the old CA used (or may have used): cardca's first CRL is above it. */
  readonly lastCrlNumber: bigint;
  /** The old `serial` file (its next serial), recorded for the audit. */
  readonly nextSerialHex?: string;
  readonly discrepancies: readonly Discrepancy[];
}

export interface PlanInput {
  readonly caCertFile: SourceFile;
  readonly sources: AdoptSources;
  /** The parent's certificate first, then each CA above it up to the root; absent with --root. */
  readonly parentChain?: readonly Uint8Array[];
  readonly parentName?: string;
  readonly now: Date;
  readonly acceptDiscrepancies: boolean;
}

const text = (f: SourceFile): string => Buffer.from(f.bytes).toString('latin1');

function derBlocks(f: SourceFile, label: 'CERTIFICATE' | 'X509 CRL'): Uint8Array[] {
  const t = text(f);
  if (t.includes('-----BEGIN')) return pemDecodeAll(t, label);
  return [f.bytes];
}

function parseCert(der: Uint8Array, where: string): x509.X509Certificate {
  try {
    return new x509.X509Certificate(der);
  } catch (e) {
    throw new CaError('ADOPT_CERT_MALFORMED', `${where} is not an X.509 certificate`, { cause: e, hint: 'Remove or replace that file; `openssl x509 -in FILE -noout -text` shows what it is.', details: { file: where } });
  }
}

const tbsOf = (der: Uint8Array): Uint8Array => slice(der, children(der, readSingle(der))[0]!);
const sigAlgOf = (der: Uint8Array): SignatureAlgorithm | undefined => signatureAlgorithmFromIdentifier(slice(der, children(der, readSingle(der))[1]!));
const spkiOf = (c: x509.X509Certificate): Uint8Array => new Uint8Array(c.publicKey.rawData);
const nameDer = (n: x509.Name): Uint8Array => new Uint8Array(n.toArrayBuffer());
const subjectText = (c: x509.X509Certificate): string => formatName(decodeName(nameDer(c.subjectName)));

/** OpenSSL's X509_NAME_oneline form (`/C=DE/CN=x`), when every attribute has a short name. */
function oneline(c: x509.X509Certificate): string | undefined {
  const attrs = decodeName(nameDer(c.subjectName));
  if (attrs.some((a) => /^\d/.test(a.type))) return undefined;
  return attrs.map((a) => `/${a.type}=${a.value}`).join('');
}

async function verifiedBy(der: Uint8Array, issuerSpki: Uint8Array): Promise<boolean> {
  // Verified with cardca's verifier over the exact TBS bytes, and by @peculiar/x509 (WebCrypto).
  const alg = sigAlgOf(der);
  const parts = children(der, readSingle(der));
  const sigBits = value(der, parts[2]!);
  if (!alg || sigBits[0] !== 0) return false;
  return verifySignature(issuerSpki, alg, tbsOf(der), sigBits.subarray(1));
}

function isCaCert(c: x509.X509Certificate): boolean {
  const bc = c.getExtension(x509.BasicConstraintsExtension);
  return bc?.ca === true;
}

function sansOf(c: x509.X509Certificate): string[] {
  const ext = c.getExtension(x509.SubjectAlternativeNameExtension);
  return (ext?.names.items ?? []).filter((n) => ['dns', 'ip', 'email', 'url'].includes(n.type)).map((n) => `${n.type === 'url' ? 'uri' : n.type}:${n.value}`);
}

function reasonOf(r: x509.X509CrlReason | undefined): CrlReason {
  const names: Record<number, CrlReason> = { 0: 'unspecified', 1: 'keyCompromise', 2: 'cACompromise', 3: 'affiliationChanged', 4: 'superseded', 5: 'cessationOfOperation', 6: 'certificateHold', 8: 'removeFromCRL', 9: 'privilegeWithdrawn', 10: 'aACompromise' };
  return r === undefined ? 'unspecified' : (names[r] ?? 'unspecified');
}

function crlNumberOf(crl: x509.X509Crl): bigint | undefined {
  const ext = crl.getExtension('2.5.29.20');
  if (!ext) return undefined;
  const v = new Uint8Array(ext.value);
  return integerContentToBigint(value(v, readSingle(v)));
}

function refuseHold(serialHex: string, where: string): never {
  throw new CaError('ADOPT_REVOCATION_HOLD', `${where}: serial ${serialHex} is on hold (certificateHold/removeFromCRL); cardca has no certificate holds`, {
    hint: 'Before adopting, either revoke it for good or release the hold with the old CA (`openssl ca -revoke … -crl_reason …`, or edit the line back to V).',
    details: { file: where, serial: serialHex },
  });
}

/** Check the CA certificate, its chain, and build the import plan. Throws on bad input. */
export async function planAdoption(input: PlanInput): Promise<AdoptionPlan> {
  const { sources, now } = input;
  const certFile = input.caCertFile.path;
  const caBlocks = derBlocks(input.caCertFile, 'CERTIFICATE');
  if (caBlocks.length !== 1) throw new CaError('ADOPT_CERT_MALFORMED', `${certFile} holds ${caBlocks.length} certificates; --cert takes the CA certificate alone`, { details: { file: certFile } });
  const caDer = caBlocks[0]!;
  const caCert = parseCert(caDer, certFile);
  const caSpki = spkiOf(caCert);
  const caSubjectDer = nameDer(caCert.subjectName);
  if (!isCaCert(caCert)) throw new CaError('ADOPT_CERT_NOT_CA', `${certFile} is not a CA certificate (basicConstraints cA is not set, RFC 5280 §4.2.1.9)`, { details: { file: certFile } });
  const ku = caCert.getExtension(x509.KeyUsagesExtension);
  if (ku && (!(ku.usages & x509.KeyUsageFlags.keyCertSign) || !(ku.usages & x509.KeyUsageFlags.cRLSign))) {
    throw new CaError('ADOPT_CERT_NOT_CA', `${certFile}: keyUsage lacks keyCertSign or cRLSign, so it cannot sign certificates and CRLs (RFC 5280 §4.2.1.3)`, { details: { file: certFile } });
  }
  if (now < caCert.notBefore || now > caCert.notAfter) {
    throw new CaError('ADOPT_CERT_EXPIRED', `${certFile} is not valid now (${caCert.notBefore.toISOString()} … ${caCert.notAfter.toISOString()})`, { hint: 'An expired CA cannot sign CRLs relying parties accept; re-key instead of adopting.' });
  }
  // The chain: a self-signed root, or up to the parent already in cardca (built by @peculiar/x509).
  if (input.parentChain === undefined) {
    const selfIssued = bytesEqual(caSubjectDer, nameDer(caCert.issuerName));
    if (!selfIssued || !(await caCert.isSelfSigned()) || !(await verifiedBy(caDer, caSpki))) {
      throw new CaError('ADOPT_CHAIN_BROKEN', `${certFile} is not a self-signed root (issuer ${caCert.issuer}), so --root does not fit`, { hint: 'Adopt its issuing CA first and pass --parent NAME.', details: { file: certFile } });
    }
  } else {
    const pool = input.parentChain.map((d, i) => parseCert(d, `certificate ${i} of the chain of ${input.parentName}`));
    const built = await new x509.X509ChainBuilder({ certificates: pool }).build(caCert);
    const parentOk = built.length === pool.length + 1 && bytesEqual(new Uint8Array(built[1]!.rawData), input.parentChain[0]!) && (await verifiedBy(caDer, spkiOf(pool[0]!)));
    if (!parentOk) {
      throw new CaError('ADOPT_CHAIN_BROKEN', `${certFile} (issuer ${caCert.issuer}) was not issued by ${input.parentName} (${pool[0]!.subject})`, {
        hint: 'Adopt or create the CA that issued it first, and pass it with --parent; a self-signed CA takes --root.',
        details: { file: certFile },
      });
    }
  }

  const indexText = Buffer.from(sources.index.bytes).toString('utf8');
  const index = parseIndexTxt(indexText, sources.index.path);
  const bySerialIndex = new Map<string, IndexEntry>();
  for (const e of index) {
    const prev = bySerialIndex.get(e.serialHex);
    if (prev) throw new CaError('ADOPT_INDEX_MALFORMED', `${sources.index.path}:${e.line}: serial ${e.serialHex} is already on line ${prev.line}`, { hint: 'A serial is issued once: find out which line is right before adopting.', details: { file: sources.index.path, line: e.line } });
    bySerialIndex.set(e.serialHex, e);
  }

  // Certificate files: each must be issued by this CA and verify with its key.
  const byFile = new Map<string, { der: Uint8Array; cert: x509.X509Certificate; file: string }>();
  for (const f of sources.certificateFiles) {
    for (const der of derBlocks(f, 'CERTIFICATE')) {
      const cert = parseCert(der, f.path);
      if (!bytesEqual(nameDer(cert.issuerName), caSubjectDer)) {
        throw new CaError('ADOPT_CERT_FOREIGN', `${f.path} was issued by ${cert.issuer}, not by this CA (${caCert.subject})`, { hint: 'Remove it from the CA directory: only certificates this CA issued are adopted.', details: { file: f.path } });
      }
      if (!(await verifiedBy(der, caSpki)) || !(await cert.verify({ publicKey: caCert, signatureOnly: true }))) {
        throw new CaError('ADOPT_CERT_SIGNATURE', `${f.path}: its signature does not verify with the key of ${certFile}`, { hint: 'The file was altered or belongs to another CA with the same name: remove it or find the original.', details: { file: f.path } });
      }
      const serialHex = serialHexOf(BigInt(`0x${cert.serialNumber}`));
      const seen = byFile.get(serialHex);
      if (seen && !bytesEqual(seen.der, der)) {
        throw new CaError('ADOPT_DUPLICATE_SERIAL', `${f.path} and ${seen.file} are two different certificates with serial ${serialHex}`, { hint: 'A serial is issued once: find out which is genuine before adopting.', details: { file: f.path } });
      }
      if (!seen) byFile.set(serialHex, { der, cert, file: f.path });
    }
  }

  // CRL files: signed by this CA; the newest one's entries must agree with index.txt.
  const crls: AdoptedCrl[] = [];
  const crlRevoked = new Map<string, { date: Date; reason: CrlReason; invalidityDate?: Date; file: string }>();
  for (const f of sources.crlFiles) {
    for (const der of derBlocks(f, 'X509 CRL')) {
      let crl: x509.X509Crl;
      try {
        crl = new x509.X509Crl(der);
      } catch (e) {
        throw new CaError('ADOPT_CRL_MALFORMED', `${f.path} is not an X.509 CRL`, { cause: e, details: { file: f.path } });
      }
      if (!bytesEqual(nameDer(crl.issuerName), caSubjectDer) || !(await crl.verify({ publicKey: caCert }))) {
        throw new CaError('ADOPT_CRL_SIGNATURE', `${f.path} is not a CRL signed by ${certFile}`, { hint: 'Remove it from the CA directory, or pass the right CA certificate.', details: { file: f.path } });
      }
      for (const e of crl.entries) {
        const serialHex = serialHexOf(BigInt(`0x${e.serialNumber}`));
        const reason = reasonOf(e.reason);
        if (reason === 'certificateHold' || reason === 'removeFromCRL') refuseHold(serialHex, f.path);
        if (!crlRevoked.has(serialHex)) crlRevoked.set(serialHex, { date: e.revocationDate, reason, ...(e.invalidity ? { invalidityDate: e.invalidity } : {}), file: f.path });
      }
      crls.push({ der, tbs: tbsOf(der), crlNumber: crlNumberOf(crl), thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate, entries: crl.entries.length, file: f.path });
    }
  }

  const discrepancies: Discrepancy[] = [];
  const certificates: AdoptedCertificate[] = [];
  const indexOnly: IndexOnlySerial[] = [];
  const at = (e: IndexEntry): string => `${sources.index.path}:${e.line}`;
  for (const e of index) {
    const rev = e.revocation;
    if (rev && (rev.reason === 'certificateHold' || rev.reason === 'removeFromCRL')) refuseHold(e.serialHex, at(e));
    let revocation: AdoptedRevocation | undefined = rev ? { date: rev.date, reason: rev.reason, ...(rev.invalidityDate ? { invalidityDate: rev.invalidityDate } : {}) } : undefined;
    const onCrl = crlRevoked.get(e.serialHex);
    if (!revocation && onCrl) {
      discrepancies.push({ kind: 'status-mismatch', serialHex: e.serialHex, where: at(e), detail: `index.txt says ${e.status} but ${onCrl.file} lists it as revoked (${onCrl.reason}); it stays revoked` });
      revocation = { date: onCrl.date, reason: onCrl.reason, ...(onCrl.invalidityDate ? { invalidityDate: onCrl.invalidityDate } : {}) };
    }
    const file = byFile.get(e.serialHex);
    if (!file) {
      discrepancies.push({ kind: 'missing-file', serialHex: e.serialHex, where: at(e), detail: `no certificate file for serial ${e.serialHex} (${e.subject})` });
      indexOnly.push({ serial: new Uint8Array(Buffer.from(e.serialHex, 'hex')), serialHex: e.serialHex, subject: e.subject, notAfter: e.expires, ...(revocation ? { revocation } : {}), where: at(e) });
      continue;
    }
    const c = file.cert;
    const ol = oneline(c);
    if (ol !== undefined && ol !== e.subject) discrepancies.push({ kind: 'subject-mismatch', serialHex: e.serialHex, where: at(e), detail: `index.txt subject ${e.subject}, ${file.file} has ${ol}` });
    if (Math.floor(c.notAfter.getTime() / 1000) !== Math.floor(e.expires.getTime() / 1000)) {
      discrepancies.push({ kind: 'expiry-mismatch', serialHex: e.serialHex, where: at(e), detail: `index.txt expiry ${e.expires.toISOString()}, ${file.file} has notAfter ${c.notAfter.toISOString()}` });
    }
    if (e.status === 'E' && c.notAfter > now) discrepancies.push({ kind: 'status-mismatch', serialHex: e.serialHex, where: at(e), detail: `index.txt says expired (E) but ${file.file} is valid until ${c.notAfter.toISOString()}` });
    certificates.push(adopted(file, e.serialHex, revocation, e.line));
    byFile.delete(e.serialHex);
  }
  for (const [serialHex, file] of byFile) {
    discrepancies.push({ kind: 'not-in-index', serialHex, where: file.file, detail: `${file.file} (serial ${serialHex}, ${file.cert.subject}) is not in ${sources.index.path}` });
    const onCrl = crlRevoked.get(serialHex);
    certificates.push(adopted(file, serialHex, onCrl ? { date: onCrl.date, reason: onCrl.reason, ...(onCrl.invalidityDate ? { invalidityDate: onCrl.invalidityDate } : {}) } : undefined, undefined));
  }
  const known = new Set([...certificates.map((c) => c.serialHex), ...indexOnly.map((c) => c.serialHex)]);
  for (const [serialHex, r] of crlRevoked) {
    if (known.has(serialHex)) continue;
    discrepancies.push({ kind: 'crl-lists-unknown', serialHex, where: r.file, detail: `${r.file} lists serial ${serialHex}, which is neither in index.txt nor in a certificate file` });
    indexOnly.push({ serial: new Uint8Array(Buffer.from(serialHex, 'hex')), serialHex, subject: '(unknown: listed on an old CRL only)', notAfter: caCert.notAfter, revocation: { date: r.date, reason: r.reason, ...(r.invalidityDate ? { invalidityDate: r.invalidityDate } : {}) }, where: r.file });
  }

  const lastCrlNumber = crlNumbering(sources, crls);
  const nextSerial = sources.serial ? parseNumberFile(text(sources.serial), sources.serial.path) : undefined;
  if (discrepancies.length > 0 && !input.acceptDiscrepancies) {
    throw new CaError('ADOPT_DISCREPANCIES', `${discrepancies.length} discrepanc${discrepancies.length === 1 ? 'y' : 'ies'} between ${sources.index.path} and the certificate and CRL files:\n${discrepancies.map((d) => `  ${d.where}: ${d.kind}: ${d.detail}`).join('\n')}`, {
      hint: 'Nothing was written. Fix the old CA directory, or, once each line above is understood, run again with --accept-discrepancies (they are then recorded in the audit log).',
      details: { discrepancies: discrepancies.map((d) => ({ ...d })) },
    });
  }
  return {
    caCertificate: caDer,
    caCert,
    caSubject: subjectText(caCert),
    caSpki,
    certificates,
    indexOnly,
    crls,
    lastCrlNumber,
    ...(nextSerial !== undefined ? { nextSerialHex: serialHexOf(nextSerial) } : {}),
    discrepancies,
  };
}

function adopted(f: { der: Uint8Array; cert: x509.X509Certificate; file: string }, serialHex: string, revocation: AdoptedRevocation | undefined, indexLine: number | undefined): AdoptedCertificate {
  const c = f.cert;
  const parts = children(f.der, readSingle(f.der));
  const tbsParts = children(f.der, parts[0]!);
  const serialTlv = tbsParts[tbsParts[0]!.tag === 0xa0 ? 1 : 0]!;
  const spki = spkiOf(c);
  const alg = sigAlgOf(f.der);
  return {
    der: f.der,
    tbs: tbsOf(f.der),
    serial: value(f.der, serialTlv),
    serialHex,
    subject: subjectText(c),
    sans: sansOf(c),
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    spki,
    spkiSha256: spkiSha256(spki),
    isCa: isCaCert(c),
    ...(revocation ? { revocation } : {}),
    file: f.file,
    ...(indexLine !== undefined ? { indexLine } : {}),
    ...(alg ? { signatureAlgorithm: alg } : {}),
    parsed: c,
  };
}

/**
 * The last CRL number the old CA used. `crlnumber` holds the *next* number (apps/ca.c writes
 * crlnumber+1 after each -gencrl, keeping the previous file as crlnumber.old), so the last used is
 * one below it; a CRL file with a higher number than that means the file went backwards (a
 * restored or hand-edited crlnumber), and so does crlnumber.old ≥ crlnumber: both are refused,
 * because continuing from them would re-issue a number relying parties have seen.
 */
function crlNumbering(sources: AdoptSources, crls: readonly AdoptedCrl[]): bigint {
  const inFiles = crls.reduce<{ n: bigint; file?: string }>((m, c) => (c.crlNumber !== undefined && c.crlNumber > m.n ? { n: c.crlNumber, file: c.file } : m), { n: 0n });
  if (!sources.crlNumber) return inFiles.n;
  const next = parseNumberFile(text(sources.crlNumber), sources.crlNumber.path);
  const backwards = (why: string): never => {
    throw new CaError('ADOPT_CRL_NUMBER_BACKWARDS', `${sources.crlNumber!.path}: the CRL number file went backwards: ${why}`, {
      hint: 'Find the highest CRL number relying parties have seen and put the number after it into the crlnumber file (hex), then adopt again.',
      details: { file: sources.crlNumber!.path },
    });
  };
  if (sources.crlNumberOld) {
    const old = parseNumberFile(text(sources.crlNumberOld), sources.crlNumberOld.path);
    if (old >= next) backwards(`it holds ${next.toString(16).toUpperCase()} but ${sources.crlNumberOld.path} holds ${old.toString(16).toUpperCase()}`);
  }
  if (inFiles.n >= next) backwards(`it holds ${next.toString(16).toUpperCase()} (the next number) but ${inFiles.file} already has CRL number ${inFiles.n.toString(16).toUpperCase()}`);
  const lastUsed = next - 1n;
  return lastUsed > inFiles.n ? lastUsed : inFiles.n;
}

/** The SHA-256 list of the audit record. */
export function sourceDigests(files: readonly SourceFile[]): { path: string; sha256: string }[] {
  return files.map((f) => ({ path: f.path, sha256: f.sha256 }));
}

export const certificateSha256 = (der: Uint8Array): string => toHex(sha256(der));
