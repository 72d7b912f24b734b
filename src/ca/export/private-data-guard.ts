/**
 * Last line of defence for G20 ("no private-key exposure", ca-invariants.md §4.2, §6): exports
 * are built only from certificates and CRLs, so private data cannot get in by construction;
 * this guard makes that a checked property instead of an assumption. It refuses any output
 * containing a PEM private-key label (PRIVATE KEY, RSA/EC/ENCRYPTED PRIVATE KEY, …) in any
 * ASCII form, plus the DER prefixes of PKCS#8 PrivateKeyInfo (RFC 5208 §5) and of
 * RSAPrivateKey / ECPrivateKey (RFC 8017 A.1.2, RFC 5915 §3) at the start of a file.
 */
import { ExportError } from './export-error.js';
import type { ExportFile } from './export-types.js';

const PEM_PRIVATE = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/** Throws `EXPORT_PRIVATE_DATA` if `bytes` (named `what`) look like private key material. */
export function assertNoPrivateData(bytes: Uint8Array, what: string): void {
  const text = Buffer.from(bytes).toString('latin1');
  if (PEM_PRIVATE.test(text) || text.includes('PRIVATE KEY')) {
    throw privateData(what, 'a PEM "PRIVATE KEY" label');
  }
  if (looksLikePrivateKeyDer(bytes)) throw privateData(what, 'a DER private key structure');
}

export function assertNoPrivateDataInFiles(files: readonly ExportFile[]): void {
  for (const f of files) assertNoPrivateData(f.bytes, f.path);
}

/**
 * PrivateKeyInfo / RSAPrivateKey / ECPrivateKey all begin SEQUENCE { INTEGER version(0 or 1) …
 * whereas Certificate, CertificateList and ContentInfo begin SEQUENCE { SEQUENCE | OID }.
 */
function looksLikePrivateKeyDer(b: Uint8Array): boolean {
  if (b.length < 8 || b[0] !== 0x30) return false;
  let i = 1;
  const l = b[i]!;
  i += l & 0x80 ? 1 + (l & 0x7f) : 1;
  return b[i] === 0x02 && b[i + 1] === 0x01 && (b[i + 2] === 0x00 || b[i + 2] === 0x01);
}

function privateData(what: string, found: string): ExportError {
  return new ExportError('EXPORT_PRIVATE_DATA', `refusing to export ${what}: it contains ${found}`, {
    hint: 'Exports may only contain certificates and CRLs. Check which file was passed in; never put key files into an export.',
  });
}
