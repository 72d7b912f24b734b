import { PolicyError } from '../errors.js';
import type { SanPolicy } from '../profile/profile-types.js';
import type { SanEntry } from '../x509/extensions.js';
import { ipInCidr, ipToString, parseIp } from '../x509/ip-address.js';

/** RFC 1034 §3.5 / RFC 5280 §4.2.1.6 "preferred name syntax": LDH labels, ≤ 63 each, ≤ 253 total. */
export function isPreferredDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  return name
    .split('.')
    .every((l) => l.length >= 1 && l.length <= 63 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(l));
}

/** `.example.com` matches any name below it; `example.com` matches exactly. */
export function dnsMatches(name: string, rule: string): boolean {
  const r = rule.toLowerCase();
  return r.startsWith('.') ? name.endsWith(r) && name.length > r.length : name === r;
}

const EMAIL_LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$/;

/**
 * Check and normalise SANs against the profile (DNS names lower-cased, IPs in canonical text,
 * duplicates removed). The operator's `--san` list replaces the CSR's; CSR SANs are only used
 * when the profile says `fromCsr`.
 */
export function applySanPolicy(
  policy: SanPolicy,
  csrSans: readonly SanEntry[],
  override: readonly SanEntry[] | undefined,
): SanEntry[] {
  const input = override ?? (policy.fromCsr ? csrSans : []);
  const out: SanEntry[] = [];
  const seen = new Set<string>();
  for (const e of input) {
    const n = checkOne(policy, e);
    const key = `${n.type}:${n.value}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(n);
    }
  }
  if (policy.required && out.length === 0) {
    throw new PolicyError('POLICY_SAN_REQUIRED', 'the profile requires at least one subjectAltName', {
      hint: 'Add --san dns:NAME / ip:ADDR / email:ADDR, or put SANs in the CSR.',
    });
  }
  if (out.length > policy.max) {
    throw new PolicyError('POLICY_SAN_COUNT', `${out.length} subjectAltNames requested; the profile allows ${policy.max}`);
  }
  return out;
}

function checkOne(policy: SanPolicy, e: SanEntry): SanEntry {
  switch (e.type) {
    case 'dns': {
      const name = e.value.toLowerCase();
      if (!isPreferredDnsName(name)) {
        throw new PolicyError('POLICY_SAN_DNS', `${JSON.stringify(e.value)} is not a DNS name in preferred syntax (no wildcards)`, {
          hint: 'Use letters, digits and hyphens in dot-separated labels.',
        });
      }
      if (!policy.dns) throw new PolicyError('POLICY_SAN_TYPE', 'DNS subjectAltNames are not allowed by this profile');
      if (!policy.dns.some((r) => dnsMatches(name, r))) {
        throw new PolicyError('POLICY_SAN_DNS', `DNS name ${name} is outside the allowed domains`, {
          hint: `Allowed: ${policy.dns.join(', ')}`,
        });
      }
      return { type: 'dns', value: name };
    }
    case 'ip': {
      const ip = parseIp(e.value);
      if (!ip) throw new PolicyError('POLICY_SAN_IP', `${JSON.stringify(e.value)} is not an IP address`);
      if (!policy.ip) throw new PolicyError('POLICY_SAN_TYPE', 'IP subjectAltNames are not allowed by this profile');
      if (!policy.ip.some((c) => ipInCidr(ip, c))) {
        throw new PolicyError('POLICY_SAN_IP', `IP ${e.value} is outside the allowed ranges`, { hint: `Allowed: ${policy.ip.join(', ')}` });
      }
      return { type: 'ip', value: ipToString(ip) };
    }
    case 'email': {
      const at = e.value.lastIndexOf('@');
      const local = e.value.slice(0, at);
      const domain = e.value.slice(at + 1).toLowerCase();
      if (at <= 0 || !EMAIL_LOCAL.test(local) || !isPreferredDnsName(domain)) {
        throw new PolicyError('POLICY_SAN_EMAIL', `${JSON.stringify(e.value)} is not an e-mail address (RFC 5321 mailbox)`);
      }
      if (!policy.email) throw new PolicyError('POLICY_SAN_TYPE', 'e-mail subjectAltNames are not allowed by this profile');
      if (!policy.email.some((d) => d.toLowerCase() === domain)) {
        throw new PolicyError('POLICY_SAN_EMAIL', `e-mail domain ${domain} is not allowed`, { hint: `Allowed: ${policy.email.join(', ')}` });
      }
      return { type: 'email', value: `${local}@${domain}` };
    }
    default:
      throw new PolicyError('POLICY_SAN_TYPE', `subjectAltName type ${String((e as SanEntry).type)} is not allowed`);
  }
}
