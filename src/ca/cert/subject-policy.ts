import { PolicyError } from '../errors.js';
import type { SubjectAttributeRule } from '../profile/profile-types.js';
import { rdnOid, type NameAttribute } from '../x509/name.js';
import { rdnShortName } from '../x509/oids.js';
import { requireRdnStringType } from '../x509/string-types.js';

function canonicalType(t: string): string {
  try {
    const oid = rdnOid(t);
    return rdnShortName(oid) ?? oid;
  } catch {
    return t;
  }
}

/**
 * Build the subject from the profile's rules and the requested attributes (from the CSR and/or
 * the operator). Output order is the profile's order. `fixed` values always come from the
 * profile (a differing requested value is replaced, not trusted); `required` ones must be
 * requested; any requested attribute the profile does not name is refused (content comes from
 * the profile, ca-invariants.md §1.5 (4)).
 */
export function applySubjectPolicy(rules: readonly SubjectAttributeRule[], requested: readonly NameAttribute[]): NameAttribute[] {
  const byType = new Map<string, string>();
  for (const a of requested) {
    const t = canonicalType(a.type);
    if (byType.has(t)) {
      throw new PolicyError('POLICY_SUBJECT_DUPLICATE', `the requested subject has ${t} more than once`, {
        hint: 'Request each subject attribute once.',
      });
    }
    byType.set(t, a.value);
  }
  const known = new Set(rules.map((r) => canonicalType(r.type)));
  for (const t of byType.keys()) {
    if (!known.has(t)) {
      throw new PolicyError('POLICY_SUBJECT_ATTRIBUTE', `subject attribute ${t} is not allowed by the profile`, {
        hint: `Allowed attributes: ${[...known].join(', ') || '(none)'}. Remove ${t} from the request.`,
      });
    }
  }
  const out: NameAttribute[] = [];
  for (const r of rules) {
    const t = canonicalType(r.type);
    if (r.presence === 'fixed') {
      out.push({ type: t, value: r.value! });
      continue;
    }
    const v = byType.get(t);
    if (v === undefined || v === '') {
      if (r.presence === 'required') {
        throw new PolicyError('POLICY_SUBJECT_REQUIRED', `subject attribute ${t} is required by the profile`, {
          hint: `Put ${t} in the CSR subject or pass it with --subject.`,
        });
      }
      continue;
    }
    checkValue(r, t, v);
    out.push({ type: t, value: v });
  }
  return out;
}

function checkValue(r: SubjectAttributeRule, t: string, v: string): void {
  if ([...v].length > r.maxLength) {
    throw new PolicyError('POLICY_SUBJECT_VALUE', `subject ${t} is longer than ${r.maxLength} characters`, {
      hint: 'Shorten the value (RFC 5280 appendix A upper bounds).',
    });
  }
  // Control characters have no place in a DN and confuse log readers.
  if (/[\u0000-\u001f\u007f]/.test(v)) {
    throw new PolicyError('POLICY_SUBJECT_VALUE', `subject ${t} contains control characters`);
  }
  if (r.allowed && !r.allowed.includes(v)) {
    throw new PolicyError('POLICY_SUBJECT_VALUE', `subject ${t}=${JSON.stringify(v)} is not one of the allowed values`, {
      hint: `Allowed: ${r.allowed.join(', ')}`,
    });
  }
  if (r.pattern && !r.pattern.test(v)) {
    throw new PolicyError('POLICY_SUBJECT_VALUE', `subject ${t}=${JSON.stringify(v)} does not match ${r.pattern.source}`, {
      hint: 'Change the value to match the profile pattern.',
    });
  }
  // The attribute's string type must be able to hold the value (string-types.ts).
  requireRdnStringType(t, v);
  if (t === 'C' && !/^[A-Z]{2}$/.test(v)) {
    throw new PolicyError('POLICY_SUBJECT_VALUE', `country ${JSON.stringify(v)} is not a two-letter ISO 3166 code`);
  }
}
