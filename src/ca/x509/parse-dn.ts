import { CaError } from '../errors.js';
import { rdnOid, type NameAttribute } from './name.js';

/**
 * Parse an RFC 4514 string DN (`CN=alice,OU=VPN,O=Example`) into Name attributes in
 * RDNSequence order (RFC 4514 §2.1: the string lists the LAST RDN first, so the result is the
 * reverse of the string order). Supported: `,` (and `;`, RFC 1779) between RDNs, `\` escapes of
 * §2.4 (`\,` `\+` `\"` `\\` `\<` `\>` `\;` `\=` `\ ` `\#` and `\XX` hex pairs, UTF-8), spaces
 * around separators trimmed. Multi-valued RDNs (`+`) and `#`-hex values are refused: profiles
 * match one attribute per RDN, and a BER value cannot be checked against a subject policy.
 */
export function parseRfc4514(dn: string): NameAttribute[] {
  const text = dn.trim();
  if (text === '') return [];
  const out: NameAttribute[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new CaError('USAGE_BAD_DN', `${JSON.stringify(dn)} is not an RFC 4514 DN: ${why}`, {
      hint: 'Write it as TYPE=value pairs separated by commas, most specific first, e.g. "CN=alice,OU=VPN,O=Example,C=DE"; escape , + " \\ < > ; with a backslash.',
    });
  };
  while (i < text.length) {
    while (text[i] === ' ') i++;
    const eq = text.indexOf('=', i);
    if (eq < 0) fail(`no "=" after position ${i}`);
    const type = text.slice(i, eq).trim();
    if (!/^([A-Za-z][A-Za-z0-9-]*|\d+(\.\d+)+)$/.test(type)) fail(`bad attribute type ${JSON.stringify(type)}`);
    const canonical = canonicalType(type);
    try {
      rdnOid(canonical);
    } catch {
      fail(`unknown attribute type ${JSON.stringify(type)}`);
    }
    i = eq + 1;
    while (text[i] === ' ') i++;
    if (text[i] === '#') fail('hex-encoded (#) values are not accepted');
    const bytes: number[] = [];
    let trailingSpaces = 0;
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (c === ',' || c === ';') break;
      if (c === '+') fail('multi-valued RDNs (+) are not accepted');
      if (c === '\\') {
        const n = text[i + 1];
        if (n === undefined) fail('a trailing backslash');
        if (/[0-9A-Fa-f]/.test(n!) && /[0-9A-Fa-f]/.test(text[i + 2] ?? '')) {
          bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
          i += 2;
        } else if (',+"\\<>;= #'.includes(n!)) {
          bytes.push(...Buffer.from(n!, 'utf8'));
          i += 1;
        } else fail(`bad escape \\${n}`);
        trailingSpaces = 0;
        continue;
      }
      if (c === '"' || c === '<' || c === '>') fail(`unescaped ${c}`);
      trailingSpaces = c === ' ' ? trailingSpaces + 1 : 0;
      bytes.push(...Buffer.from(c, 'utf8'));
    }
    const raw = Buffer.from(bytes.slice(0, bytes.length - trailingSpaces));
    const value = raw.toString('utf8');
    if (!Buffer.from(value, 'utf8').equals(raw)) fail(`the value of ${type} is not valid UTF-8`);
    if (value === '') fail(`empty value for ${type}`);
    out.push({ type: canonical, value });
    if (text[i] === ',' || text[i] === ';') {
      i++;
      if (text.slice(i).trim() === '') fail('a trailing separator');
    }
  }
  return out.reverse();
}

/** Short names as `RDN_OIDS` spells them, case-insensitively (RFC 4514 §3: names are case-insensitive). */
function canonicalType(t: string): string {
  const known = ['C', 'ST', 'L', 'O', 'OU', 'CN', 'serialNumber', 'emailAddress', 'DC', 'UID'];
  return known.find((k) => k.toLowerCase() === t.toLowerCase()) ?? t;
}
