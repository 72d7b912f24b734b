import type { DriverCardSession } from '../card/card-session-impl.js';
import { CliError } from './cli-error.js';
import { eprintln, type CliContext } from './context.js';
import { obtainPin } from './pin-input.js';

export { withMgmtKey, type MgmtKeyArgs } from './command-options.js';

/** Decode 32/48/64 hex digits into key bytes; the text buffer is wiped. */
export function mgmtKeyBytes(text: Buffer): Buffer {
  let start = 0;
  let end = text.length;
  while (start < end && (text[start] === 0x20 || text[start] === 0x09)) start++;
  while (end > start && (text[end - 1] === 0x20 || text[end - 1] === 0x09)) end--;
  const digits = text.subarray(start, end);
  const ok = (digits.length === 32 || digits.length === 48 || digits.length === 64) && digits.every(isHexDigit);
  if (!ok) {
    text.fill(0);
    throw new CliError('PIV_MGMT_KEY_FORMAT', 'the management key must be 32, 48 or 64 hexadecimal digits (AES-128, 3DES/AES-192, AES-256)', {
      hint: 'Put the key as hex on the first line of the file (chmod 600).',
    });
  }
  const key = Buffer.alloc(digits.length / 2);
  for (let i = 0; i < key.length; i++) key[i] = (nibble(digits[2 * i]!) << 4) | nibble(digits[2 * i + 1]!);
  text.fill(0);
  return key;
}

/** Byte-level check, so no character of the key ever becomes a JS string. */
function isHexDigit(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x66);
}

function nibble(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
}

/**
 * On cards that have one (PIV), authenticate the management key before key generation or
 * certificate writes. A no-op for families without it (SmartCard-HSM).
 */
export async function authenticateAdminIfNeeded(ctx: CliContext, s: DriverCardSession, file: string | undefined): Promise<void> {
  if (!s.needsAdminKey) return;
  const key = mgmtKeyBytes(await obtainPin(ctx, { file, prompt: `Management key of card ${s.info.serial} (hex): `, what: 'management key' }));
  try {
    await s.authenticateAdmin(key);
  } finally {
    key.fill(0);
  }
  eprintln(ctx, `card ${s.info.serial}: management key accepted`);
}
