import { sha256Hex } from '../../common/sha256.js';
import type { DkekStatus } from '../drivers/sc-hsm-dkek-apdus.js';

/**
 * Detecting a DKEK share imported twice into a card that still waits for shares.
 *
 * The card keeps only the XOR of the shares and reports the key check value of that XOR
 * (KCV = SHA-256(DKEK)[0..8], card-protocols.md §3.1), so a share imported a second time
 * silently cancels itself out (S ⊕ S = 0) and no card or tool can see it afterwards. What can be
 * known honestly:
 *
 * - With one share in, the card's KCV *is* that share's own check value (SHA-256(S)[0..8]):
 *   the same share again is recognised from the card alone.
 * - With more shares in, the KCV identifies the partial DKEK but not its shares. cardca keeps a
 *   register of every partial state it produced, keyed by (shares in, KCV), listing the check
 *   values of the shares behind it. A card that reaches the same partial state with the same
 *   shares (the backup card, given the shares in the same order) uses the same entry. A state
 *   that is not in the register (shares imported by sc-hsm-tool or on another machine) cannot be
 *   checked, and the caller says so.
 *
 * A share's check value is what the card itself shows once that share alone is in, 64 bits of
 * SHA-256 of 256 random bits: it identifies the share without revealing anything of it.
 */
export interface ShareRegister {
  readonly version: 1;
  /** `"<shares in>:<KCV>"` → the check values of the shares that made that partial DKEK. */
  readonly states: Readonly<Record<string, readonly string[]>>;
}

export const EMPTY_REGISTER: ShareRegister = { version: 1, states: {} };

/** SHA-256(share)[0..8], upper-case hex: the KCV a card shows with only this share in. */
export function shareCheckValue(share: Uint8Array): string {
  return sha256Hex(share).slice(0, 16).toUpperCase();
}

function key(s: DkekStatus): string {
  return `${s.shares - s.missing}:${s.kcv.toUpperCase()}`;
}

/**
 * The shares behind the card's current partial DKEK: none before the first import, the one
 * share whose value the KCV is after the first, the register's entry after that, or undefined
 * when that state was made outside cardca's knowledge.
 */
export function sharesBehind(register: ShareRegister, s: DkekStatus): readonly string[] | undefined {
  const imported = s.shares - s.missing;
  if (imported <= 0) return [];
  if (imported === 1) return [s.kcv.toUpperCase()];
  return register.states[key(s)];
}

export type DuplicateCheck = { readonly verdict: 'duplicate' | 'new' } | { readonly verdict: 'unknown' };

/** Whether the share with check value `shareKcv` is already in the card whose status is `s`. */
export function checkShare(register: ShareRegister, s: DkekStatus, shareKcv: string): DuplicateCheck {
  const behind = sharesBehind(register, s);
  if (behind === undefined) return { verdict: 'unknown' };
  return { verdict: behind.includes(shareKcv.toUpperCase()) ? 'duplicate' : 'new' };
}

/** The register after the card went from `before` to `after` by importing the share `shareKcv`. */
export function recordImport(register: ShareRegister, before: DkekStatus, shareKcv: string, after: DkekStatus): ShareRegister {
  const behind = sharesBehind(register, before);
  if (behind === undefined || after.shares - after.missing < 2) return register;
  return { version: 1, states: { ...register.states, [key(after)]: [...behind, shareKcv.toUpperCase()] } };
}

/** Parse a register file's JSON; anything malformed is the empty register (it only ever helps). */
export function parseShareRegister(text: string): ShareRegister {
  try {
    const j = JSON.parse(text) as { version?: unknown; states?: unknown };
    if (j.version !== 1 || !j.states || typeof j.states !== 'object') return EMPTY_REGISTER;
    const states: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(j.states as Record<string, unknown>)) {
      if (/^\d+:[0-9A-F]{16}$/.test(k) && Array.isArray(v) && v.every((x) => typeof x === 'string' && /^[0-9A-F]{16}$/.test(x))) states[k] = v as string[];
    }
    return { version: 1, states };
  } catch {
    return EMPTY_REGISTER;
  }
}
