import { createHash } from 'node:crypto';
import { bytesEqual, toHex } from '../common/hex.js';
import { CaError } from './errors.js';
import { children, readSingle, slice } from './x509/der.js';

/**
 * Chain helpers: PEM armour (RFC 7468), fingerprints, and ordering a set of certificates
 * leaf → root by issuer/subject (RFC 5280 §6.1: each issuer equals the next cert's subject).
 */
export type PemLabel = 'CERTIFICATE' | 'X509 CRL' | 'CERTIFICATE REQUEST';

/** RFC 7468 §2 strict form: base64 in 64-character lines, LF line endings, trailing newline. */
export function pemEncode(der: Uint8Array, label: PemLabel): string {
  const out = pemEncodeBytes(der, label);
  return out.toString('latin1');
}

/**
 * `pemEncode` as bytes, for writing a large PEM (a CRL of a million entries: 65 MB) to a file
 * without a string of it and the string's second encoding back to bytes.
 */
export function pemEncodeBytes(der: Uint8Array, label: PemLabel): Buffer {
  // 48 octets → one 64-character line (RFC 7468 §2), encoded straight into one buffer: a CRL of
  // a million entries is ~50 MB, and a regex split into a million strings cost ~150 MB.
  const lines = Math.ceil(der.length / 48);
  const head = `-----BEGIN ${label}-----\n`;
  const out = Buffer.allocUnsafe(head.length + Math.max(lines, 1) * 65 + `-----END ${label}-----\n`.length);
  let p = out.write(head, 0, 'latin1');
  p = pemLinesInto(der, 0, der.length, out, p);
  if (lines === 0) out[p++] = 0x0a;
  p += out.write(`-----END ${label}-----\n`, p, 'latin1');
  return out.subarray(0, p);
}

/** Octets of DER per piece of `pemEncodePieces`: 16,384 lines, ≈ 1 MB of PEM. */
const PIECE = 48 * 16_384;

/**
 * `pemEncodeBytes` in pieces of ≈ 1 MB, all written into ONE reused buffer: each piece is valid
 * only until the next is asked for (write it out first, as writeFileAtomic does). For a CRL of a
 * million entries this avoids a fresh 65 MB buffer whose first touch of every page cost more
 * than the base64 itself (docs/benchmarks.md "fourth pass"). The concatenated pieces are
 * byte for byte `pemEncodeBytes(der, label)` (test/unit/ca/pem-encode-bytes.test.ts).
 */
export function* pemEncodePieces(der: Uint8Array, label: PemLabel): Generator<Uint8Array> {
  const head = `-----BEGIN ${label}-----\n`;
  const tail = `-----END ${label}-----\n`;
  const out = Buffer.allocUnsafe(Math.ceil(Math.min(PIECE, Math.max(der.length, 1)) / 48) * 65 + head.length + tail.length);
  let p = out.write(head, 0, 'latin1');
  for (let i = 0; i < der.length; i += PIECE) {
    p = pemLinesInto(der, i, Math.min(i + PIECE, der.length), out, p);
    if (i + PIECE < der.length) {
      yield out.subarray(0, p);
      p = 0;
    }
  }
  if (der.length === 0) out[p++] = 0x0a;
  p += out.write(tail, p, 'latin1');
  yield out.subarray(0, p);
}

/** The 64-character lines of der[from, to) (from a multiple of 48) into out at p; returns the end. */
function pemLinesInto(der: Uint8Array, from: number, to: number, out: Buffer, p: number): number {
  const src = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const CHUNK = 48 * 1024; // 1024 lines per base64 call
  for (let i = from; i < to; i += CHUNK) {
    // The chunk's base64 is written straight into `out`, then its lines are moved apart from
    // the last one back, each by its index, to make room for the line feeds: one native move per
    // line. (A Buffer.copy per line from a second buffer was ~0.7 s of a million-entry CRL's
    // 1M lines, most of it the call's argument checks.)
    const n = out.write(src.subarray(i, Math.min(i + CHUNK, to)).toString('base64'), p, 'latin1');
    const full = Math.ceil(n / 64);
    for (let k = full - 1; k >= 0; k--) {
      const len = Math.min(64, n - 64 * k);
      if (k > 0) out.copyWithin(p + 65 * k, p + 64 * k, p + 64 * k + len);
      out[p + 65 * k + len] = 0x0a;
    }
    p += n + full;
  }
  return p;
}

/**
 * Every block with `label` in `text`, decoded. Strict (RFC 7468 §3 "strict" grammar, plus CRLF):
 * base64 alphabet only, correct padding, BEGIN/END labels matching. Blocks with other labels
 * are skipped; text outside blocks is ignored (explanatory text is allowed by §5.2).
 */
export function pemDecodeAll(text: string, label: PemLabel): Uint8Array[] {
  const out: Uint8Array[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[1] !== m[3]) throw new CaError('CA_PEM_MALFORMED', `PEM block BEGIN ${m[1]} ends with END ${m[3]}`);
    if (m[1] !== label) continue;
    const body = m[2]!.replace(/\r?\n/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) {
      throw new CaError('CA_PEM_MALFORMED', `PEM ${label} block is not valid base64`);
    }
    const der = new Uint8Array(Buffer.from(body, 'base64'));
    if (Buffer.from(der).toString('base64') !== body) throw new CaError('CA_PEM_MALFORMED', `PEM ${label} block has non-canonical base64`);
    out.push(der);
  }
  return out;
}

/** Exactly one block with `label`. */
export function pemDecode(text: string, label: PemLabel): Uint8Array {
  const all = pemDecodeAll(text, label);
  if (all.length !== 1) throw new CaError('CA_PEM_MALFORMED', `expected one PEM ${label} block, found ${all.length}`);
  return all[0]!;
}

/** Hex fingerprint of DER (`AB:CD:…` with sep ':'). */
export function fingerprint(der: Uint8Array, hash: 'sha256' | 'sha1' = 'sha256', sep = ':'): string {
  return toHex(new Uint8Array(createHash(hash).update(der).digest()), sep);
}

/** Issuer and subject Name DER of a certificate (exact bytes). */
export function certificateNames(cert: Uint8Array): { issuer: Uint8Array; subject: Uint8Array } {
  const tbsTlv = children(cert, readSingle(cert))[0];
  if (!tbsTlv) throw new CaError('CA_CERT_MALFORMED', 'not a certificate');
  const f = children(cert, tbsTlv);
  const off = f[0]?.tag === 0xa0 ? 1 : 0; // version [0] EXPLICIT is optional (RFC 5280 §4.1)
  const issuer = f[off + 2];
  const subject = f[off + 4];
  if (!issuer || !subject) throw new CaError('CA_CERT_MALFORMED', 'certificate TBS is too short');
  return { issuer: slice(cert, issuer), subject: slice(cert, subject) };
}

/**
 * Order certificates leaf → root. Requires one unbroken path covering every certificate: one
 * leaf (a cert that issued none of the others), each next certificate's subject equal to the
 * previous one's issuer. The last one may be self-issued (a root) or not (a partial chain).
 */
export function orderChain(certs: readonly Uint8Array[]): Uint8Array[] {
  if (certs.length === 0) return [];
  const names = certs.map(certificateNames);
  const selfIssued = (i: number) => bytesEqual(names[i]!.issuer, names[i]!.subject);
  const issuedOthers = (i: number) => names.some((n, j) => j !== i && bytesEqual(n.issuer, names[i]!.subject) && !selfIssued(j));
  const leaves = certs.map((_, i) => i).filter((i) => !issuedOthers(i));
  if (leaves.length !== 1) {
    throw new CaError('CA_CHAIN_BROKEN', `cannot order the chain: ${leaves.length} candidate leaf certificates`, {
      hint: 'Pass exactly one path: the leaf and the CAs above it, no duplicates.',
    });
  }
  const used = new Set<number>([leaves[0]!]);
  const out = [certs[leaves[0]!]!];
  let cur = leaves[0]!;
  while (!selfIssued(cur)) {
    const next = names.findIndex((n, j) => !used.has(j) && bytesEqual(n.subject, names[cur]!.issuer));
    if (next < 0) break;
    used.add(next);
    out.push(certs[next]!);
    cur = next;
  }
  if (out.length !== certs.length) {
    throw new CaError('CA_CHAIN_BROKEN', `${certs.length - out.length} certificate(s) are not on the path from the leaf`, {
      hint: 'Remove certificates that do not belong to this chain.',
    });
  }
  return out;
}
