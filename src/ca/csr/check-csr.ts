import { toHex } from '../../common/hex.js';
import { CsrError } from '../errors.js';
import { checkKeyPolicy, DEFAULT_KEY_POLICY, type CheckedKey, type KeyPolicy } from './key-policy.js';
import type { ParsedCsr } from './parsed-csr.js';

/** Key policy on a parsed CSR's public key. Throws `CsrError` (`KEY_…`). */
export function checkCsrKeyPolicy(csr: ParsedCsr, policy: KeyPolicy = DEFAULT_KEY_POLICY): CheckedKey {
  return checkKeyPolicy(csr.spki, policy);
}

/** What the store knows about a public key (by SPKI SHA-256). */
export type KeyLookupResult =
  | { readonly kind: 'none' }
  /** A CA key (any CA of this installation, current or retired). */
  | { readonly kind: 'ca'; readonly caName: string }
  /** Already certified for a subscriber. */
  | { readonly kind: 'issued'; readonly serialHex: string; readonly revoked: boolean }
  /** On the blocklist (e.g. Debian weak keys, compromised keys). */
  | { readonly kind: 'blocked'; readonly reason: string };

export interface KeyReuseOptions {
  /** Allow a subscriber key that is already certified (renewal with the same key). Default false. */
  readonly allowReuse?: boolean;
}

/**
 * Duplicate-key / CA-key / blocklist checks (EJBCA "Enforce unique public keys"; Boulder's
 * blocked-keys table). Pure: the caller passes a lookup into its store.
 */
export function checkKeyNotReused(
  spkiSha256: Uint8Array,
  lookup: (spkiSha256: Uint8Array) => KeyLookupResult | readonly KeyLookupResult[],
  opts: KeyReuseOptions = {},
): void {
  const r = lookup(spkiSha256);
  const results = Array.isArray(r) ? (r as readonly KeyLookupResult[]) : [r as KeyLookupResult];
  const fp = toHex(spkiSha256).slice(0, 16);
  for (const x of results) {
    if (x.kind === 'ca') {
      throw new CsrError('KEY_IS_CA_KEY', `the CSR carries the public key of CA ${x.caName} (SPKI SHA-256 ${fp}…)`, {
        hint: 'A CA key is never certified for anything else. Generate a new subscriber key.',
      });
    }
    if (x.kind === 'blocked') {
      throw new CsrError('KEY_BLOCKED', `the public key is on the blocklist: ${x.reason}`, { hint: 'Generate a new key.' });
    }
    if (x.kind === 'issued' && x.revoked) {
      throw new CsrError('KEY_DUPLICATE', `the public key was certified before (serial ${x.serialHex}) and that certificate is revoked`, {
        hint: 'Never re-certify a key whose certificate was revoked; generate a new key.',
      });
    }
    if (x.kind === 'issued' && !opts.allowReuse) {
      throw new CsrError('KEY_DUPLICATE', `the public key is already certified (serial ${x.serialHex})`, {
        hint: 'Every certificate needs its own key: generate a new key and a new CSR.',
      });
    }
  }
}
