import type { CommandApdu } from '../apdu/command-apdu.js';
import { tlv } from '../tlv.js';
import { KEY_REF, PIV_AID, YK_INS } from './piv-constants.js';

/**
 * Pure builders of PIV command APDUs (NIST SP 800-73-4 Part 2 §3) and of the Yubico extensions.
 * Bytes in, bytes out; every one has a byte-exact test.
 */

/** SELECT the PIV application by AID (SP 800-73-4 Part 2 §3.1.1): `00 A4 04 00 09 <AID> 00`. */
export function selectPiv(): CommandApdu {
  return { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: PIV_AID.subarray(0, 9), le: 256 };
}

/** Encode the 3-byte (or 1-byte for 7E) object tag for the 5C tag list. */
export function objectTagBytes(tag: number): Uint8Array {
  if (tag <= 0xff) return Uint8Array.of(tag);
  return Uint8Array.of((tag >> 16) & 0xff, (tag >> 8) & 0xff, tag & 0xff);
}

/** GET DATA (SP 800-73-4 Part 2 §3.1.2): `00 CB 3F FF Lc 5C L <tag> 00`. */
export function getData(tag: number): CommandApdu {
  return { cla: 0x00, ins: 0xcb, p1: 0x3f, p2: 0xff, data: tlv(0x5c, objectTagBytes(tag)), le: 256 };
}

/** PUT DATA (SP 800-73-4 Part 2 §3.3.2): `00 DB 3F FF Lc 5C L <tag> 53 L <content>`; chained by the channel. */
export function putData(tag: number, content: Uint8Array): CommandApdu {
  const a = tlv(0x5c, objectTagBytes(tag));
  const b = tlv(0x53, content);
  const data = new Uint8Array(a.length + b.length);
  data.set(a);
  data.set(b, a.length);
  return { cla: 0x00, ins: 0xdb, p1: 0x3f, p2: 0xff, data };
}

/** PIN/PUK padded with FF to 8 bytes (SP 800-73-4 Part 2 §2.4.3). The caller wipes the result. */
export function padPin(pin: Uint8Array): Uint8Array {
  if (pin.length > 8) throw new RangeError('PIV PINs are at most 8 bytes');
  const out = new Uint8Array(8).fill(0xff);
  out.set(pin);
  return out;
}

/** VERIFY (Part 2 §3.2.1): `00 20 00 80 08 <PIN‖FF..>`. */
export function verifyPin(paddedPin: Uint8Array, ref: number = KEY_REF.pin): CommandApdu {
  return { cla: 0x00, ins: 0x20, p1: 0x00, p2: ref, data: paddedPin };
}

/** VERIFY without data: the tries-left query that spends no try (Part 2 §3.2.1, case 1). */
export function pinStatusQuery(ref: number = KEY_REF.pin): CommandApdu {
  return { cla: 0x00, ins: 0x20, p1: 0x00, p2: ref };
}

/** CHANGE REFERENCE DATA (Part 2 §3.2.2): `00 24 00 80|81 10 <old 8> <new 8>`. */
export function changeReference(ref: number, oldAndNew: Uint8Array): CommandApdu {
  return { cla: 0x00, ins: 0x24, p1: 0x00, p2: ref, data: oldAndNew };
}

/** RESET RETRY COUNTER (Part 2 §3.2.3): `00 2C 00 80 10 <PUK 8> <new PIN 8>`. */
export function resetRetryCounter(pukAndNewPin: Uint8Array): CommandApdu {
  return { cla: 0x00, ins: 0x2c, p1: 0x00, p2: KEY_REF.pin, data: pukAndNewPin };
}

/** GENERAL AUTHENTICATE (Part 2 §3.2.4): `00 87 <alg> <key> Lc 7C L {…} [00]`. */
export function generalAuthenticate(alg: number, keyRef: number, template: Uint8Array, le = true): CommandApdu {
  return { cla: 0x00, ins: 0x87, p1: alg, p2: keyRef, data: tlv(0x7c, template), ...(le ? { le: 256 } : {}) };
}

/** Step 1 of management-key authentication: ask for a witness (`7C 02 80 00`). */
export function mgmtWitnessRequest(alg: number): CommandApdu {
  return generalAuthenticate(alg, KEY_REF.management, Uint8Array.of(0x80, 0x00));
}

/** Step 2: decrypted witness (80) and the host's challenge (81); the card answers 82. */
export function mgmtWitnessResponse(alg: number, decryptedWitness: Uint8Array, challenge: Uint8Array): CommandApdu {
  const a = tlv(0x80, decryptedWitness);
  const b = tlv(0x81, challenge);
  const t = new Uint8Array(a.length + b.length);
  t.set(a);
  t.set(b, a.length);
  return generalAuthenticate(alg, KEY_REF.management, t);
}

/** Signature by a slot key: `7C { 82 00, 81 L <input> }` (Part 2 §3.2.4, Appendix A.3). */
export function signWithSlot(alg: number, slot: number, input: Uint8Array): CommandApdu {
  const c = tlv(0x81, input);
  const t = new Uint8Array(2 + c.length);
  t.set([0x82, 0x00]);
  t.set(c, 2);
  return generalAuthenticate(alg, slot, t);
}

/**
 * GENERATE ASYMMETRIC KEY PAIR (Part 2 §3.3.2): `00 47 00 <slot> Lc AC L { 80 01 <alg>
 * [AA 01 <pin policy>] [AB 01 <touch policy>] }` (AA/AB: Yubico extensions).
 */
export function generateKeyPair(slot: number, alg: number, policy: { pin?: number; touch?: number } = {}): CommandApdu {
  const inner = [0x80, 0x01, alg];
  if (policy.pin !== undefined && policy.pin !== 0) inner.push(0xaa, 0x01, policy.pin);
  if (policy.touch !== undefined && policy.touch !== 0) inner.push(0xab, 0x01, policy.touch);
  return { cla: 0x00, ins: 0x47, p1: 0x00, p2: slot, data: tlv(0xac, inner), le: 256 };
}

/** Yubico GET VERSION `00 FD 00 00 00` → major minor patch. */
export function getVersion(): CommandApdu {
  return { cla: 0x00, ins: YK_INS.getVersion, p1: 0x00, p2: 0x00, le: 256 };
}

/** Yubico GET SERIAL `00 F8 00 00 00` → 4-byte big-endian serial (firmware 5+). */
export function getSerial(): CommandApdu {
  return { cla: 0x00, ins: YK_INS.getSerial, p1: 0x00, p2: 0x00, le: 256 };
}

/** Yubico GET METADATA `00 F7 00 <slot> 00` (firmware 5.3+). */
export function getMetadata(slot: number): CommandApdu {
  return { cla: 0x00, ins: YK_INS.getMetadata, p1: 0x00, p2: slot, le: 256 };
}

/** Yubico ATTEST `00 F9 <slot> 00 00`: an X.509 certificate of the slot key signed by F9. */
export function attest(slot: number): CommandApdu {
  return { cla: 0x00, ins: YK_INS.attest, p1: slot, p2: 0x00, le: 256 };
}

/** Yubico SET MANAGEMENT KEY `00 FF FF FF|FE Lc <alg> 9B <len> <key>` (FE = touch required). */
export function setManagementKey(alg: number, key: Uint8Array, requireTouch = false): CommandApdu {
  const data = new Uint8Array(3 + key.length);
  data.set([alg, KEY_REF.management, key.length]);
  data.set(key, 3);
  return { cla: 0x00, ins: YK_INS.setManagementKey, p1: 0xff, p2: requireTouch ? 0xfe : 0xff, data };
}

/** Yubico SET PIN RETRIES `00 FA <pin tries> <puk tries>` (management key and PIN verified). */
export function setPinRetries(pinTries: number, pukTries: number): CommandApdu {
  return { cla: 0x00, ins: YK_INS.setPinRetries, p1: pinTries, p2: pukTries };
}

/** Yubico RESET `00 FB 00 00`: factory reset of the PIV application; only with PIN and PUK blocked. */
export function resetPiv(): CommandApdu {
  return { cla: 0x00, ins: YK_INS.reset, p1: 0x00, p2: 0x00 };
}
