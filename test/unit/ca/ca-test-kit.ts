/**
 * Test-only helpers for the CA engine tests: run the engine's issuance steps with a
 * TestOnlySoftwareSigner (content → TBS → lint → sign → assemble → verify → lint) and write
 * files for the external validators.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, X509Certificate } from 'node:crypto';
import { concatBytes } from '../../../src/common/hex.js';
import { encodeTlv, readTlv } from '../../../src/ca/x509/der.js';
import { TestOnlySoftwareSigner } from '../../helpers/test-only-software-signer.js';
import { runTool, type ToolResult } from '../../helpers/validators.js';
import {
  assembleCertificate,
  assembleCrl,
  assertCertificateLintClean,
  assertCrlLintClean,
  assertTbsCertificateLintClean,
  assertTbsCertListLintClean,
  buildTbsCertList,
  buildTbsCertificate,
  certificateNames,
  certificateContent,
  pemEncode,
  subjectKeyIdentifier,
  verifyCrl,
  verifyIssuedCertificate,
  type CaProfile,
  type CertificateContentRequest,
  type CrlEntryInput,
  type IssuerInfo,
} from '../../../src/ca/index.js';

export const ROOT_DIR = new URL('../../../../', import.meta.url).pathname;
export const PROFILES_DIR = join(ROOT_DIR, 'profiles');

export interface TestCa {
  readonly name: string;
  readonly profile: CaProfile;
  readonly signer: TestOnlySoftwareSigner;
  readonly cert: Uint8Array;
  readonly info: IssuerInfo;
}

/** A random 18-octet positive serial (Boulder style: 0x01..0x7f prefix + 17 random octets). */
export function testSerial(): Uint8Array {
  const s = randomBytes(18);
  s[0] = 0x01 + (s[0]! % 0x7f);
  return new Uint8Array(s);
}

export async function issue(
  req: Omit<CertificateContentRequest, 'serial' | 'now'> & { serial?: Uint8Array; now?: Date },
  issuerSigner: TestOnlySoftwareSigner,
): Promise<{ cert: Uint8Array; tbs: Uint8Array }> {
  const now = req.now ?? new Date();
  const content = certificateContent({ ...req, serial: req.serial ?? testSerial(), now });
  const tbs = buildTbsCertificate(content.tbs, content.signatureAlgorithm);
  const issuer = req.issuer === 'self' ? undefined : req.issuer;
  const lintCtx = { now, ...(issuer ? { issuer: { subjectName: issuer.subjectName, ski: issuer.ski, notAfter: issuer.notAfter } } : {}) };
  assertTbsCertificateLintClean(tbs, lintCtx);
  const sig = await issuerSigner.sign(tbs, content.signatureAlgorithm);
  const cert = assembleCertificate(tbs, content.signatureAlgorithm, sig);
  verifyIssuedCertificate(cert, tbs, issuerSigner.publicKey());
  assertCertificateLintClean(cert, lintCtx);
  return { cert, tbs };
}

export async function makeCa(
  name: string,
  profile: CaProfile,
  parent: TestCa | undefined,
  now = new Date(),
): Promise<TestCa> {
  const signer = TestOnlySoftwareSigner.generate(profile.key);
  const { cert } = await issue(
    { issuer: parent ? parent.info : 'self', profile, spki: signer.publicKey(), subject: [], now },
    parent ? parent.signer : signer,
  );
  const notAfter = readNotAfter(cert);
  const info: IssuerInfo = {
    subjectName: certificateNames(cert).subject,
    ski: subjectKeyIdentifier(signer.publicKey()),
    notAfter,
    spki: signer.publicKey(),
    profile,
    chain: [cert, ...(parent ? parent.info.chain : [])],
  };
  return { name, profile, signer, cert, info };
}

function readNotAfter(cert: Uint8Array): Date {
  return new Date(new X509Certificate(Buffer.from(cert)).validTo);
}

export async function makeCrl(
  ca: TestCa,
  crlNumber: bigint,
  entries: CrlEntryInput[],
  now = new Date(),
  validityMs = 7 * 86_400_000,
): Promise<{ crl: Uint8Array; tbs: Uint8Array }> {
  const input = {
    issuerName: ca.info.subjectName,
    aki: ca.info.ski,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + validityMs),
    crlNumber,
    entries,
  };
  const alg = ca.profile.signatureAlgorithm;
  const tbs = buildTbsCertList(input, alg);
  const ctx = { now, issuerName: ca.info.subjectName, issuerSki: ca.info.ski, maxValidityMs: ca.profile.crl.validity.duration.toMillis() };
  assertTbsCertListLintClean(tbs, ctx);
  const crl = assembleCrl(tbs, alg, await ca.signer.sign(tbs, alg));
  verifyCrl(crl, tbs, ca.signer.publicKey());
  assertCrlLintClean(crl, ctx);
  return { crl, tbs };
}

const createdDirs: string[] = [];

/** A fresh temp dir, removed when the test process exits (set CARDCA_KEEP_TMP=1 to keep it). */
export function tempDir(prefix = 'cardca-ca-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  if (createdDirs.length === 0 && !process.env.CARDCA_KEEP_TMP) {
    process.on('exit', () => {
      for (const x of createdDirs) rmSync(x, { recursive: true, force: true });
    });
  }
  createdDirs.push(d);
  return d;
}

export function writePem(dir: string, name: string, der: Uint8Array, label: 'CERTIFICATE' | 'X509 CRL'): string {
  const p = join(dir, name);
  writeFileSync(p, pemEncode(der, label));
  return p;
}

export function openssl(args: string[], input?: string): Promise<ToolResult> {
  return runTool('openssl', args, input === undefined ? {} : { input });
}

/** Minimal DER TLV tree, for building deliberately defective encodings in tests. */
export type Node = { tag: number; children?: Node[]; value?: Uint8Array };

export function parseTree(b: Uint8Array): Node {
  const t = readTlv(b, 0);
  const v = b.subarray(t.valueStart, t.end);
  if (!(t.tag & 0x20)) return { tag: t.tag, value: v };
  const kids: Node[] = [];
  for (let off = 0; off < v.length; ) {
    const c = readTlv(v, off);
    kids.push(parseTree(v.subarray(off, c.end)));
    off = c.end;
  }
  return { tag: t.tag, children: kids };
}

export function encodeTree(n: Node): Uint8Array {
  return encodeTlv(n.tag, n.children ? concatBytes(...n.children.map(encodeTree)) : n.value!);
}

/** Parse, let `edit` change the tree, re-encode. */
export function mutate(der: Uint8Array, edit: (root: Node) => void): Uint8Array {
  const root = parseTree(der);
  edit(root);
  return encodeTree(root);
}
