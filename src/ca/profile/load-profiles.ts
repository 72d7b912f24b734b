import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Duration } from 'luxon';
import type { KeyAlgorithm, SignatureAlgorithm } from '../../crypto/signer.js';
import { SIGNATURE_ALGORITHMS } from '../../crypto/algorithms.js';
import { LUXON_LOCALE } from '../clock.js';
import { ProfileError } from '../errors.js';
import type { NameConstraintSet } from '../x509/extensions.js';
import { parseCidr } from '../x509/ip-address.js';
import { EKU_OIDS, KEY_USAGE_BITS, RDN_OIDS, anyExtendedKeyUsage, type KeyUsageName } from '../x509/oids.js';
import type {
  CaNode,
  CaProfile,
  LeafProfile,
  Period,
  Profile,
  ProfileSet,
  SanPolicy,
  SubjectAttributeRule,
  UsagePolicy,
} from './profile-types.js';
import type { RawHierarchy, RawProfile } from './raw-profile-types.js';
import { YamlSource, type PathItem } from './yaml-source.js';
import { checkEmailConstraint, checkSubjectValueEncodable } from './name-encoding-checks.js';

/**
 * CA keys: P-521 is left out although cards can make it, because the key policy that lint
 * applies to every certificate (ca-invariants §2.1 "Keys") accepts P-256/P-384 only.
 */
const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['rsa2048', 'rsa3072', 'rsa4096', 'p256', 'p384'];
/** Leaf CSRs: P-521 is not accepted (Boulder goodkey / ca-invariants §1.1: P-256 and P-384 only). */
const LEAF_KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['rsa2048', 'rsa3072', 'rsa4096', 'p256', 'p384'];
export const HIERARCHY_FILE = 'hierarchy.yaml';

/** X.520 / RFC 5280 appendix A upper bounds. */
const RDN_MAX: Readonly<Record<string, number>> = {
  C: 2, ST: 128, L: 128, O: 64, OU: 64, CN: 64, serialNumber: 64, emailAddress: 255, DC: 63, UID: 256,
};

/** Top-level fields per kind; typed against the raw (as-written) schema in raw-profile-types.ts. */
const COMMON_KEYS: (keyof RawProfile)[] = ['kind', 'description', 'validity', 'keyUsage', 'extendedKeyUsage', 'subject'];
const CA_KEYS: (keyof RawProfile)[] = [...COMMON_KEYS, 'key', 'signatureAlgorithm', 'basicConstraints', 'nameConstraints', 'crlDistributionPoints', 'caIssuers', 'issues', 'crl'];
const LEAF_KEYS: (keyof RawProfile)[] = [...COMMON_KEYS, 'allowedKeys', 'san'];

class Reader {
  constructor(readonly src: YamlSource) {}

  noUnknownKeys(path: PathItem[], allowed: readonly string[]): void {
    for (const k of this.src.keys(path)) {
      if (!allowed.includes(k)) throw this.src.error([...path, k], `one of the fields ${allowed.join(', ')} (unknown field ${k})`);
    }
  }

  mapping(path: PathItem[], optional = false): boolean {
    const v = this.src.get(path);
    if (v === undefined && optional) return false;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw this.src.error(path, 'a mapping', v);
    return true;
  }

  string(path: PathItem[]): string;
  string(path: PathItem[], optional: true): string | undefined;
  string(path: PathItem[], optional = false): string | undefined {
    const v = this.src.get(path);
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string' || v.length === 0) throw this.src.error(path, 'a non-empty string', v);
    return v;
  }

  bool(path: PathItem[], dflt: boolean): boolean {
    const v = this.src.get(path);
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') throw this.src.error(path, 'true or false', v);
    return v;
  }

  int(path: PathItem[], min: number, max: number): number | undefined {
    const v = this.src.get(path);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw this.src.error(path, `an integer from ${min} to ${max}`, v);
    return v;
  }

  oneOf<T extends string>(path: PathItem[], allowed: readonly T[]): T {
    const v = this.src.get(path);
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw this.src.error(path, `one of ${allowed.join(', ')}`, v);
    return v as T;
  }

  list(path: PathItem[], optional = false): unknown[] | undefined {
    const v = this.src.get(path);
    if (v === undefined && optional) return undefined;
    if (!Array.isArray(v)) throw this.src.error(path, 'a list', v);
    return v;
  }

  stringList(path: PathItem[], check?: (s: string, p: PathItem[]) => void, optional = false): string[] | undefined {
    const l = this.list(path, optional);
    if (!l) return undefined;
    return l.map((_, i) => {
      const s = this.string([...path, i]);
      check?.(s, [...path, i]);
      return s;
    });
  }

  period(path: PathItem[]): Period {
    const v = this.src.get(path);
    if (typeof v !== 'string') throw this.src.error(path, 'an ISO 8601 duration such as P397D or P10Y', v);
    const d = Duration.fromISO(v, LUXON_LOCALE);
    if (!d.isValid || d.toMillis() <= 0) throw this.src.error(path, 'a positive ISO 8601 duration such as P397D or P10Y', v);
    return { iso: v, duration: d };
  }

  httpUri(s: string, p: PathItem[]): void {
    let ok = false;
    try {
      const u = new URL(s);
      ok = u.protocol === 'http:' && !!u.hostname;
    } catch {
      ok = false;
    }
    // BR 7.1.2.11.2 / RFC 5280 §4.2.1.13: plain http, so fetching the CRL needs no TLS (no loop).
    if (!ok) throw this.src.error(p, 'an http:// URL', s);
  }
}

function usage<T extends string>(r: Reader, path: PathItem[], allowed: readonly T[], translate?: (s: string, p: PathItem[]) => string): UsagePolicy<T> {
  r.mapping(path);
  r.noUnknownKeys(path, ['values', 'critical']);
  const vals = r.list([...path, 'values'])!;
  if (vals.length === 0) throw r.src.error([...path, 'values'], 'at least one value');
  const out = vals.map((_, i) => {
    const s = r.string([...path, 'values', i]);
    if (translate) return translate(s, [...path, 'values', i]) as T;
    if (!(allowed as readonly string[]).includes(s)) throw r.src.error([...path, 'values', i], `one of ${allowed.join(', ')}`, s);
    return s as T;
  });
  if (new Set(out).size !== out.length) throw r.src.error([...path, 'values'], 'no repeated values');
  return { values: out, critical: r.bool([...path, 'critical'], false) };
}

function subjectRules(r: Reader): SubjectAttributeRule[] {
  const l = r.list(['subject']) ?? [];
  const seen = new Set<string>();
  return l.map((_, i) => {
    const p: PathItem[] = ['subject', i];
    r.mapping(p);
    r.noUnknownKeys(p, ['type', 'presence', 'value', 'allowed', 'pattern', 'maxLength']);
    const type = r.oneOf([...p, 'type'], Object.keys(RDN_OIDS));
    if (seen.has(type)) throw r.src.error([...p, 'type'], `each attribute type once (${type} repeats)`);
    seen.add(type);
    const presence = r.oneOf([...p, 'presence'], ['fixed', 'required', 'optional'] as const);
    const maxLength = r.int([...p, 'maxLength'], 1, RDN_MAX[type] ?? 256) ?? RDN_MAX[type] ?? 256;
    if (presence === 'fixed') {
      const value = r.string([...p, 'value']);
      if ([...value].length > maxLength) throw r.src.error([...p, 'value'], `at most ${maxLength} characters`, value);
      checkSubjectValueEncodable(r.src, [...p, 'value'], type, value);
      for (const k of ['allowed', 'pattern']) if (r.src.get([...p, k]) !== undefined) throw r.src.error([...p, k], `no ${k} on a fixed attribute`);
      return { type, presence, value, maxLength };
    }
    if (r.src.get([...p, 'value']) !== undefined) throw r.src.error([...p, 'value'], 'no value unless presence is fixed');
    const allowed = r.stringList([...p, 'allowed'], (v, vp) => checkSubjectValueEncodable(r.src, vp, type, v), true);
    const patternText = r.string([...p, 'pattern'], true);
    let pattern: RegExp | undefined;
    if (patternText !== undefined) {
      try {
        // Anchored: the whole value must match.
        pattern = new RegExp(`^(?:${patternText})$`, 'u');
      } catch (e) {
        throw r.src.error([...p, 'pattern'], `a valid regular expression (${(e as Error).message})`, patternText);
      }
    }
    const rule: SubjectAttributeRule = { type, presence, maxLength };
    return { ...rule, ...(allowed ? { allowed } : {}), ...(pattern ? { pattern } : {}) };
  });
}

function dnsRule(r: Reader) {
  return (s: string, p: PathItem[]) => {
    if (!/^\.?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(s)) {
      throw r.src.error(p, 'a lower-case DNS name or .suffix', s);
    }
  };
}

function cidrRule(r: Reader) {
  return (s: string, p: PathItem[]) => {
    try {
      parseCidr(s);
      if (!s.includes('/')) throw new Error('no prefix');
    } catch {
      throw r.src.error(p, 'a CIDR range such as 10.0.0.0/8 or fd00::/8', s);
    }
  };
}

function nameSet(r: Reader, path: PathItem[]): NameConstraintSet | undefined {
  if (!r.mapping(path, true)) return undefined;
  r.noUnknownKeys(path, ['dns', 'ip', 'email']);
  const set = {
    dns: r.stringList([...path, 'dns'], dnsRule(r), true) ?? [],
    ip: r.stringList([...path, 'ip'], cidrRule(r), true) ?? [],
    email: r.stringList([...path, 'email'], (s, p) => checkEmailConstraint(r.src, p, s), true) ?? [],
  };
  if (set.dns.length + set.ip.length + set.email.length === 0) throw r.src.error(path, 'at least one dns, ip or email entry (RFC 5280 §4.2.1.10: no empty subtrees)');
  return set;
}

function ekuOid(r: Reader) {
  return (s: string, path: PathItem[]): string => {
    const oid = EKU_OIDS[s] ?? (/^\d+(\.\d+)+$/.test(s) ? s : undefined);
    if (!oid) throw r.src.error(path, `an EKU name (${Object.keys(EKU_OIDS).join(', ')}) or a dotted OID`, s);
    if (oid === anyExtendedKeyUsage) throw r.src.error(path, 'a specific key purpose (anyExtendedKeyUsage is never issued)', s);
    return oid;
  };
}

/** Parse and validate one profile file. */
export function parseProfile(src: YamlSource, name: string): Profile {
  const r = new Reader(src);
  r.mapping([]);
  const kind = r.oneOf(['kind'], ['ca', 'leaf'] as const);
  r.noUnknownKeys([], kind === 'ca' ? CA_KEYS : LEAF_KEYS);
  const description = r.string(['description'], true);
  const validity = r.period(['validity']);
  const keyUsage = usage<KeyUsageName>(r, ['keyUsage'], Object.keys(KEY_USAGE_BITS) as KeyUsageName[]);
  const extendedKeyUsage = src.get(['extendedKeyUsage']) === undefined ? undefined : usage<string>(r, ['extendedKeyUsage'], [], ekuOid(r));
  const subject = subjectRules(r);
  const common = { name, file: src.file, ...(description ? { description } : {}), validity, keyUsage, ...(extendedKeyUsage ? { extendedKeyUsage } : {}), subject };

  if (kind === 'ca') {
    const key = r.oneOf(['key'], KEY_ALGORITHMS);
    const signatureAlgorithm = r.oneOf(['signatureAlgorithm'], Object.keys(SIGNATURE_ALGORITHMS) as SignatureAlgorithm[]);
    if (signatureAlgorithm.startsWith('ecdsa') !== key.startsWith('p')) {
      throw src.error(['signatureAlgorithm'], `an algorithm usable with a ${key} key`, signatureAlgorithm);
    }
    // CA/Browser Forum Baseline Requirements §7.1.3.2.2: ECDSA keys sign with the hash that
    // matches the curve only (P-256 + SHA-256, P-384 + SHA-384, P-521 + SHA-512).
    const brHash: Partial<Record<KeyAlgorithm, SignatureAlgorithm>> = { p256: 'ecdsa-sha256', p384: 'ecdsa-sha384', p521: 'ecdsa-sha512' };
    if (brHash[key] !== undefined && signatureAlgorithm !== brHash[key]) {
      throw src.error(['signatureAlgorithm'], `${brHash[key]} for a ${key} key (CA/B Forum BR §7.1.3.2.2 allows only the curve's matching hash)`, signatureAlgorithm);
    }
    let pathLen: number | undefined;
    if (r.mapping(['basicConstraints'], true)) {
      r.noUnknownKeys(['basicConstraints'], ['pathLen']);
      pathLen = r.int(['basicConstraints', 'pathLen'], 0, 16);
    }
    if (!keyUsage.values.includes('keyCertSign') || !keyUsage.values.includes('cRLSign')) {
      throw src.error(['keyUsage', 'values'], 'keyCertSign and cRLSign in a CA profile (RFC 5280 §4.2.1.3)');
    }
    if (!keyUsage.critical) throw src.error(['keyUsage', 'critical'], 'true in a CA profile (BR 7.1.2.10.7)');
    let nameConstraints: CaProfile['nameConstraints'];
    if (r.mapping(['nameConstraints'], true)) {
      r.noUnknownKeys(['nameConstraints'], ['critical', 'permitted', 'excluded']);
      const permitted = nameSet(r, ['nameConstraints', 'permitted']);
      const excluded = nameSet(r, ['nameConstraints', 'excluded']);
      if (!permitted && !excluded) throw src.error(['nameConstraints'], 'permitted and/or excluded subtrees');
      nameConstraints = { critical: r.bool(['nameConstraints', 'critical'], true), ...(permitted ? { permitted } : {}), ...(excluded ? { excluded } : {}) };
    }
    const crlDistributionPoints = r.stringList(['crlDistributionPoints'], (s, p) => r.httpUri(s, p), true) ?? [];
    const caIssuers = r.stringList(['caIssuers'], (s, p) => r.httpUri(s, p), true) ?? [];
    const issues = r.stringList(['issues']) ?? [];
    r.mapping(['crl']);
    r.noUnknownKeys(['crl'], ['validity', 'overlap']);
    const crl = { validity: r.period(['crl', 'validity']), overlap: r.period(['crl', 'overlap']) };
    if (crl.overlap.duration.toMillis() >= crl.validity.duration.toMillis()) {
      throw src.error(['crl', 'overlap'], `a period shorter than crl.validity (${crl.validity.iso})`, crl.overlap.iso);
    }
    const p: CaProfile = {
      ...common, kind, key, signatureAlgorithm, crlDistributionPoints, caIssuers, issues, crl,
      ...(pathLen !== undefined ? { pathLen } : {}), ...(nameConstraints ? { nameConstraints } : {}),
    };
    return p;
  }

  const allowedKeys = (r.list(['allowedKeys']) ?? []).map((_, i) => r.oneOf(['allowedKeys', i], LEAF_KEY_ALGORITHMS));
  if (allowedKeys.length === 0) throw src.error(['allowedKeys'], 'at least one key type');
  if (keyUsage.values.includes('keyCertSign') || keyUsage.values.includes('cRLSign')) {
    throw src.error(['keyUsage', 'values'], 'no keyCertSign/cRLSign in a leaf profile (RFC 5280 §4.2.1.3: only for CAs)');
  }
  r.mapping(['san']);
  r.noUnknownKeys(['san'], ['required', 'fromCsr', 'dns', 'ip', 'email', 'max']);
  const dns = r.stringList(['san', 'dns'], dnsRule(r), true);
  const ip = r.stringList(['san', 'ip'], cidrRule(r), true);
  const email = r.stringList(['san', 'email'], (s, p) => dnsRule(r)(s, p), true);
  const san: SanPolicy = {
    required: r.bool(['san', 'required'], false),
    fromCsr: r.bool(['san', 'fromCsr'], true),
    max: r.int(['san', 'max'], 1, 100) ?? 10,
    ...(dns ? { dns } : {}),
    ...(ip ? { ip } : {}),
    ...(email ? { email } : {}),
  };
  const leaf: LeafProfile = { ...common, kind, allowedKeys, san };
  return leaf;
}

/**
 * Load every `*.yaml` profile in `dir` (the file name without extension is the profile name)
 * plus `hierarchy.yaml`, which names the CAs: `cas: [{ name, profile, parent? }]`.
 * Cross-checks: CA `issues` names existing profiles; exactly one root; parents exist and are
 * listed before their children; a CA's child CA profiles are in its `issues`.
 */
export function loadProfiles(dir: string): ProfileSet {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== HIERARCHY_FILE).sort();
  } catch (e) {
    throw new ProfileError('PROFILE_UNREADABLE', `cannot read profile directory ${dir}: ${(e as Error).message}`, { file: dir, cause: e });
  }
  const profiles = new Map<string, Profile>();
  const sources = new Map<string, YamlSource>();
  for (const f of files) {
    const name = basename(f, '.yaml');
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
      throw new ProfileError('PROFILE_INVALID', `${f}: profile file names must be lower-case kebab-case`, { file: join(dir, f) });
    }
    const src = YamlSource.read(join(dir, f));
    sources.set(name, src);
    profiles.set(name, parseProfile(src, name));
  }
  for (const [name, p] of profiles) {
    if (p.kind !== 'ca') continue;
    const src = sources.get(name)!;
    p.issues.forEach((n, i) => {
      if (!profiles.has(n)) throw src.error(['issues', i], `the name of a profile in ${dir}`, n);
    });
  }
  const cas = loadHierarchy(dir, profiles);
  return makeSet(dir, profiles, cas);
}

function loadHierarchy(dir: string, profiles: Map<string, Profile>): CaNode[] {
  const src = YamlSource.read(join(dir, HIERARCHY_FILE));
  const r = new Reader(src);
  r.mapping([]);
  r.noUnknownKeys([], ['cas'] satisfies (keyof RawHierarchy)[]);
  const list = r.list(['cas'])!;
  const out: CaNode[] = [];
  const names = new Set<string>();
  list.forEach((_, i) => {
    const p: PathItem[] = ['cas', i];
    r.mapping(p);
    r.noUnknownKeys(p, ['name', 'profile', 'parent']);
    const name = r.string([...p, 'name']);
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw src.error([...p, 'name'], 'a lower-case kebab-case CA name', name);
    if (names.has(name)) throw src.error([...p, 'name'], 'a CA name not used before', name);
    const profName = r.string([...p, 'profile']);
    const prof = profiles.get(profName);
    if (!prof || prof.kind !== 'ca') throw src.error([...p, 'profile'], 'the name of a CA profile (kind: ca)', profName);
    const parent = r.string([...p, 'parent'], true);
    if (parent === undefined) {
      if (out.some((c) => c.parent === undefined)) throw src.error([...p, 'parent'], 'a parent (only one root CA)');
    } else {
      const par = out.find((c) => c.name === parent);
      if (!par) throw src.error([...p, 'parent'], 'the name of a CA listed earlier', parent);
      if (!par.profile.issues.includes(profName)) throw src.error([...p, 'profile'], `a profile CA ${parent} may issue (its issues: ${par.profile.issues.join(', ')})`, profName);
    }
    names.add(name);
    out.push({ name, profile: prof, ...(parent !== undefined ? { parent } : {}) });
  });
  if (!out.some((c) => c.parent === undefined)) throw src.error(['cas'], 'exactly one CA without parent (the root)');
  return out;
}

function makeSet(dir: string, profiles: Map<string, Profile>, cas: CaNode[]): ProfileSet {
  const notFound = (what: string, name: string) =>
    new ProfileError('PROFILE_NOT_FOUND', `no ${what} named ${JSON.stringify(name)} in ${dir}`, {
      hint: `Known: ${[...(what === 'CA' ? cas.map((c) => c.name) : profiles.keys())].join(', ')}`,
    });
  return {
    dir,
    profiles,
    cas,
    profile(name) {
      const p = profiles.get(name);
      if (!p) throw notFound('profile', name);
      return p;
    },
    leafProfile(name) {
      const p = profiles.get(name);
      if (!p || p.kind !== 'leaf') throw notFound('leaf profile', name);
      return p;
    },
    caProfile(name) {
      const p = profiles.get(name);
      if (!p || p.kind !== 'ca') throw notFound('CA profile', name);
      return p;
    },
    ca(name) {
      const c = cas.find((x) => x.name === name);
      if (!c) throw notFound('CA', name);
      return c;
    },
  };
}
