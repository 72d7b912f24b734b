import { checkTimeEncoding } from '../lint/x509-time.js';
import { children, readSingle, type Tlv } from './der.js';

/** A Certificate's TBSCertificate fields, as TLVs of the certificate's own bytes (RFC 5280 §4.1). */
export interface TbsFieldTlvs {
  readonly validity: Tlv;
  readonly subject: Tlv;
  readonly spki: Tlv;
  /** What follows the SPKI: [1] [2] unique IDs, [3] extensions (all OPTIONAL). */
  readonly rest: readonly Tlv[];
}

/**
 * TBSCertificate (RFC 5280 §4.1): [0] version OPTIONAL, serialNumber, signature, issuer,
 * validity, subject, subjectPublicKeyInfo, then the optional fields, on the strict DER reader
 * (no object model). Certificate, TBS, validity, subject and SPKI must be SEQUENCEs.
 */
export function tbsFieldTlvs(der: Uint8Array): TbsFieldTlvs {
  const cert = readSingle(der);
  const [tbsT] = children(der, cert);
  if (cert.tag !== 0x30 || tbsT?.tag !== 0x30) throw new Error('not a certificate');
  const f = children(der, tbsT);
  const off = f[0]?.tag === 0xa0 ? 1 : 0;
  const [validity, subject, spki] = [f[off + 3], f[off + 4], f[off + 5]];
  if (validity?.tag !== 0x30 || subject?.tag !== 0x30 || spki?.tag !== 0x30) throw new Error('TBSCertificate fields missing');
  return { validity, subject, spki, rest: f.slice(off + 6) };
}

/** notBefore and notAfter of a Validity TLV; an encoding RFC 5280 §4.1.2.5 frowns on (GeneralizedTime before 2050) still reads. */
export function validityDates(der: Uint8Array, validity: Tlv): { notBefore: Date; notAfter: Date } {
  const [nb, na] = children(der, validity);
  return { notBefore: time(der, nb), notAfter: time(der, na) };
}

function time(der: Uint8Array, t: Tlv | undefined): Date {
  if (!t) throw new Error('validity is incomplete');
  const { date, problem } = checkTimeEncoding(der, t);
  if (!date) throw new Error(problem ?? 'bad time');
  return date;
}
