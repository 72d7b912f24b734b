import { randomBytes } from 'node:crypto';
import { modInv, modPow } from '../../common/bigint-math.js';
import { CardError } from '../errors.js';

/**
 * Threshold password shares as `sc-hsm-tool --pwd-shares-threshold T --pwd-shares-total N`
 * makes them (OpenSC `sc-hsm-tool.c` `generate_pwd_shares`, `createShares`,
 * `reconstructSecret`): the share-file password is a random 8-byte value with its top bit
 * cleared, split with Shamir's scheme over GF(p) for a random 64-bit safe prime p > secret;
 * share k is (x = k, y = a(k)) for k = 1..N with a(x) = secret + a1·x + … + a_{T−1}·x^{T−1}.
 * The printed form is sc-hsm-tool's (colon-separated hex prime and value, decimal id), so a
 * custodian can type a cardca share into sc-hsm-tool and back.
 */
export interface PasswordShare {
  readonly prime: bigint;
  readonly id: number;
  readonly value: bigint;
  /** T and N, when known (cardca's share text carries them; sc-hsm-tool's screen shows them). */
  readonly threshold?: number;
  readonly total?: number;
}

function randomBelow(limit: bigint): bigint {
  const bytes = Math.ceil(limit.toString(16).length / 2) + 8;
  return BigInt('0x' + randomBytes(bytes).toString('hex')) % limit;
}

/** Miller–Rabin with 40 random bases (error < 2^-80). */
export function isProbablePrime(n: bigint): boolean {
  if (n < 2n) return false;
  for (const p of [2n, 3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n]) {
    if (n === p) return true;
    if (n % p === 0n) return false;
  }
  let d = n - 1n;
  let s = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s++;
  }
  outer: for (let i = 0; i < 40; i++) {
    const a = 2n + randomBelow(n - 3n);
    let x = modPow(a, d, n);
    if (x === 1n || x === n - 1n) continue;
    for (let r = 1; r < s; r++) {
      x = (x * x) % n;
      if (x === n - 1n) continue outer;
    }
    return false;
  }
  return true;
}

/** A random 64-bit safe prime (p and (p−1)/2 prime), as `BN_generate_prime_ex(p, 64, 1, …)`. */
export function randomSafePrime64(): bigint {
  for (;;) {
    // Top bit set (exactly 64 bits), p ≡ 3 (mod 4) so that q = (p−1)/2 is odd.
    const p = BigInt('0x' + randomBytes(8).toString('hex')) | (1n << 63n) | 3n;
    const q = (p - 1n) >> 1n;
    if (isProbablePrime(q) && isProbablePrime(p)) return p;
  }
}

/** A random 8-byte password with the top bit cleared and a non-zero first byte. */
export function randomSharedPassword(): Uint8Array {
  for (;;) {
    const pwd = new Uint8Array(randomBytes(8));
    pwd[0]! &= 0x7f;
    // sc-hsm-tool encrypts with all 8 bytes but rebuilds the password with BN_bn2bin, which
    // drops a leading zero byte; such a password could never be rebuilt. Draw again.
    if (pwd[0] !== 0) return pwd;
    pwd.fill(0);
  }
}

export function splitSecret(secret: Uint8Array, threshold: number, total: number, prime = randomSafePrime64()): PasswordShare[] {
  if (!Number.isInteger(threshold) || threshold < 2) throw new RangeError('the threshold must be 2 or more');
  if (!Number.isInteger(total) || total < 3 || total > 255) throw new RangeError('the number of shares must be 3..255');
  if (threshold > total) throw new RangeError('the threshold cannot exceed the number of shares');
  const s = BigInt('0x' + Buffer.from(secret).toString('hex'));
  if (s >= prime) throw new RangeError('the secret must be smaller than the prime');
  const coeff = [s, ...Array.from({ length: threshold - 1 }, () => randomBelow(prime))];
  const shares: PasswordShare[] = [];
  for (let x = 1; x <= total; x++) {
    let y = 0n;
    for (let k = coeff.length - 1; k >= 0; k--) y = (y * BigInt(x) + coeff[k]!) % prime;
    shares.push({ prime, id: x, value: y, threshold, total });
  }
  return shares;
}

/** Lagrange interpolation at 0 of the given shares (all with the same prime, distinct ids). */
export function combineShares(shares: readonly PasswordShare[]): Uint8Array {
  if (shares.length < 2) throw shareError('at least two password shares are needed');
  const prime = shares[0]!.prime;
  if (shares.some((s) => s.prime !== prime)) throw shareError('the password shares carry different primes: they belong to different share files');
  if (new Set(shares.map((s) => s.id)).size !== shares.length) throw shareError('the same password share was given twice');
  const need = shares[0]!.threshold;
  if (need !== undefined && shares.length < need) throw shareError(`${shares.length} password shares given; this split needs ${need}`);
  let secret = 0n;
  for (const si of shares) {
    let num = 1n;
    let den = 1n;
    for (const sj of shares) {
      if (sj === si) continue;
      num = (num * BigInt(sj.id)) % prime;
      den = (((den * BigInt(sj.id - si.id)) % prime) + prime) % prime;
    }
    secret = (secret + si.value * num * modInv(den, prime)) % prime;
  }
  let hex = secret.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

function shareError(message: string): CardError {
  return new CardError('DKEK_PASSWORD_SHARES_INVALID', message, {
    hint: 'Collect the threshold number of distinct password shares of this DKEK share file.',
  });
}

function colonHex(v: bigint): string {
  let hex = v.toString(16).toUpperCase();
  if (hex.length % 2) hex = '0' + hex;
  return hex.match(/../g)!.join(':');
}

/** The printable share, in sc-hsm-tool's layout plus a cardca header line. */
export function formatShare(s: PasswordShare): string {
  const head = s.threshold !== undefined && s.total !== undefined ? ` ${s.id} of ${s.total} (any ${s.threshold} rebuild the password)` : ` ${s.id}`;
  return [`cardca DKEK password share${head}`, `Prime       : ${colonHex(s.prime)}`, `Share ID    : ${s.id}`, `Share value : ${colonHex(s.value)}`, ''].join('\n');
}

export function parseShare(text: string): PasswordShare {
  const field = (label: string) => new RegExp(`^\\s*${label}\\s*:\\s*(.+?)\\s*$`, 'mi').exec(text)?.[1];
  const prime = field('Prime');
  const id = field('Share ID');
  const value = field('Share value');
  const hexOk = (h: string | undefined) => h !== undefined && /^[0-9A-Fa-f:\s]+$/.test(h);
  if (!hexOk(prime) || !hexOk(value) || id === undefined || !/^\d{1,3}$/.test(id)) {
    throw shareError('not a password share: expected "Prime :", "Share ID :" and "Share value :" lines');
  }
  const big = (h: string) => BigInt('0x' + h.replace(/[:\s]/g, ''));
  const head = /share \d+ of (\d+) \(any (\d+)/i.exec(text);
  return {
    prime: big(prime!),
    id: Number(id),
    value: big(value!),
    ...(head ? { total: Number(head[1]), threshold: Number(head[2]) } : {}),
  };
}
