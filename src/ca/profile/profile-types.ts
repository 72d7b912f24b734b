import type { Duration } from 'luxon';
import type { KeyAlgorithm, SignatureAlgorithm } from '../../crypto/signer.js';
import type { NameConstraintSet } from '../x509/extensions.js';
import type { KeyUsageName } from '../x509/oids.js';

/**
 * Parsed, validated profiles (the types the engine uses). The YAML shapes are in
 * raw-profile-types.ts; docs/profiles.md documents the schema.
 */

/** A validity or CRL period: the ISO 8601 text from the file and its luxon Duration. */
export interface Period {
  readonly iso: string;
  readonly duration: Duration;
}

/** One subject attribute, in DN order. */
export interface SubjectAttributeRule {
  /** Short name (`C`, `O`, `OU`, `CN`, `L`, `ST`, `serialNumber`, `emailAddress`, `DC`, `UID`). */
  readonly type: string;
  readonly presence: 'fixed' | 'required' | 'optional';
  /** For `fixed`: the value every certificate gets. */
  readonly value?: string;
  /** Allowed values (exact match), if restricted. */
  readonly allowed?: readonly string[];
  /** Pattern the value must match in full, if restricted. */
  readonly pattern?: RegExp;
  /** Upper bound in characters (RFC 5280 appendix A: CN ≤ 64, O ≤ 64, …). */
  readonly maxLength: number;
}

export interface SanPolicy {
  /** At least one SAN must be present. */
  readonly required: boolean;
  /** Take SANs from the CSR (operator `--san` always replaces them). */
  readonly fromCsr: boolean;
  /** Allowed DNS names: a suffix `.example.com` matches sub-domains, `example.com` that name only. Absent → DNS SANs refused. */
  readonly dns?: readonly string[];
  /** Allowed IP ranges (CIDR). Absent → IP SANs refused. */
  readonly ip?: readonly string[];
  /** Allowed e-mail domains. Absent → e-mail SANs refused. */
  readonly email?: readonly string[];
  /** Maximum number of SAN entries. */
  readonly max: number;
}

export interface UsagePolicy<T> {
  readonly values: readonly T[];
  readonly critical: boolean;
}

interface ProfileCommon {
  readonly name: string;
  /** The YAML file it came from (for messages). */
  readonly file: string;
  readonly description?: string;
  /** Default and maximum validity; always capped by the issuer's notAfter. */
  readonly validity: Period;
  readonly keyUsage: UsagePolicy<KeyUsageName>;
  /** EKU as OIDs; absent → no EKU extension. */
  readonly extendedKeyUsage?: UsagePolicy<string>;
  readonly subject: readonly SubjectAttributeRule[];
}

export interface CaProfile extends ProfileCommon {
  readonly kind: 'ca';
  /** The key to generate on the card. */
  readonly key: KeyAlgorithm;
  /** How this CA signs (certificates and CRLs it issues, and itself when self-signed). */
  readonly signatureAlgorithm: SignatureAlgorithm;
  /** basicConstraints pathLenConstraint; absent → unlimited. */
  readonly pathLen?: number;
  readonly nameConstraints?: {
    readonly permitted?: NameConstraintSet;
    readonly excluded?: NameConstraintSet;
    readonly critical: boolean;
  };
  /**
   * Where this CA publishes its CRL and its certificate: written into every certificate *this
   * CA issues* (cRLDistributionPoints, RFC 5280 §4.2.1.13; AIA caIssuers, §4.2.2.1).
   */
  readonly crlDistributionPoints: readonly string[];
  readonly caIssuers: readonly string[];
  /** Profiles (leaf or CA) this CA may issue. */
  readonly issues: readonly string[];
  /** CRL lifetime (nextUpdate − thisUpdate) and the overlap: re-issue this long before nextUpdate. */
  readonly crl: { readonly validity: Period; readonly overlap: Period };
}

export interface LeafProfile extends ProfileCommon {
  readonly kind: 'leaf';
  /** Key types accepted in CSRs. */
  readonly allowedKeys: readonly KeyAlgorithm[];
  readonly san: SanPolicy;
}

export type Profile = CaProfile | LeafProfile;

/** A CA in the hierarchy. */
export interface CaNode {
  readonly name: string;
  readonly profile: CaProfile;
  /** Parent CA name; absent for the root. */
  readonly parent?: string;
}

export interface ProfileSet {
  readonly dir: string;
  readonly profiles: ReadonlyMap<string, Profile>;
  /** CAs in topological order (root first). */
  readonly cas: readonly CaNode[];
  /** Throws ProfileError (`PROFILE_NOT_FOUND`) if absent. */
  profile(name: string): Profile;
  leafProfile(name: string): LeafProfile;
  caProfile(name: string): CaProfile;
  ca(name: string): CaNode;
}
