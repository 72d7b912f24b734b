import { PolicyError } from '../errors.js';

/**
 * Which ASN.1 string type an RDN attribute value is written in, decided by the attribute and
 * the content, so a value is never put in a type whose character set it breaks:
 * - countryName and serialNumber are PrintableString only (X.520; RFC 5280 appendix A), and
 *   PrintableString holds only A–Z a–z 0–9 space ' ( ) + , - . / : = ? (X.680 §41.4, table 10);
 * - emailAddress (PKCS #9) and domainComponent (RFC 4519) are IA5String only: ASCII;
 * - every DirectoryString attribute (CN, O, OU, L, ST, UID) is UTF8String (RFC 5280 §4.1.2.6:
 *   PrintableString or UTF8String; UTF8String is the form for new names), which holds any
 *   well-formed Unicode text.
 * A value that its attribute's only type cannot hold is refused (`POLICY_SUBJECT_…`).
 */
export type RdnStringType = 'printableString' | 'ia5String' | 'utf8String';

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

export function isPrintableString(s: string): boolean {
  return PRINTABLE.test(s);
}

export function isIa5String(s: string): boolean {
  return /^[\u0000-\u007f]*$/.test(s);
}

/** The attributes whose syntax admits exactly one string type. */
const ONLY: Readonly<Record<string, RdnStringType>> = {
  C: 'printableString',
  serialNumber: 'printableString',
  emailAddress: 'ia5String',
  DC: 'ia5String',
};

export interface StringTypeProblem {
  readonly code: 'POLICY_SUBJECT_NOT_PRINTABLE' | 'POLICY_SUBJECT_NOT_IA5' | 'POLICY_SUBJECT_NOT_UNICODE';
  readonly message: string;
  readonly hint: string;
}

/** The string type for `value` of attribute `shortType`, or why it has none. */
export function rdnStringType(shortType: string, value: string): RdnStringType | StringTypeProblem {
  const only = ONLY[shortType];
  if (only === 'printableString') {
    if (isPrintableString(value)) return only;
    const bad = [...value].find((c) => !isPrintableString(c))!;
    return {
      code: 'POLICY_SUBJECT_NOT_PRINTABLE',
      message: `subject ${shortType} ${JSON.stringify(value)} contains ${JSON.stringify(bad)}, which a PrintableString cannot hold (X.680 §41.4)`,
      hint: `${shortType} is PrintableString only: use letters, digits, space and ' ( ) + , - . / : = ?`,
    };
  }
  if (only === 'ia5String') {
    if (isIa5String(value)) return only;
    return {
      code: 'POLICY_SUBJECT_NOT_IA5',
      message: `subject ${shortType} ${JSON.stringify(value)} is not ASCII, which an IA5String must be`,
      hint: `${shortType} is IA5String only (ASCII). Internationalised addresses and domains cannot go into this attribute.`,
    };
  }
  // Lone surrogates: UTF-8 cannot encode them (Buffer would silently write U+FFFD).
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value)) {
    return { code: 'POLICY_SUBJECT_NOT_UNICODE', message: `subject ${shortType} contains an unpaired UTF-16 surrogate`, hint: 'Send the value as well-formed Unicode text.' };
  }
  return 'utf8String';
}

/** Like `rdnStringType`, but throws the refusal. */
export function requireRdnStringType(shortType: string, value: string): RdnStringType {
  const t = rdnStringType(shortType, value);
  if (typeof t === 'string') return t;
  throw new PolicyError(t.code, t.message, { hint: t.hint });
}
