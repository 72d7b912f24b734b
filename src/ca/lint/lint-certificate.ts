import { bytesEqual } from '../../common/hex.js';
import { LintError, type LintFinding } from '../errors.js';
import { children, readSingle, slice } from '../x509/der.js';
import { certificateModel, type CertificateLintContext } from './certificate-model.js';
import { CERTIFICATE_RULES } from './certificate-rules.js';
import { runRules } from './lint-types.js';

export type { CertificateLintContext } from './certificate-model.js';

/** Run every certificate rule on a TBSCertificate (before signing). */
export function lintTbsCertificate(tbs: Uint8Array, ctx: CertificateLintContext): LintFinding[] {
  let model;
  try {
    model = certificateModel(tbs, ctx);
  } catch (e) {
    return [{ rule: 'e_tbs_certificate_malformed', message: (e as Error).message }];
  }
  return runRules(CERTIFICATE_RULES, model);
}

/**
 * A TBS that `lintTbsCertificate` already passed clean with the same context, byte for byte.
 * The rules are a pure function of (TBS bytes, context): on a signed certificate whose TBS is
 * these exact bytes they would find the same nothing, so `lintCertificate` runs only the
 * certificate-level rule then, not every rule a second time on the same bytes (a batch's
 * second-largest host cost). The bytes are compared, never assumed.
 */
export interface LintedTbs {
  readonly tbs: Uint8Array;
  readonly ctx: CertificateLintContext;
}

/** Run the rules on a signed certificate: outer/inner algorithm identity plus every TBS rule. */
export function lintCertificate(cert: Uint8Array, ctx: CertificateLintContext, linted?: LintedTbs): LintFinding[] {
  let parts;
  try {
    parts = children(cert, readSingle(cert));
    if (parts.length !== 3) throw new Error('certificate is not SEQUENCE { tbs, alg, signature }');
  } catch (e) {
    return [{ rule: 'e_certificate_malformed', message: (e as Error).message }];
  }
  const tbs = slice(cert, parts[0]!);
  const out = linted && linted.ctx === ctx && bytesEqual(linted.tbs, tbs) ? [] : lintTbsCertificate(tbs, ctx);
  try {
    const f = children(tbs, readSingle(tbs));
    const inner = f[f[0]?.tag === 0xa0 ? 2 : 1];
    if (!inner || !bytesEqual(slice(tbs, inner), slice(cert, parts[1]!))) {
      out.unshift({ rule: 'e_cert_sig_alg_not_match_tbs_sig_alg', message: 'signatureAlgorithm differs from tbsCertificate.signature' });
    }
  } catch (e) {
    out.unshift({ rule: 'e_certificate_malformed', message: (e as Error).message });
  }
  return out;
}

/** Throw `LintError` (`LINT_FAILED`) if the TBS has any finding. Call right before signing. */
export function assertTbsCertificateLintClean(tbs: Uint8Array, ctx: CertificateLintContext): void {
  const f = lintTbsCertificate(tbs, ctx);
  if (f.length > 0) throw new LintError(f, 'certificate');
}

/** Throw `LintError` if the signed certificate has any finding. Call after assembling. */
export function assertCertificateLintClean(cert: Uint8Array, ctx: CertificateLintContext, linted?: LintedTbs): void {
  const f = lintCertificate(cert, ctx, linted);
  if (f.length > 0) throw new LintError(f, 'certificate');
}
