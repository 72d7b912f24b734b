/**
 * Human-readable facts about a parsed chain for README / config comments: subject DN
 * (RFC 4514 string), SHA-256 fingerprint, validity end, CRL number and update times.
 * Deterministic (no clock): everything comes from the certificates and CRLs themselves.
 */
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { id_ce_cRLNumber, Name } from '@peculiar/asn1-x509';
import { toHex } from '../../common/hex.js';
import type { ParsedCert, ParsedChain, ParsedCrl } from './chain-input.js';

export function sha256Fingerprint(der: Uint8Array): string {
  return toHex(new Uint8Array(createHash('sha256').update(der).digest()), ':');
}

/** `2026-11-27T20:05:19Z` (RFC 3339, UTC, second precision). */
export function isoUtc(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Short names of RFC 4514 §3 plus the usual extras (RFC 4519, PKCS#9). */
const ATTR_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** RFC 4514 string (last RDN first), with §2.4 escaping. For display only, never compared. */
export function nameString(nameDer: Uint8Array): string {
  const name = AsnConvert.parse(nameDer, Name);
  return [...name]
    .reverse()
    .map((rdn) =>
      [...rdn]
        .map((atv) => {
          const v = atv.value.toString().replace(/([,+"\\<>;=])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
          return `${ATTR_NAMES[atv.type] ?? atv.type}=${v}`;
        })
        .join('+'),
    )
    .join(',');
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
