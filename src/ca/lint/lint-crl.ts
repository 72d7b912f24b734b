import { bytesEqual } from '../../common/hex.js';
import { LintError, type LintFinding } from '../errors.js';
import { children, readSingle, slice } from '../x509/der.js';
import { crlModel, type CrlLintContext } from './crl-model.js';
import { CRL_RULES } from './crl-rules.js';
import { runRules } from './lint-types.js';

export type { CrlLintContext } from './crl-model.js';

/** Run every CRL rule on a TBSCertList (before signing). */
export function lintTbsCertList(tbs: Uint8Array, ctx: CrlLintContext): LintFinding[] {
  let model;
  try {
    model = crlModel(tbs, ctx);
  } catch (e) {
    return [{ rule: 'e_tbs_cert_list_malformed', message: (e as Error).message }];
  }
  return runRules(CRL_RULES, model);
}

/**
 * The rules on a signed CRL's envelope (RFC 5280 §5.1.1.2): SEQUENCE { tbs, alg, signature }
 * and signatureAlgorithm identical to tbsCertList.signature. Returns the TBS (when it could be
 * split) with the findings.
 */
function lintCrlEnvelope(crl: Uint8Array): { tbs: Uint8Array | undefined; findings: LintFinding[] } {
  let parts;
  try {
    parts = children(crl, readSingle(crl));
    if (parts.length !== 3) throw new Error('CRL is not SEQUENCE { tbs, alg, signature }');
  } catch (e) {
    return { tbs: undefined, findings: [{ rule: 'e_crl_malformed', message: (e as Error).message }] };
  }
  const tbs = slice(crl, parts[0]!);
  const findings: LintFinding[] = [];
  try {
    const f = children(tbs, readSingle(tbs));
    const inner = f[f[0]?.tag === 0x02 ? 1 : 0];
    if (!inner || !bytesEqual(slice(tbs, inner), slice(crl, parts[1]!))) {
      findings.push({ rule: 'e_crl_sig_alg_not_match_tbs_sig_alg', message: 'signatureAlgorithm differs from tbsCertList.signature' });
    }
  } catch (e) {
    findings.push({ rule: 'e_crl_malformed', message: (e as Error).message });
  }
  return { tbs, findings };
}

/** Rules on a signed CRL: outer/inner algorithm identity plus every TBS rule. */
export function lintCrl(crl: Uint8Array, ctx: CrlLintContext): LintFinding[] {
  const env = lintCrlEnvelope(crl);
  if (!env.tbs) return env.findings;
  return [...env.findings, ...lintTbsCertList(env.tbs, ctx)];
}

export function assertTbsCertListLintClean(tbs: Uint8Array, ctx: CrlLintContext): void {
  const f = lintTbsCertList(tbs, ctx);
  if (f.length > 0) throw new LintError(f, 'CRL');
}

export function assertCrlLintClean(crl: Uint8Array, ctx: CrlLintContext): void {
  const f = lintCrl(crl, ctx);
  if (f.length > 0) throw new LintError(f, 'CRL');
}

/**
 * `assertCrlLintClean` for a signed CRL whose TBS was linted clean before signing
 * (`assertTbsCertListLintClean(lintedTbs)`): the envelope rules are checked, and the TBS must be
 * byte-identical to `lintedTbs` (Boulder's tbsCertIsDeterministic), so every TBS rule has the
 * verdict it had before signing and the entries are not walked a second time. A CRL of a million
 * entries is walked once in its whole cycle (issue #14 item 3).
 */
export function assertSignedCrlLintClean(crl: Uint8Array, lintedTbs: Uint8Array): void {
  const env = lintCrlEnvelope(crl);
  // Public bytes (no secret to time): a native comparison of the 40 MB at a million entries.
  if (env.tbs && !Buffer.from(env.tbs.buffer, env.tbs.byteOffset, env.tbs.byteLength).equals(lintedTbs)) env.findings.push({ rule: 'e_crl_malformed', message: 'the signed tbsCertList differs from the one linted before signing' });
  if (env.findings.length > 0) throw new LintError(env.findings, 'CRL');
}
