import { isIP } from 'node:net';
import type { SanEntry } from '../ca/x509/extensions.js';

/**
 * `--san dns:a.example.test`, `ip:10.0.0.1`, `email:x@y`, `uri:…`; a bare value is an IP or DNS
 * name. For the handlers of `ca sign`, `ca csr` and `ca enroll`; kept out of the command
 * definitions because `node:net` (for `isIP`) costs every `ca … --help` its load (issue #14).
 */
export function parseSan(s: string): SanEntry {
  const m = /^(dns|ip|email|uri):(.+)$/i.exec(s);
  if (m) return { type: m[1]!.toLowerCase() as SanEntry['type'], value: m[2]! };
  return isIP(s) ? { type: 'ip', value: s } : { type: 'dns', value: s };
}
