/**
 * The three generic certificate container formats, for a CA chain and for a single
 * certificate: PEM bundle, numbered DER files, certs-only PKCS#7 (`.p7b`).
 */
import { bytesEqual } from '../../common/hex.js';
import { checkExportName, parseCertificateDer, parseChainInput } from './chain-input.js';
import { ExportError } from './export-error.js';
import { type ChainExportInput, type ExportFile, PUBLIC_MODE } from './export-types.js';
import { pemEncode } from './pem.js';
import { buildCertsOnlyPkcs7 } from './pkcs7-certs.js';
import { assertNoPrivateDataInFiles } from './private-data-guard.js';

export type CertFormat = 'pem' | 'der' | 'p7b';

/** Concatenated PEM certificates in the given order. */
export function pemBundle(certs: readonly Uint8Array[]): Uint8Array {
  return Buffer.from(certs.map((c) => pemEncode('CERTIFICATE', c)).join(''), 'utf8');
}

function render(format: CertFormat, base: string, certs: readonly Uint8Array[]): ExportFile[] {
  let files: ExportFile[];
  switch (format) {
    case 'pem':
      files = [{ path: `${base}.pem`, bytes: pemBundle(certs), mode: PUBLIC_MODE }];
      break;
    case 'der':
      // DER has no framing for several objects: one file per certificate, numbered from 0 in
      // chain order so `ls` shows them in the same order as the PEM bundle.
      files =
        certs.length === 1
          ? [{ path: `${base}.der`, bytes: certs[0]!, mode: PUBLIC_MODE }]
          : certs.map((c, i) => ({ path: `${base}-${i}.der`, bytes: c, mode: PUBLIC_MODE }));
      break;
    case 'p7b':
      files = [{ path: `${base}.p7b`, bytes: buildCertsOnlyPkcs7(certs), mode: PUBLIC_MODE }];
      break;
  }
  assertNoPrivateDataInFiles(files);
  return files;
}

/**
 * A CA chain (issuing CA first … root last) as `<base>.pem`, `<base>-<i>.der` or `<base>.p7b`.
 * `base` defaults to `<names[0]>-chain`. CRLs in `input` are checked but not included.
 */
export function exportChain(input: ChainExportInput, format: CertFormat, base?: string): ExportFile[] {
  const parsed = parseChainInput(input, { requireAllCrls: false });
  const name = checkExportName(base ?? `${parsed.names[0]}-chain`);
  return render(format, name, parsed.certs.map((c) => c.der));
}

export interface CertExportInput {
  /** The certificate to export (DER). */
  readonly cert: Uint8Array;
  /** File base name (no extension). */
  readonly name: string;
  /** When given, the CA chain to append (issuing CA first … root last), DER. */
  readonly chain?: readonly Uint8Array[];
}

/**
 * One certificate as PEM/DER/p7b, optionally followed by its chain (leaf → issuer → root).
 * With a chain, the leaf must have been issued by `chain[0]`.
 */
export function exportCertificate(input: CertExportInput, format: CertFormat): ExportFile[] {
  const name = checkExportName(input.name, 'certificate file name');
  const leaf = parseCertificateDer(input.cert, 'certificate');
  const certs = [leaf.der];
  if (input.chain && input.chain.length > 0) {
    const chain = parseChainInput(
      { chain: input.chain, crls: [], names: input.chain.map((_, i) => `ca${i}`) },
      { requireAllCrls: false },
    );
    // Same ordering rule as for chains (RFC 5280 §6.1): each issuer name is the next subject.
    if (!bytesEqual(leaf.issuerDer, chain.certs[0]!.subjectDer)) {
      throw chainMismatch();
    }
    certs.push(...chain.certs.map((c) => c.der));
  }
  return render(format, name, certs);
}

function chainMismatch(): ExportError {
  return new ExportError('EXPORT_CHAIN_ORDER', 'the certificate was not issued by the first certificate of the chain', {
    hint: 'Pass the issuing CA first, then its issuers, the root last.',
  });
}
