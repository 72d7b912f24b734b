/**
 * The shapes of the YAML files as written (before validation). Everything is optional/unknown
 * here on purpose: load-profiles.ts checks each field and reports file:line and the field path.
 * See docs/profiles.md for the meaning of each field.
 */
export interface RawSubjectRule {
  type?: unknown;
  presence?: unknown;
  value?: unknown;
  allowed?: unknown;
  pattern?: unknown;
  maxLength?: unknown;
}

export interface RawUsage {
  values?: unknown;
  critical?: unknown;
}

export interface RawNameSet {
  dns?: unknown;
  ip?: unknown;
  email?: unknown;
}

export interface RawProfile {
  kind?: unknown; // 'ca' | 'leaf'
  description?: unknown;
  validity?: unknown; // ISO 8601 duration
  keyUsage?: RawUsage;
  extendedKeyUsage?: RawUsage;
  subject?: RawSubjectRule[];
  // CA profiles
  key?: unknown;
  signatureAlgorithm?: unknown;
  basicConstraints?: { pathLen?: unknown };
  nameConstraints?: { critical?: unknown; permitted?: RawNameSet; excluded?: RawNameSet };
  crlDistributionPoints?: unknown;
  caIssuers?: unknown;
  issues?: unknown;
  crl?: { validity?: unknown; overlap?: unknown };
  // leaf profiles
  allowedKeys?: unknown;
  san?: { required?: unknown; fromCsr?: unknown; dns?: unknown; ip?: unknown; email?: unknown; max?: unknown };
}

export interface RawHierarchy {
  cas?: { name?: unknown; profile?: unknown; parent?: unknown }[];
}
