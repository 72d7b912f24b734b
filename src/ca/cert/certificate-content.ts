import { DateTime, type Duration } from 'luxon';
import { LUXON_UTC } from '../clock.js';
import type { SignatureAlgorithm } from '../../crypto/signer.js';
import { signatureAlgorithmInfo } from '../../crypto/algorithms.js';
import { PolicyError } from '../errors.js';
import type { CaProfile, Profile } from '../profile/profile-types.js';
import * as ext from '../x509/extensions.js';
import type { SanEntry } from '../x509/extensions.js';
import { ipToString, parseIp } from '../x509/ip-address.js';
import { subjectKeyIdentifier } from '../x509/key-identifier.js';
import { encodeName, type NameAttribute } from '../x509/name.js';
import { spkiKeyInfo } from '../x509/spki.js';
import { isCanonicalSpki } from '../x509/canonical-spki.js';
import { checkSerial, wholeSeconds } from './build-tbs-certificate.js';
import { applySanPolicy } from './san-policy.js';
import { assertNameConstraints, constrainedNames } from './name-constraints.js';
import { applySubjectPolicy } from './subject-policy.js';
import type { ExtensionInput, TbsCertificateInput } from './tbs-certificate-input.js';

/** What the engine knows about the issuing CA (from its stored certificate). */
export interface IssuerInfo {
  /** The CA certificate's subject Name DER (becomes the issuer, byte-identical). */
  readonly subjectName: Uint8Array;
  /** The CA certificate's subjectKeyIdentifier (becomes the AKI). */
  readonly ski: Uint8Array;
  readonly notBefore?: Date;
  readonly notAfter: Date;
  /** The CA's public key, DER SubjectPublicKeyInfo (used to check the signature algorithm fits). */
  readonly spki: Uint8Array;
  readonly profile: CaProfile;
  /**
   * The CA's certificate followed by every CA certificate above it up to the root (DER). Name
   * constraints are taken from these (name-constraints.ts), never from profiles.
   */
  readonly chain: readonly Uint8Array[];
}

export interface ValidityRequest {
  /** Lifetime in days from now. */
  readonly days?: number;
  /** Explicit notAfter. Mutually exclusive with `days`. */
  readonly notAfter?: Date;
}

export interface CertificateContentRequest {
  /** The issuing CA, or `'self'` for a self-signed root (issuer = subject, key = `spki`). */
  readonly issuer: IssuerInfo | 'self';
  /** Profile of the certificate being made. */
  readonly profile: Profile;
  /** Subject public key, DER SubjectPublicKeyInfo (from the CSR, or the card for a CA key). */
  readonly spki: Uint8Array;
  /** Requested subject attributes (CSR subject and/or operator input). */
  readonly subject: readonly NameAttribute[];
  /** SANs from the CSR (used only if the profile says `fromCsr`). */
  readonly csrSans?: readonly SanEntry[];
  /** Operator `--san` values; when given they replace the CSR's SANs. */
  readonly sanOverride?: readonly SanEntry[];
  readonly validity?: ValidityRequest;
  /** Serial content octets (positive, minimal, ≤ 20 octets), chosen by the caller. */
  readonly serial: Uint8Array;
  /** Signing time (from the injected clock). */
  readonly now: Date;
}

export interface CertificateContent {
  readonly tbs: TbsCertificateInput;
  /** Algorithm the issuer signs with (the issuer profile's, or the profile's own for a root). */
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly subject: readonly NameAttribute[];
  readonly sans: readonly SanEntry[];
}

/**
 * notBefore is backdated by 5 minutes so relying parties whose clocks run slightly behind
 * accept a fresh certificate at once. This stays well inside the BR 7.1.2.10.1 / ca-invariants
 * §2.1 windows (CA: notBefore ∈ [signing − 1 day, signing]; subscriber: within 48 h).
 */
export const NOT_BEFORE_BACKDATE_MS = 5 * 60 * 1000;

/**
 * Decide the content of a certificate from the profiles, never from CSR extensions
 * (ca-invariants.md §1.5 (4)). Throws `PolicyError` (`POLICY_…`) when the request is outside
 * the profile. The result goes to `buildTbsCertificate(content.tbs, content.signatureAlgorithm)`.
 */
export function certificateContent(req: CertificateContentRequest): CertificateContent {
  const { profile } = req;
  const self = req.issuer === 'self';
  checkSerial(req.serial);
  if (!isCanonicalSpki(req.spki)) {
    throw new PolicyError('POLICY_KEY_NOT_CANONICAL', 'the public key is not in its canonical DER form (RSA: NULL parameters; EC: named curve, uncompressed point)', {
      hint: 'Regenerate the request with a standard tool; cardca never certifies a key in a non-canonical encoding.',
    });
  }
  const key = spkiKeyInfo(req.spki);
  if (profile.kind === 'ca') {
    if (key.algorithm !== profile.key) {
      throw new PolicyError('POLICY_KEY_TYPE', `CA profile ${profile.name} needs a ${profile.key} key, got ${key.algorithm ?? key.type}`);
    }
  } else if (!key.algorithm || !profile.allowedKeys.includes(key.algorithm)) {
    throw new PolicyError('POLICY_KEY_TYPE', `profile ${profile.name} does not accept ${key.algorithm ?? `${key.type}-${key.bits}`} keys`, {
      hint: `Allowed key types: ${profile.allowedKeys.join(', ')}`,
    });
  }

  let issuerProfile: CaProfile;
  let issuerSpki: Uint8Array;
  if (self) {
    if (profile.kind !== 'ca') throw new PolicyError('POLICY_SELF_SIGNED', 'only a CA profile can be self-signed');
    issuerProfile = profile;
    issuerSpki = req.spki;
  } else {
    const iss = req.issuer as IssuerInfo;
    issuerProfile = iss.profile;
    issuerSpki = iss.spki;
    if (!iss.profile.issues.includes(profile.name)) {
      throw new PolicyError('POLICY_PROFILE_NOT_ALLOWED', `CA profile ${iss.profile.name} may not issue ${profile.name}`, {
        hint: `It may issue: ${iss.profile.issues.join(', ') || '(nothing)'}`,
      });
    }
    if (profile.kind === 'ca' && iss.profile.pathLen !== undefined) {
      if (iss.profile.pathLen === 0 || (profile.pathLen ?? Infinity) >= iss.profile.pathLen) {
        throw new PolicyError('POLICY_PATHLEN', `issuer pathLen ${iss.profile.pathLen} does not allow a sub-CA with pathLen ${profile.pathLen ?? 'unlimited'}`);
      }
    }
  }
  const signatureAlgorithm = issuerProfile.signatureAlgorithm;
  const issuerKey = spkiKeyInfo(issuerSpki);
  const family = signatureAlgorithmInfo(signatureAlgorithm).family;
  if ((family === 'ecdsa') !== (issuerKey.type === 'ec')) {
    throw new PolicyError('POLICY_SIGNATURE_ALGORITHM', `${signatureAlgorithm} cannot be made with the issuer's ${issuerKey.type} key`);
  }

  const subject = applySubjectPolicy(profile.subject, req.subject);
  const sans = profile.kind === 'leaf' ? applySanPolicy(profile.san, req.csrSans ?? [], req.sanOverride) : [];
  if (profile.kind === 'ca' && subject.length === 0) {
    throw new PolicyError('POLICY_SUBJECT_REQUIRED', 'a CA certificate needs a non-empty subject (RFC 5280 §4.1.2.6)');
  }
  if (subject.length === 0 && sans.length === 0) {
    throw new PolicyError('POLICY_SUBJECT_REQUIRED', 'the certificate would have neither subject nor subjectAltName (RFC 5280 §4.1.2.6)');
  }
  if (profile.kind === 'leaf') checkCommonNameInSans(profile, subject, sans);
  if (!self) assertNameConstraints((req.issuer as IssuerInfo).chain, constrainedNames(sans, subject, profile.kind === 'leaf'));
  const subjectName = encodeName(subject);

  const { notBefore, notAfter } = decideValidity(req, profile, self ? undefined : (req.issuer as IssuerInfo));

  const ski = subjectKeyIdentifier(req.spki);
  const extensions: ExtensionInput[] = [];
  // basicConstraints: critical in CA certs (RFC 5280 §4.2.1.9); in leaves CA:FALSE, critical too
  // so no relying party can take the certificate for a CA.
  extensions.push(ext.basicConstraintsExtension(profile.kind === 'ca', profile.kind === 'ca' ? profile.pathLen : undefined, true));
  // RFC 5480 §3: with an EC key keyEncipherment and dataEncipherment MUST NOT be set; a leaf
  // profile that accepts RSA and EC keys lists them for RSA and they are dropped for EC.
  const usages = key.type === 'ec' ? profile.keyUsage.values.filter((u) => u !== 'keyEncipherment' && u !== 'dataEncipherment') : profile.keyUsage.values;
  if (usages.length === 0) throw new PolicyError('POLICY_KEY_USAGE', `profile ${profile.name} leaves no keyUsage bit for a ${key.type} key`);
  extensions.push(ext.keyUsageExtension(usages, profile.keyUsage.critical));
  if (profile.extendedKeyUsage) extensions.push(ext.extendedKeyUsageExtension(profile.extendedKeyUsage.values, profile.extendedKeyUsage.critical));
  extensions.push(ext.subjectKeyIdentifierExtension(ski));
  // Self-signed: no AKI. RFC 5280 §4.2.1.1 allows omitting it when the certificate is
  // self-signed, and an AKI equal to the SKI would carry no information.
  if (!self) extensions.push(ext.authorityKeyIdentifierExtension((req.issuer as IssuerInfo).ski));
  // SAN critical iff the subject is empty (RFC 5280 §4.2.1.6).
  if (sans.length > 0) extensions.push(ext.subjectAltNameExtension(sans, subject.length === 0));
  if (profile.kind === 'ca' && profile.nameConstraints) {
    const nc = profile.nameConstraints;
    extensions.push(ext.nameConstraintsExtension(nc.permitted, nc.excluded, nc.critical));
  }
  // The issuer's publication points (SHOULD NOT be in a root, BR 7.1.2.11.2: skipped when self-signed).
  if (!self && issuerProfile.crlDistributionPoints.length > 0) {
    extensions.push(ext.crlDistributionPointsExtension(issuerProfile.crlDistributionPoints));
  }
  if (!self && issuerProfile.caIssuers.length > 0) extensions.push(ext.authorityInfoAccessExtension(issuerProfile.caIssuers));

  const tbs: TbsCertificateInput = {
    serial: req.serial.slice(),
    issuerName: self ? subjectName : (req.issuer as IssuerInfo).subjectName.slice(),
    subjectName,
    notBefore,
    notAfter,
    spki: req.spki.slice(),
    extensions,
  };
  return { tbs, signatureAlgorithm, subject, sans };
}

/**
 * The content `certificateContent(req)` gives, from a decision already made for the same
 * request at another time and serial: only the serial and the validity (the two inputs that
 * depend on `req.serial` and `req.now`) are decided again, with every validity check; the
 * subject, SANs, name constraints, key checks and extensions do not depend on them. A batch
 * decides each CSR's content once in its plan (the refusals before the card) and stamps it
 * here at reservation, instead of deciding everything twice.
 */
export function certificateContentAt(decided: CertificateContent, req: CertificateContentRequest): CertificateContent {
  checkSerial(req.serial);
  const { notBefore, notAfter } = decideValidity(req, req.profile, req.issuer === 'self' ? undefined : req.issuer);
  return { ...decided, tbs: { ...decided.tbs, serial: req.serial.slice(), notBefore, notAfter } };
}

/**
 * `now` + the profile's maximum validity, in luxon's calendar arithmetic (months and years are
 * not fixed lengths). The last answer is kept: every certificate of a batch signed within the
 * same second asks the same question (same Duration object, same whole second), and luxon's
 * DateTime construction and `plus` were ~0.5 ms of each certificate's planning and reservation
 * (docs/benchmarks.md, "Batches, third pass"). Exact: the key is the full input.
 */
let lastMax: { duration: Duration; at: number; max: number } | undefined;
function profileMaxNotAfter(now: Date, duration: Duration): Date {
  if (lastMax?.duration !== duration || lastMax.at !== now.getTime()) {
    lastMax = { duration, at: now.getTime(), max: DateTime.fromJSDate(now, LUXON_UTC).plus(duration).toJSDate().getTime() };
  }
  return new Date(lastMax.max);
}

function decideValidity(
  req: CertificateContentRequest,
  profile: Profile,
  issuer: IssuerInfo | undefined,
): { notBefore: Date; notAfter: Date } {
  const now = wholeSeconds(req.now);
  const notBefore = new Date(now.getTime() - NOT_BEFORE_BACKDATE_MS);
  const max = profileMaxNotAfter(now, profile.validity.duration);
  const v = req.validity ?? {};
  if (v.days !== undefined && v.notAfter !== undefined) {
    throw new PolicyError('POLICY_VALIDITY', 'give either days or notAfter, not both');
  }
  let notAfter: Date;
  let explicit = true;
  if (v.days !== undefined) {
    if (!Number.isInteger(v.days) || v.days <= 0) throw new PolicyError('POLICY_VALIDITY', `days must be a positive integer, got ${v.days}`);
    notAfter = new Date(now.getTime() + v.days * 86_400_000);
  } else if (v.notAfter !== undefined) {
    notAfter = wholeSeconds(v.notAfter);
  } else {
    notAfter = max;
    explicit = false;
  }
  if (notAfter.getTime() > max.getTime()) {
    throw new PolicyError('POLICY_VALIDITY_TOO_LONG', `requested notAfter ${notAfter.toISOString()} is beyond the profile maximum ${profile.validity.iso}`, {
      hint: `Ask for at most ${profile.validity.iso}.`,
    });
  }
  if (issuer && notAfter.getTime() > issuer.notAfter.getTime()) {
    if (explicit) {
      throw new PolicyError('POLICY_VALIDITY_EXCEEDS_ISSUER', `requested notAfter ${notAfter.toISOString()} is after the issuer's notAfter ${issuer.notAfter.toISOString()}`, {
        hint: 'Ask for a shorter validity, or renew the issuing CA first.',
      });
    }
    notAfter = wholeSeconds(issuer.notAfter);
  }
  if (notAfter.getTime() <= now.getTime()) {
    throw new PolicyError('POLICY_VALIDITY', 'the certificate would already be expired (issuer expired or notAfter in the past)');
  }
  return { notBefore, notAfter };
}

/**
 * For server-type profiles (DNS or IP SANs allowed) a CN must repeat one of the SANs (BR
 * 7.1.4.3: CN, if present, is one of the subjectAltName values; RFC 6125 §6.4.4 clients ignore
 * CN when SANs exist, so a CN that is not a SAN only misleads people).
 */
function checkCommonNameInSans(profile: Profile & { kind: 'leaf' }, subject: readonly NameAttribute[], sans: readonly SanEntry[]): void {
  if (!profile.san.dns && !profile.san.ip) return;
  const cn = subject.find((a) => a.type === 'CN')?.value;
  if (cn === undefined) return;
  const ip = parseIp(cn);
  const match = sans.some((s) =>
    s.type === 'dns' ? s.value === cn.toLowerCase() : s.type === 'ip' && ip ? s.value === ipToString(ip) : false,
  );
  if (!match) {
    throw new PolicyError('POLICY_CN_NOT_IN_SAN', `subject CN ${JSON.stringify(cn)} is not one of the subjectAltNames`, {
      hint: `Add --san dns:${cn} (or ip:${cn}), or use one of the SAN names as CN.`,
    });
  }
}
