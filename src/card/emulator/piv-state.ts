import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CardcaError } from '../../common/cardca-error.js';
import { FACTORY, MGMT_KEY_LENGTH, type MgmtKeyAlgorithm } from '../piv/piv-constants.js';
import { pinRecord, TEST_CARD_WARNING, type StoredPin } from './card-state.js';
import { saveStateFile, type SaveOptions } from './state-file.js';

/**
 * The non-volatile memory of an emulated PIV token (a YubiKey 5 as far as the Yubico extensions
 * go), as plain JSON marked as a test card. Keys are PKCS#8, unprotected: rehearsal only.
 */
export const PIV_STATE_FORMAT = 'cardca-emulator-piv/1';

export interface PivStoredPin extends StoredPin {
  /** Still the factory value (GET METADATA tag 05). */
  isDefault: boolean;
}

export interface PivStoredKey {
  /** SP 800-78-4 algorithm identifier (07, 05, 16, 11, 14). */
  alg: number;
  pkcs8: string;
  /** Resolved YubiKey PIN policy (01 never, 02 once, 03 always) and touch policy (01 never, 02 always, 03 cached). */
  pinPolicy: number;
  touchPolicy: number;
  origin: 'generated' | 'imported';
  signatures: number;
  createdAt: string;
}

export interface PivStateData {
  _warning: string;
  format: string;
  /** YubiKey serial number (GET SERIAL, decimal on the device's label). */
  serial: number;
  version: [number, number, number];
  createdAt: string;
  pin: PivStoredPin;
  puk: PivStoredPin;
  mgmt: { alg: MgmtKeyAlgorithm; key: string; isDefault: boolean; touch: boolean };
  /** Keys by slot, two upper-case hex digits. */
  keys: Record<string, PivStoredKey>;
  /** Data objects by tag (upper-case hex), content of the 53 template as hex. */
  objects: Record<string, string>;
  /** Attestation key (slot F9) and its issuer, created on first use; TEST material. */
  attestation: { keyPkcs8: string; certificate: string; rootKeyPkcs8: string; rootCertificate: string } | null;
  signatureCount: number;
}

function factoryPin(text: string, tries: number): PivStoredPin {
  return { ...pinRecord(Buffer.from(text, 'latin1'), tries), isDefault: true };
}

/** A token as it leaves the factory: PIN 123456, PUK 12345678, 3DES management key 0102…08. */
export function factoryPivState(now: Date = new Date(), serial: number = randomInt(10_000_000, 99_999_999)): PivStateData {
  return {
    _warning: TEST_CARD_WARNING,
    format: PIV_STATE_FORMAT,
    serial,
    version: [5, 4, 3],
    createdAt: now.toISOString(),
    pin: factoryPin(FACTORY.pin, 3),
    puk: factoryPin(FACTORY.puk, 3),
    mgmt: { alg: 'tdes', key: FACTORY.managementKey, isDefault: true, touch: false },
    keys: {},
    objects: {},
    attestation: null,
    signatureCount: 0,
  };
}

/** A factory reset (Yubico RESET) keeps the serial, the firmware and the attestation identity. */
export function resetPivState(s: PivStateData, now: Date = new Date()): PivStateData {
  return { ...factoryPivState(now, s.serial), version: s.version, attestation: s.attestation };
}

function assertPivState(x: unknown): asserts x is PivStateData {
  const s = x as Partial<PivStateData> | null;
  if (!s || typeof s !== 'object' || s.format !== PIV_STATE_FORMAT || typeof s.serial !== 'number' || !s.pin || !s.puk || !s.mgmt || !s.keys || !s.objects) {
    throw new Error(`not a ${PIV_STATE_FORMAT} state file`);
  }
  if (Buffer.from(s.mgmt.key, 'hex').length !== MGMT_KEY_LENGTH[s.mgmt.alg]) throw new Error('management key length does not match its algorithm');
}

/** True when the JSON text is a PIV emulator state (used by `ca emulator start` to pick the card type). */
export function isPivStateText(text: string): boolean {
  try {
    return (JSON.parse(text) as { format?: unknown }).format === PIV_STATE_FORMAT;
  } catch {
    return false;
  }
}

export function loadPivStateFile(path: string, now: Date = new Date()): { state: PivStateData; created: boolean } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: factoryPivState(now), created: true };
    throw new CardcaError('EMULATOR_STATE_UNREADABLE', `cannot read emulator state file ${path}`, {
      cause: err,
      hint: 'Check the path and permissions, or pass a new path for a factory-fresh token.',
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
    assertPivState(parsed);
  } catch (err) {
    throw new CardcaError('EMULATOR_STATE_INVALID', `${path} is not a PIV emulator state file`, {
      cause: err,
      hint: 'Pass a state file written by `ca emulator start --type piv`, or a new path for a factory-fresh token.',
    });
  }
  return { state: parsed, created: false };
}

/** Atomic save, exactly as the SmartCard-HSM emulator's state file. */
export function savePivStateFile(path: string, state: PivStateData, o?: SaveOptions): void {
  saveStateFile(path, state, o);
}
