import type { CommandApdu } from '../../apdu/command-apdu.js';
import { EXTENDED_MAX_LE } from '../../apdu/command-apdu.js';

/**
 * Pure builders for the SmartCard-HSM's proprietary and ISO commands (card-protocols.md §3.1;
 * OpenSC `card-sc-hsm.c`, CardContact `sc-hsm-embedded`).
 */
export const SC_HSM_AID = Uint8Array.of(0xe8, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x81, 0xc3, 0x1f, 0x02, 0x01);

/** PIN references: user PIN 81, SO-PIN 88. */
export const PIN_REF = { user: 0x81, so: 0x88 } as const;

/** FID prefixes (high byte) of the object classes; low byte = key id. */
export const FID_PREFIX = { privateKey: 0xcc, prkd: 0xc4, eeCertificate: 0xce, caCertificate: 0xca, cd: 0xc8 } as const;

export const EF_DEVICE_CERT = 0x2f02;
export const EF_TOKEN_INFO = 0x2f03;

/** SIGN algorithm identifiers (P2 of `80 68`). */
export const SIGN_ALG = { rsaRaw: 0x20, rsaPkcs1DigestInfo: 0x30, rsaPss: 0x40, ecdsa: 0x70 } as const;

/** SELECT the applet by AID with P2=04 (FCP) and a short Le=00 (the card requires short Le). */
export function selectApplet(): CommandApdu {
  return { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x04, data: SC_HSM_AID, le: 256 };
}

/** ENUMERATE OBJECTS `80 58 00 00 00 00 00`: extended case 2, lists 2-byte FIDs. */
export function enumerateObjects(): CommandApdu {
  return { cla: 0x80, ins: 0x58, p1: 0x00, p2: 0x00, le: EXTENDED_MAX_LE };
}

/** INITIALIZE DEVICE `80 50 00 00 Lc data` (data built by `initializeData`). */
export function initializeDevice(data: Uint8Array): CommandApdu {
  return { cla: 0x80, ins: 0x50, p1: 0x00, p2: 0x00, data };
}

/**
 * INITIALIZE data: `80 02 <options>`, `81 L <user PIN>`, `82 08 <SO-PIN>`, `91 01 <retries>`.
 * Options `00 01` lets the SO reset the user PIN (needed for `ca card pin unblock`).
 */
export function initializeData(userPin: Uint8Array, soPin: Uint8Array, retries: number, dkekShares?: number): Uint8Array {
  if (soPin.length !== 8) throw new RangeError('SO-PIN must be 8 bytes');
  if (userPin.length < 6 || userPin.length > 16) throw new RangeError('user PIN must be 6 to 16 characters');
  if (!Number.isInteger(retries) || retries < 1 || retries > 15) throw new RangeError('retries must be 1..15');
  if (dkekShares !== undefined && (!Number.isInteger(dkekShares) || dkekShares < 0 || dkekShares > 255)) throw new RangeError('DKEK shares must be 0..255');
  return Uint8Array.from([
    0x80, 0x02, 0x00, 0x01,
    0x81, userPin.length, ...userPin,
    0x82, 0x08, ...soPin,
    0x91, 0x01, retries,
    // 92 01 <n>: number of DKEK shares (OpenSC `sc_hsm_initialize`; card-protocols.md §3.1).
    ...(dkekShares === undefined ? [] : [0x92, 0x01, dkekShares]),
  ]);
}

/** GENERATE ASYMMETRIC KEY PAIR `00 46 <keyid> 00` extended case 4 with the GAKP template. */
export function generateKeyPair(keyId: number, gakp: Uint8Array): CommandApdu {
  return { cla: 0x00, ins: 0x46, p1: keyId, p2: 0x00, data: gakp, le: EXTENDED_MAX_LE, extended: true, timeoutClass: 'keygen' };
}

/** SIGN `80 68 <keyid> <alg>` extended case 4. */
export function sign(keyId: number, alg: number, input: Uint8Array): CommandApdu {
  return { cla: 0x80, ins: 0x68, p1: keyId, p2: alg, data: input, le: EXTENDED_MAX_LE, extended: true, timeoutClass: 'sign' };
}

/** DELETE FILE `00 E4 02 00 02 <FID>` (SmartCard-HSM uses P1=02). */
export function deleteFile(fid: number): CommandApdu {
  return { cla: 0x00, ins: 0xe4, p1: 0x02, p2: 0x00, data: Uint8Array.of(fid >> 8, fid & 0xff) };
}
