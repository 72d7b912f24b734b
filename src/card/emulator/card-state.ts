import { timingSafeEqual } from 'node:crypto';
import { sha256, sha256Hex } from '../../common/sha256.js';
import { createDeviceIdentity } from './cvc.js';
import type { CurveName } from './ec-curves.js';

/**
 * The persistent (non-volatile) memory of an emulated SmartCard-HSM, as plain JSON.
 * The first field marks the file as a test card: keys in it are stored unprotected.
 */
export const TEST_CARD_WARNING = 'TEST CARD - cardca emulator - keys in this file are NOT protected';
export const STATE_FORMAT = 'cardca-emulator-sc-hsm/1';

export interface StoredPin {
  /** SHA-256 of the PIN bytes, hex (the test card keeps no plain PIN). */
  sha256: string;
  /** PIN length in bytes: CHANGE REFERENCE DATA splits old ‖ new by it. */
  length: number;
  retries: number;
  maxRetries: number;
  /** Transport-PIN mode (INITIALIZE option 0x0002): must be changed before any other use. */
  transport?: boolean;
}

export interface StoredKey {
  spec: { kind: 'rsa'; bits: number } | { kind: 'ec'; curve: CurveName };
  /** PKCS#8 DER, base64. */
  pkcs8: string;
  /** Allowed SIGN algorithm bytes (GAKP tag 91), hex; absent = all. */
  algorithms?: string;
  /** Remaining uses (GAKP tag 90); absent = unlimited. */
  remainingUses?: number;
  /** Signatures made with this key. */
  signatures: number;
  /** May leave the card under the DKEK (made or imported while the DKEK was complete). */
  exportable?: boolean;
  createdAt: string;
}

export interface CardStateData {
  _warning: string;
  format: string;
  serial: string;
  createdAt: string;
  device: { keyPkcs8: string; certificates: string };
  initialized: boolean;
  /** INITIALIZE option bytes (tag 80) as a 16-bit number; 0x0001 = SO may reset the user PIN. */
  options: number;
  userPin: StoredPin | null;
  soPin: StoredPin | null;
  dkek: { total: number; imported: number; value: string } | null;
  /** Transparent EFs by FID (4 hex digits, upper case) → content hex. */
  files: Record<string, string>;
  /** Keys by id (1..255). */
  keys: Record<string, StoredKey>;
  /** Signatures made by this card over its lifetime (all keys). */
  signatureCount: number;
}

/** A factory-fresh card: device identity present, not initialised, no PINs, no keys. */
export function factoryFreshState(now: Date = new Date()): CardStateData {
  const id = createDeviceIdentity(now);
  return {
    _warning: TEST_CARD_WARNING,
    format: STATE_FORMAT,
    serial: id.serial,
    createdAt: now.toISOString(),
    device: {
      keyPkcs8: Buffer.from(id.deviceKeyPkcs8).toString('base64'),
      certificates: Buffer.from(id.deviceCertificates).toString('hex').toUpperCase(),
    },
    initialized: false,
    options: 0,
    userPin: null,
    // A SmartCard-HSM leaves the factory with the SO-PIN (initialisation code) 3537363231383830
    // and 15 tries; INITIALIZE must present it (OpenSC wiki "SmartCardHSM" and sc-hsm-tool(1):
    // "sc-hsm-tool --initialize --so-pin 3537363231383830 --pin 648219"). A wrong code costs a try.
    soPin: pinRecord(Buffer.from('3537363231383830', 'hex'), 15),
    dkek: null,
    files: {},
    keys: {},
    signatureCount: 0,
  };
}

export function pinRecord(pin: Uint8Array, maxRetries: number): StoredPin {
  return { sha256: sha256Hex(pin), length: pin.length, retries: maxRetries, maxRetries };
}

export function pinMatches(rec: StoredPin, candidate: Uint8Array): boolean {
  return timingSafeEqual(sha256(candidate), Buffer.from(rec.sha256, 'hex'));
}

export function fidKey(fid: number): string {
  return fid.toString(16).padStart(4, '0').toUpperCase();
}

/** Basic shape check of a loaded state file; throws with a plain message when it is not one. */
export function assertCardState(x: unknown): asserts x is CardStateData {
  const s = x as Partial<CardStateData> | null;
  if (!s || typeof s !== 'object' || s.format !== STATE_FORMAT || typeof s.serial !== 'string' || !s.device || !s.files || !s.keys) {
    throw new Error(`not a ${STATE_FORMAT} state file`);
  }
}
