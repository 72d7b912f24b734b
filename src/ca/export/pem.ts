/**
 * PEM framing (RFC 7468). Only the strict textual encoding is produced: 64-column base64 lines,
 * LF line endings, the label from RFC 7468 §5 (CERTIFICATE) and §6 (X509 CRL), and a final
 * newline, so bundles concatenate cleanly and every tool we check against accepts them.
 */
import { ExportError } from './export-error.js';

export type PemLabel = 'CERTIFICATE' | 'X509 CRL' | 'PKCS7' | 'CERTIFICATE REQUEST';

export interface PemBlock {
  readonly label: string;
  readonly der: Uint8Array;
}

export function pemEncode(label: PemLabel, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

const BLOCK_RE = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** All PEM blocks in `text`, in order (RFC 7468 §2: text outside blocks is ignored). */
export function pemDecodeAll(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK_RE)) {
    const body = m[2]!.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) {
      throw new ExportError('EXPORT_INPUT_INVALID', `PEM block "${m[1]}" has invalid base64`, {
        hint: 'Re-export the file from its source; it was altered.',
      });
    }
    out.push({ label: m[1]!, der: new Uint8Array(Buffer.from(body, 'base64')) });
  }
  return out;
}

/** True when the bytes look like PEM text (start with a BEGIN line, possibly after whitespace). */
export function looksLikePem(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, Math.min(bytes.length, 200))).toString('latin1');
  return /^\s*-----BEGIN /.test(head) || head.includes('-----BEGIN ');
}
