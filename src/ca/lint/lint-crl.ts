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

/** Rules on a signed CRL: outer/inner algorithm identity plus every TBS rule. */
export function lintCrl(crl: Uint8Array, ctx: CrlLintContext): LintFinding[] {
  let parts;
  try {
    parts = children(crl, readSingle(crl));
    if (parts.length !== 3) throw new Error('CRL is not SEQUENCE { tbs, alg, signature }');
  } catch (e) {
    return [{ rule: 'e_crl_malformed', message: (e as Error).message }];
  }
  const tbs = slice(crl, parts[0]!);
  const out = lintTbsCertList(tbs, ctx);
  try {
    const f = children(tbs, readSingle(tbs));
    const inner = f[f[0]?.tag === 0x02 ? 1 : 0];
    if (!inner || !bytesEqual(slice(tbs, inner), slice(crl, parts[1]!))) {
      out.unshift({ rule: 'e_crl_sig_alg_not_match_tbs_sig_alg', message: 'signatureAlgorithm differs from tbsCertList.signature' });
    }
  } catch (e) {
    out.unshift({ rule: 'e_crl_malformed', message: (e as Error).message });
  }
  return out;
}

export function assertTbsCertListLintClean(tbs: Uint8Array, ctx: CrlLintContext): void {
  const f = lintTbsCertList(tbs, ctx);
  if (f.length > 0) throw new LintError(f, 'CRL');
}

export function assertCrlLintClean(crl: Uint8Array, ctx: CrlLintContext): void {
  const f = lintCrl(crl, ctx);
  if (f.length > 0) throw new LintError(f, 'CRL');
}
