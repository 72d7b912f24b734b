import { isPreferredDnsName } from '../cert/san-policy.js';
import { rdnStringType } from '../x509/string-types.js';
import type { PathItem, YamlSource } from './yaml-source.js';

/**
 * Load-time checks that a profile's names and constraints can be encoded (issue 9 "Bad input":
 * refused at load, naming file, line and field), so a bad profile fails when it is read, not
 * at the first signing ceremony. Called from load-profiles.ts.
 */

/** A fixed or allowed subject value must fit its attribute's string type (string-types.ts). */
export function checkSubjectValueEncodable(src: YamlSource, path: readonly PathItem[], type: string, value: string): void {
  const t = rdnStringType(type, value);
  if (typeof t !== 'string') throw src.error(path, `a value a ${type} attribute can hold (${t.hint})`, value);
}

/**
 * An rfc822Name subtree (RFC 5280 §4.2.1.10): a mailbox `local@host`, a host `host`, or a
 * domain `.domain`; IA5String, so ASCII only, and the host part in DNS preferred syntax.
 */
export function checkEmailConstraint(src: YamlSource, path: readonly PathItem[], s: string): void {
  const at = s.lastIndexOf('@');
  const local = at >= 0 ? s.slice(0, at) : '';
  const host = at >= 0 ? s.slice(at + 1) : s.startsWith('.') ? s.slice(1) : s;
  const ok = /^[\u0021-\u007e]*$/.test(s) && !/[@\s]/.test(local) && (at < 0 || local.length > 0) && isPreferredDnsName(host.toLowerCase()) && host === host.toLowerCase();
  if (!ok) throw src.error(path, 'an e-mail constraint: mailbox local@host, host, or .domain (ASCII, lower-case host)', s);
}
