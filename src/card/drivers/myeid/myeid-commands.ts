import type { CommandApdu } from '../../apdu/command-apdu.js';

/**
 * MyEID proprietary APDUs (card-protocols.md §3.2; OpenSC `card-myeid.c`, `pkcs15init/pkcs15-myeid.c`).
 * Pure builders; byte-exact tests in test/unit/card/myeid-commands.test.ts.
 */

/** The MyEID applet AID, which is the PKCS#15 AID (`myeid_init`). */
export const MYEID_AID = Uint8Array.from([0xa0, 0x00, 0x00, 0x00, 0x63, 0x50, 0x4b, 0x43, 0x53, 0x2d, 0x31, 0x35]);

/** MSE algorithm references (`myeid_set_security_env`): 00 raw RSA, 02 PKCS#1 v1.5 over a DigestInfo, 04 ECDSA. */
export const MYEID_ALG = { rsaRaw: 0x00, rsaPkcs1: 0x02, ecdsa: 0x04 } as const;

/** `00 A4 04 00 0C <AID> 00`: select the applet (FCI answered). */
export function selectApplet(): CommandApdu {
  return { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: MYEID_AID, le: 256 };
}

/** What GET DATA 01 AA says (card-myeid.c `myeid_get_card_caps`, `MYEID_CARD_CAP_*`); big-endian 16-bit lengths. */
export interface MyeidCapabilities {
  readonly version: number;
  readonly rsa: boolean;
  readonly ecc: boolean;
  readonly maxRsaBits: number;
  readonly maxEccBits: number;
}

export const MYEID_CARD_CAP = { rsa: 0x01, des3: 0x02, aes: 0x04, ecc: 0x08, gridPin: 0x10, pivEmulation: 0x20 } as const;

/** Parse the capabilities answer; `undefined` when shorter than the 11 bytes OpenSC requires. */
export function parseCapabilities(b: Uint8Array): MyeidCapabilities | undefined {
  if (b.length < 11) return undefined;
  const u16 = (i: number) => (b[i]! << 8) | b[i + 1]!;
  const features = u16(1);
  return { version: b[0]!, rsa: (features & MYEID_CARD_CAP.rsa) !== 0, ecc: (features & MYEID_CARD_CAP.ecc) !== 0, maxRsaBits: u16(3), maxEccBits: u16(9) };
}

/** GET DATA `00 CA 01 A0 14`: 20 bytes of applet info (version b5.b6.b7, serial b8..b17, change counter b18..b19). */
export function getAppletInfo(): CommandApdu {
  return { cla: 0x00, ins: 0xca, p1: 0x01, p2: 0xa0, le: 20 };
}

/** GET DATA `00 CA 01 AA 0B`: capabilities (from v4.0; `myeid_get_card_caps`). */
export function getCapabilities(): CommandApdu {
  return { cla: 0x00, ins: 0xca, p1: 0x01, p2: 0xaa, le: 11 };
}

/** GET DATA `00 CA 01 01 00` (RSA modulus) or `00 CA 01 86 00` (EC point in a TLV) of the selected key EF. */
export function getPublicKey(kind: 'rsa' | 'ec'): CommandApdu {
  return { cla: 0x00, ins: 0xca, p1: 0x01, p2: kind === 'rsa' ? 0x01 : 0x86, le: 256 };
}

/** LOGOUT `00 2E 00 00`: every PIN back to not verified (`myeid_logout`). */
export function logout(): CommandApdu {
  return { cla: 0x00, ins: 0x2e, p1: 0x00, p2: 0x00 };
}

/**
 * CREATE FILE `00 E0 00 00 Lc 62 17 {81|80 02 size, 82 01 desc, 83 02 FID, 86 03 ACL, 85 02 prop, 8A 01 00}`
 * (`encode_file_structure`): size in bytes for an EF (tag 80), in bits for a key EF (tag 81).
 */
export function createFile(o: { fid: number; descriptor: number; size: number; acl: Uint8Array; prop?: Uint8Array }): CommandApdu {
  if (o.acl.length !== 3) throw new RangeError('MyEID ACL is 3 bytes');
  const prop = o.prop ?? Uint8Array.of(0, 0);
  const sizeTag = o.descriptor === 0x01 ? 0x80 : 0x81;
  const data = Uint8Array.from([
    0x62, 0x17,
    sizeTag, 0x02, (o.size >> 8) & 0xff, o.size & 0xff,
    0x82, 0x01, o.descriptor,
    0x83, 0x02, (o.fid >> 8) & 0xff, o.fid & 0xff,
    0x86, 0x03, ...o.acl,
    0x85, 0x02, ...prop,
    0x8a, 0x01, 0x00,
  ]);
  return { cla: 0x00, ins: 0xe0, p1: 0x00, p2: 0x00, data };
}

/** DELETE FILE `A0 E4 00 00`: the currently selected file (`myeid_delete_file`). */
export function deleteSelectedFile(): CommandApdu {
  return { cla: 0xa0, ins: 0xe4, p1: 0x00, p2: 0x00 };
}

/** GENERATE KEY `00 46 00 00 07 30 05 81 03 01 00 01` (RSA, e = 65537) or `00 46 00 00` (EC). */
export function generateKey(kind: 'rsa' | 'ec'): CommandApdu {
  return kind === 'rsa'
    ? { cla: 0x00, ins: 0x46, p1: 0x00, p2: 0x00, data: Uint8Array.of(0x30, 0x05, 0x81, 0x03, 0x01, 0x00, 0x01) }
    : { cla: 0x00, ins: 0x46, p1: 0x00, p2: 0x00 };
}

/** A MyEID PIN as VERIFY sends it: ASCII, FF-padded to 8 bytes (`myeid_pin_cmd`: pad_length 8, pad_char FF). */
export function padPin(pin: Uint8Array, padChar = 0xff, length = 8): Uint8Array {
  if (pin.length === 0 || pin.length > length) throw new RangeError(`MyEID PINs are 1..${length} bytes`);
  const out = new Uint8Array(length).fill(padChar);
  out.set(pin);
  return out;
}
