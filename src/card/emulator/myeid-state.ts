import { randomBytes } from 'node:crypto';
import { TEST_CARD_WARNING, type StoredPin } from './card-state.js';
import type { CurveName } from './ec-curves.js';
import { loadFamilyStateFile, saveStateFile, type SaveOptions } from './state-file.js';

/**
 * The non-volatile memory of an emulated Aventra MyEID, as plain JSON marked as a test card:
 * the ISO 7816-4 file system (MF 3F00, DFs, transparent EFs, key EFs) and the PIN records the
 * applet keeps outside it. Keys are PKCS#8, unprotected: rehearsal only.
 */
export const MYEID_STATE_FORMAT = 'cardca-emulator-myeid/1';

/** A MyEID PIN record (PUT DATA `01 <ref>`): the PIN and its own unblocking PUK, both FF-padded to 8. */
export interface MyeidPinRecord {
  pin: StoredPin;
  puk: StoredPin;
}

export type MyeidKeySpec = { kind: 'rsa'; bits: number } | { kind: 'ec'; curve: CurveName };

export interface MyeidFile {
  /** 'df' (descriptor 38), 'ef' (transparent working EF, 01) or 'key' (internal EF, 11 RSA / 22 EC). */
  type: 'df' | 'ef' | 'key';
  /** File descriptor byte (FCP tag 82). */
  descriptor: number;
  /** Size in bytes (EF) or key length in bits (key EF), as CREATE FILE gave it (tag 80/81). */
  size: number;
  /** Three ACL bytes (FCP tag 86), hex: nibbles 0 always, 1..E PIN reference, F never. */
  acl: string;
  /** Two proprietary bytes (FCP tag 85), hex. */
  prop: string;
  /** DF name (tag 84), hex. */
  name?: string;
  /** Transparent EF content, hex, exactly `size` bytes. */
  data?: string;
  /** Key EF content once generated. */
  key?: { spec: MyeidKeySpec; pkcs8: string; signatures: number; createdAt: string };
}

export interface MyeidStateData {
  _warning: string;
  format: string;
  /** The 10 serial bytes of the applet info (GET DATA 01 A0), hex. */
  serial: string;
  /** Applet version major.minor.patch (applet info bytes 5, 6, 7). */
  version: [number, number, number];
  createdAt: string;
  /** 'creation' until ACTIVATE APPLET: ACLs are not enforced (card-myeid.c `myeid_process_fci`). */
  lifeCycle: 'creation' | 'operational';
  /** Files by absolute path, upper-case hex ("3F00", "3F005015", "3F0050154401"). */
  files: Record<string, MyeidFile>;
  /** PIN records by reference (1..14, decimal). */
  pins: Record<string, MyeidPinRecord>;
  /** Incremented by every change to the file system (applet info bytes 18..19). */
  changeCounter: number;
  signatureCount: number;
  /** GET DATA 01 AA answer, hex (11 bytes: version, features, max RSA/DES/AES/ECC bits); absent: RSA 2048 and ECC 384. */
  capabilities?: string;
}

/** The PKCS#15 application identifier, which is also the MyEID applet AID (card-protocols.md §2.1, §3.2). */
export const PKCS15_AID = Uint8Array.from([0xa0, 0x00, 0x00, 0x00, 0x63, 0x50, 0x4b, 0x43, 0x53, 0x2d, 0x31, 0x35]);

/** A MF as the applet leaves INITIALISE APPLET with the given ACLs: MF and the PKCS#15 DF 5015, no PINs. */
export function initialisedFileSystem(mfAcl: Uint8Array, appAcl: Uint8Array): Record<string, MyeidFile> {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();
  return {
    '3F00': { type: 'df', descriptor: 0x38, size: 0, acl: hex(mfAcl), prop: '0000' },
    '3F005015': { type: 'df', descriptor: 0x38, size: 0, acl: hex(appAcl), prop: '0000', name: hex(PKCS15_AID) },
  };
}

/** A card as it leaves the factory: MF only, creation state, every ACL open. */
export function factoryMyeidState(now: Date = new Date(), serial: Uint8Array = randomBytes(10)): MyeidStateData {
  return {
    _warning: TEST_CARD_WARNING,
    format: MYEID_STATE_FORMAT,
    serial: Buffer.from(serial).toString('hex').toUpperCase(),
    version: [4, 5, 5],
    createdAt: now.toISOString(),
    lifeCycle: 'creation',
    files: { '3F00': { type: 'df', descriptor: 0x38, size: 0, acl: '0000FF', prop: '0000' } },
    pins: {},
    changeCounter: 0,
    signatureCount: 0,
  };
}

function assertMyeidState(x: unknown): asserts x is MyeidStateData {
  const s = x as Partial<MyeidStateData> | null;
  if (!s || typeof s !== 'object' || s.format !== MYEID_STATE_FORMAT || typeof s.serial !== 'string' || !s.files || !s.pins) {
    throw new Error(`not a ${MYEID_STATE_FORMAT} state file`);
  }
  if (!/^[0-9A-F]{20}$/.test(s.serial)) throw new Error('serial must be 10 bytes of hex');
  if (!s.files['3F00']) throw new Error('file system without MF 3F00');
}

/** True when the JSON text is a MyEID emulator state (used by `ca emulator start` to pick the card type). */
export function isMyeidStateText(text: string): boolean {
  try {
    return (JSON.parse(text) as { format?: unknown }).format === MYEID_STATE_FORMAT;
  } catch {
    return false;
  }
}

export function loadMyeidStateFile(path: string, now: Date = new Date()): { state: MyeidStateData; created: boolean } {
  return loadFamilyStateFile(path, { factory: () => factoryMyeidState(now), assertShape: assertMyeidState, family: 'MyEID', typeFlag: '--type myeid' });
}

export function saveMyeidStateFile(path: string, state: MyeidStateData, o?: SaveOptions): void {
  saveStateFile(path, state, o);
}
