/**
 * Human-readable facts about a parsed chain for README / config comments: subject DN
 * (RFC 4514 string), SHA-256 fingerprint, validity end, CRL number and update times.
 * Deterministic (no clock): everything comes from the certificates and CRLs themselves.
 */
import { sha256 } from '../../common/sha256.js';
import { id_ce_cRLNumber } from '@peculiar/asn1-x509';
import { nameString } from '../x509/name-string.js';
import { toHex } from '../../common/hex.js';
import type { ParsedCert, ParsedChain, ParsedCrl } from './chain-input.js';

export function sha256Fingerprint(der: Uint8Array): string {
  return toHex(sha256(der), ':');
}

/** `2026-11-27T20:05:19Z` (RFC 3339, UTC, second precision). */
export function isoUtc(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function subjectString(c: ParsedCert): string {
  return nameString(c.subjectDer);
}

/** CRLNumber (RFC 5280 §5.2.3) as a decimal string; it may exceed 2^53, so it is read as a bigint. */
export function crlNumberString(p: ParsedCrl): string {
  const ext = (p.crl.tbsCertList.crlExtensions ?? []).find((e) => e.extnID === id_ce_cRLNumber);
  if (!ext) return '(none)';
  const der = new Uint8Array(ext.extnValue.buffer);
  // INTEGER: tag 02, short-form length (≤ 20 octets per RFC 5280 §5.2.3), content.
  if (der[0] !== 0x02 || der.length < 3 || der[1]! > 0x7f) return '(unreadable)';
  const content = der.subarray(2, 2 + der[1]!);
  return content.length === 0 ? '0' : BigInt(`0x${toHex(content)}`).toString(10);
}

export interface CaFacts {
  name: string;
  subject: string;
  fingerprint: string;
  notAfter: string;
}

export interface CrlFacts {
  name: string;
  crlNumber: string;
  thisUpdate: string;
  nextUpdate: string;
}

export function describeChain(parsed: ParsedChain): { cas: CaFacts[]; crls: CrlFacts[]; earliestNextUpdate: string } {
  const cas = parsed.certs.map((c, i) => ({
    name: parsed.names[i]!,
    subject: subjectString(c),
    fingerprint: sha256Fingerprint(c.der),
    notAfter: isoUtc(c.cert.tbsCertificate.validity.notAfter.getTime()),
  }));
  const crls: CrlFacts[] = [];
  let earliest: Date | undefined;
  parsed.crlsByLevel.forEach((p, i) => {
    if (!p) return;
    const next = p.crl.tbsCertList.nextUpdate?.getTime();
    if (next && (!earliest || next < earliest)) earliest = next;
    crls.push({
      name: parsed.names[i]!,
      crlNumber: crlNumberString(p),
      thisUpdate: isoUtc(p.crl.tbsCertList.thisUpdate.getTime()),
      nextUpdate: next ? isoUtc(next) : '(none: RFC 5280 §5.1.2.5 requires one)',
    });
  });
  return { cas, crls, earliestNextUpdate: earliest ? isoUtc(earliest) : '(no CRL)' };
}
