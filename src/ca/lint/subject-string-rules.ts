import { children, readSingle, value } from '../x509/der.js';
import { rdnShortName } from '../x509/oids.js';
import { isPrintableString } from '../x509/string-types.js';
import { decodeOidContent, type CertificateModel } from './certificate-model.js';
import type { LintRule } from './lint-types.js';

/**
 * String-type rules for the subject DN (issue 9 item 3): each value's bytes fit its ASN.1 type,
 * and each attribute uses a type its syntax allows. Names follow zlint where one exists.
 */
interface RawAtv {
  readonly type: string;
  readonly tag: number;
  readonly bytes: Uint8Array;
}

const TAG = { utf8: 0x0c, printable: 0x13, ia5: 0x16, teletex: 0x14, bmp: 0x1e, universal: 0x1c } as const;

function atvs(name: Uint8Array): RawAtv[] {
  const out: RawAtv[] = [];
  for (const rdn of children(name, readSingle(name))) {
    for (const atv of children(name, rdn)) {
      const [oidT, valT] = children(name, atv);
      const oid = decodeOidContent(value(name, oidT!));
      out.push({ type: rdnShortName(oid) ?? oid, tag: valT!.tag, bytes: value(name, valT!) });
    }
  }
  return out;
}

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');

/** Allowed tags per attribute (RFC 5280 §4.1.2.6 and appendix A; X.520; PKCS #9; RFC 4519). */
function allowedTags(type: string): readonly number[] {
  if (type === 'C' || type === 'serialNumber') return [TAG.printable];
  if (type === 'emailAddress' || type === 'DC') return [TAG.ia5];
  // DirectoryString: "CAs conforming to this profile MUST use either the PrintableString or UTF8String encoding".
  return [TAG.printable, TAG.utf8];
}

const TAG_NAMES: Readonly<Record<number, string>> = { 0x0c: 'UTF8String', 0x13: 'PrintableString', 0x16: 'IA5String', 0x14: 'TeletexString', 0x1e: 'BMPString', 0x1c: 'UniversalString' };

export const SUBJECT_STRING_RULES: readonly LintRule<CertificateModel>[] = [
  {
    name: 'e_subject_printable_string_badalpha', source: 'X.680 §41.4 (zlint)',
    check: (m) => atvs(m.subject).filter((a) => a.tag === TAG.printable && !isPrintableString(latin1(a.bytes))).map((a) => `${a.type} PrintableString ${JSON.stringify(latin1(a.bytes))} has characters outside its set`),
  },
  {
    name: 'e_subject_ia5_string_not_ascii', source: 'X.680 §41.4 (IA5 = ASCII)',
    check: (m) => atvs(m.subject).filter((a) => a.tag === TAG.ia5 && a.bytes.some((b) => b > 0x7f)).map((a) => `${a.type} IA5String has non-ASCII bytes`),
  },
  {
    name: 'e_subject_utf8_string_invalid', source: 'X.680 §41.16; RFC 3629',
    check: (m) =>
      atvs(m.subject)
        .filter((a) => {
          if (a.tag !== TAG.utf8) return false;
          try {
            new TextDecoder('utf-8', { fatal: true }).decode(a.bytes);
            return false;
          } catch {
            return true;
          }
        })
        .map((a) => `${a.type} UTF8String is not valid UTF-8`),
  },
  {
    name: 'e_subject_dn_string_type_not_allowed', source: 'RFC 5280 §4.1.2.6, appendix A; X.520; RFC 4519',
    check: (m) => atvs(m.subject).filter((a) => !allowedTags(a.type).includes(a.tag)).map((a) => `${a.type} is a ${TAG_NAMES[a.tag] ?? `tag 0x${a.tag.toString(16)}`}; allowed: ${allowedTags(a.type).map((t) => TAG_NAMES[t]).join(' or ')}`),
  },
];
