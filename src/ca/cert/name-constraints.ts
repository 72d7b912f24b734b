import { PolicyError } from '../errors.js';
import { certificateNames } from '../chain.js';
import { children, readSingle, readTlv, value, type Tlv } from '../x509/der.js';
import type { SanEntry } from '../x509/extensions.js';
import { ipToString, parseIp } from '../x509/ip-address.js';
import { decodeName, formatName, type NameAttribute } from '../x509/name.js';
import { decodeOidContent } from '../lint/certificate-model.js';
import { id_ce } from '../x509/oids.js';

/**
 * RFC 5280 §4.2.1.10 name constraints as relying parties apply them, read from the issuer
 * CERTIFICATES of the whole chain (issuing CA up to the root), never from profiles: a profile
 * can change after the CA certificate was signed, the certificate cannot.
 *
 * Semantics (RFC 5280 §4.2.1.10; OpenSSL crypto/x509/v3_ncons.c behaves the same):
 * - dNSName: "any DNS name that can be constructed by simply adding zero or more labels to the
 *   left-hand side of the name satisfies the name constraint", so `x.test` is the whole subtree
 *   (x.test, a.x.test, …) and `.x.test` every name strictly below it. Case-insensitive.
 * - rfc822Name: a mailbox (`a@host`, local part case-sensitive), a host (`host`: mailboxes on
 *   exactly that host) or a domain (`.host`: mailboxes on any host below it).
 * - iPAddress: address‖mask; the name is inside when (name AND mask) = address; families
 *   (4 vs 16 octets) never match each other.
 * - Within one name form: if any permitted subtree of that form exists, one must match; no
 *   excluded subtree may match (excluded is checked first and reported first). Forms without
 *   subtrees are unconstrained.
 * - Names checked: every SAN; every emailAddress attribute of the subject (as rfc822Name, §4.2.1.10
 *   "the rfc822Name constraint MUST be applied to the attribute of type emailAddress"); and, for
 *   an end-entity certificate without DNS SANs, each CN that looks like a DNS name (two or more
 *   labels of letters, digits, '_' and inner '-'), as OpenSSL and browsers do.
 * Constraints of forms cardca never issues (directoryName, URI, otherName, …) in a chain
 * certificate are refused outright rather than guessed at.
 */
export type ConstraintForm = 'dns' | 'email' | 'ip';

export interface Subtree {
  readonly form: ConstraintForm;
  /** dns/email: the IA5 text; ip: address‖mask octets in hex. */
  readonly text: string;
  readonly ip?: { readonly address: Uint8Array; readonly mask: Uint8Array };
}

export interface CertificateNameConstraints {
  /** Subject of the CA certificate that carries them (for messages). */
  readonly ca: string;
  readonly permitted: readonly Subtree[];
  readonly excluded: readonly Subtree[];
  /** Subtree forms present that this module does not evaluate (e.g. directoryName). */
  readonly unsupported: readonly string[];
}

export interface CheckedName {
  readonly form: ConstraintForm;
  readonly value: string;
  /** Where the name came from: `SAN`, `subject emailAddress`, `subject CN`. */
  readonly origin: string;
}

export interface NameConstraintViolation {
  readonly name: CheckedName;
  readonly ca: string;
  readonly kind: 'excluded' | 'not-permitted';
  /** The excluded subtree that matched (kind excluded). */
  readonly subtree?: string;
}

const GN_FORMS: Readonly<Record<number, string>> = {
  0xa0: 'otherName', 0x81: 'rfc822Name', 0x82: 'dNSName', 0xa3: 'x400Address', 0xa4: 'directoryName',
  0xa5: 'ediPartyName', 0x86: 'uniformResourceIdentifier', 0x87: 'iPAddress', 0x88: 'registeredID',
};

function ascii(b: Uint8Array): string {
  return Buffer.from(b).toString('latin1');
}

function subtreesOf(buf: Uint8Array, list: Tlv, unsupported: Set<string>): Subtree[] {
  const out: Subtree[] = [];
  for (const st of children(buf, list)) {
    const base = readTlv(buf, st.valueStart);
    const v = value(buf, base);
    if (base.tag === 0x82) out.push({ form: 'dns', text: ascii(v) });
    else if (base.tag === 0x81) out.push({ form: 'email', text: ascii(v) });
    else if (base.tag === 0x87 && (v.length === 8 || v.length === 32)) {
      const half = v.length / 2;
      out.push({ form: 'ip', text: Buffer.from(v).toString('hex'), ip: { address: v.slice(0, half), mask: v.slice(half) } });
    } else unsupported.add(GN_FORMS[base.tag] ?? `tag 0x${base.tag.toString(16)}`);
  }
  return out;
}

/** The nameConstraints of one certificate (DER), or undefined if it has none. */
export function certificateNameConstraints(cert: Uint8Array): CertificateNameConstraints | undefined {
  const tbsT = children(cert, readSingle(cert))[0]!;
  const f = children(cert, tbsT);
  const extT = f.find((t) => t.tag === 0xa3);
  if (!extT) return undefined;
  for (const e of children(cert, children(cert, extT)[0]!)) {
    const parts = children(cert, e);
    if (decodeOidContent(value(cert, parts[0]!)) !== id_ce.nameConstraints) continue;
    const octets = value(cert, parts[parts.length - 1]!);
    const nc = readSingle(octets);
    const unsupported = new Set<string>();
    let permitted: Subtree[] = [];
    let excluded: Subtree[] = [];
    for (const t of children(octets, nc)) {
      if (t.tag === 0xa0) permitted = subtreesOf(octets, t, unsupported);
      else if (t.tag === 0xa1) excluded = subtreesOf(octets, t, unsupported);
    }
    const ca = formatName(decodeName(certificateNames(cert).subject));
    return { ca, permitted, excluded, unsupported: [...unsupported] };
  }
  return undefined;
}

/**
 * Parsed constraints per certificate DER buffer. A batch checks every CSR against the same
 * issuer chain (the same buffers): parsing the chain's names and subtrees once per batch
 * instead of once per certificate and per lint. Keyed weakly by the buffer, so it holds nothing
 * the caller dropped; the cached objects are never mutated.
 */
const parsedConstraints = new WeakMap<Uint8Array, CertificateNameConstraints | null>();

/** The constraints of every certificate in `chain` (issuing CA first, root last) that has any. */
export function chainNameConstraints(chain: readonly Uint8Array[]): CertificateNameConstraints[] {
  const out: CertificateNameConstraints[] = [];
  for (const cert of chain) {
    let c = parsedConstraints.get(cert);
    if (c === undefined) {
      c = certificateNameConstraints(cert) ?? null;
      parsedConstraints.set(cert, c);
    }
    if (c) out.push(c);
  }
  return out;
}

/** OpenSSL cn2dnsid (v3_ncons.c): letters, digits, '_', inner '-' and '.', two or more labels. */
export function commonNameLooksLikeDns(cn: string): boolean {
  let dns = false;
  for (let i = 0; i < cn.length; i++) {
    const c = cn[i]!;
    if (/[A-Za-z0-9_]/.test(c)) continue;
    if (i > 0 && i < cn.length - 1) {
      if (c === '-') continue;
      if (c === '.' && cn[i + 1] !== '.' && cn[i - 1] !== '-' && cn[i + 1] !== '-') {
        dns = true;
        continue;
      }
    }
    return false;
  }
  return dns;
}

/** The names of a certificate that name constraints apply to. */
export function constrainedNames(sans: readonly SanEntry[], subject: readonly NameAttribute[], endEntity: boolean): CheckedName[] {
  const out: CheckedName[] = [];
  for (const s of sans) if (s.type === 'dns' || s.type === 'email' || s.type === 'ip') out.push({ form: s.type, value: s.value, origin: 'SAN' });
  for (const a of subject) if (a.type === 'emailAddress') out.push({ form: 'email', value: a.value, origin: 'subject emailAddress' });
  if (endEntity && !sans.some((s) => s.type === 'dns')) {
    for (const a of subject) if (a.type === 'CN' && commonNameLooksLikeDns(a.value)) out.push({ form: 'dns', value: a.value, origin: 'subject CN' });
  }
  return out;
}

function dnsWithin(name: string, base: string): boolean {
  const n = name.toLowerCase();
  const b = base.toLowerCase();
  if (b === '') return true;
  if (n.length > b.length) {
    const tail = n.slice(n.length - b.length);
    // Whole labels only: `example.test` does not contain `badexample.test`.
    return tail === b && (b.startsWith('.') || n[n.length - b.length - 1] === '.');
  }
  return n === b;
}

function emailWithin(mailbox: string, base: string): boolean {
  const at = mailbox.lastIndexOf('@');
  if (at < 0) return false;
  const local = mailbox.slice(0, at);
  const host = mailbox.slice(at + 1).toLowerCase();
  const bat = base.lastIndexOf('@');
  if (bat < 0 && base.startsWith('.')) return host.endsWith(base.toLowerCase()) && host.length > base.length;
  if (bat >= 0) {
    if (bat > 0 && base.slice(0, bat) !== local) return false;
    return base.slice(bat + 1).toLowerCase() === host;
  }
  return base.toLowerCase() === host;
}

function ipWithin(text: string, st: Subtree): boolean {
  const ip = parseIp(text);
  if (!ip || !st.ip || ip.length !== st.ip.address.length) return false;
  return ip.every((b, i) => (b & st.ip!.mask[i]!) === (st.ip!.address[i]! & st.ip!.mask[i]!));
}

export function nameWithin(name: CheckedName, st: Subtree): boolean {
  if (name.form !== st.form) return false;
  if (st.form === 'dns') return dnsWithin(name.value, st.text);
  if (st.form === 'email') return emailWithin(name.value, st.text);
  return ipWithin(name.value, st);
}

export function subtreeText(st: Subtree): string {
  if (st.form !== 'ip' || !st.ip) return `${st.form}:${st.text}`;
  const prefix = [...st.ip.mask].reduce((n, b) => n + b.toString(2).replace(/0/g, '').length, 0);
  return `ip:${ipToString(st.ip.address)}/${prefix}`;
}

/** Every violation of `names` against the constraints of the chain (empty: all names allowed). */
export function nameConstraintViolations(constraints: readonly CertificateNameConstraints[], names: readonly CheckedName[]): NameConstraintViolation[] {
  const out: NameConstraintViolation[] = [];
  for (const c of constraints) {
    for (const n of names) {
      const ex = c.excluded.find((st) => nameWithin(n, st));
      if (ex) {
        out.push({ name: n, ca: c.ca, kind: 'excluded', subtree: subtreeText(ex) });
        continue;
      }
      const sameForm = c.permitted.filter((st) => st.form === n.form);
      if (sameForm.length > 0 && !sameForm.some((st) => nameWithin(n, st))) out.push({ name: n, ca: c.ca, kind: 'not-permitted' });
    }
  }
  return out;
}

export function describeViolation(v: NameConstraintViolation): string {
  const what = `${v.name.form} name ${v.name.value} (${v.name.origin})`;
  return v.kind === 'excluded' ? `${what} is in the excluded subtree ${v.subtree} of ${v.ca}` : `${what} is outside the permitted subtrees of ${v.ca}`;
}

/**
 * Refuse (`POLICY_NAME_CONSTRAINTS`) a certificate whose names relying parties would reject
 * under the chain's constraints, before anything is reserved or signed.
 */
export function assertNameConstraints(chain: readonly Uint8Array[], names: readonly CheckedName[]): void {
  const constraints = chainNameConstraints(chain);
  const unsupported = constraints.filter((c) => c.unsupported.length > 0);
  if (unsupported.length > 0) {
    throw new PolicyError('POLICY_NAME_CONSTRAINTS_UNSUPPORTED', `${unsupported.map((c) => `${c.ca} constrains ${c.unsupported.join(', ')} names`).join('; ')}, which cardca does not evaluate`, {
      hint: 'cardca issues under dNSName, rfc822Name and iPAddress constraints only; re-issue the CA certificate without the other forms.',
    });
  }
  const v = nameConstraintViolations(constraints, names);
  if (v.length > 0) {
    throw new PolicyError('POLICY_NAME_CONSTRAINTS', v.map(describeViolation).join('; '), {
      hint: v.some((x) => x.name.origin === 'subject CN')
        ? 'Without a DNS SAN, relying parties (OpenSSL, browsers) check a CN that looks like a DNS name against dNSName constraints: add the name as a DNS SAN inside the permitted subtrees, or use a CN that is not a host name.'
        : "Relying parties would reject this certificate (RFC 5280 §4.2.1.10); request names inside the CA chain's permitted subtrees.",
      details: { violations: v.map(describeViolation) },
    });
  }
}
