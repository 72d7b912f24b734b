/**
 * Byte values of the PIV card application (NIST SP 800-73-4 Part 1 §3.3 and Table 3, Part 2
 * §3.2; algorithm identifiers from SP 800-78-4 Table 6-2) and of Yubico's PIV extensions
 * (developers.yubico.com/PIV/Introduction/Yubico_extensions.html). Shared by the driver and
 * the emulator, so both sides agree on one table.
 */

/** PIV AID with version (SP 800-73-4 Part 1 §2.2); the 5-byte RID prefix also selects it. */
export const PIV_AID = Uint8Array.of(0xa0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00);
export const PIV_RID = PIV_AID.subarray(0, 5);
/** PIX of the application, as returned in tag 4F of the application property template. */
export const PIV_PIX = PIV_AID.subarray(5);

/** Key references (SP 800-73-4 Part 1 Table 4b). */
export const KEY_REF = {
  pin: 0x80,
  puk: 0x81,
  globalPin: 0x00,
  management: 0x9b,
  authentication: 0x9a,
  signature: 0x9c,
  keyManagement: 0x9d,
  cardAuthentication: 0x9e,
  /** YubiKey attestation key (Yubico extension). */
  attestation: 0xf9,
} as const;

/** Retired key-management slots 82..95 (SP 800-73-4 Part 1 Table 4b). */
export const RETIRED_SLOTS: readonly number[] = Array.from({ length: 20 }, (_, i) => 0x82 + i);

/** Slots that hold an asymmetric key and a certificate, in the order OpenSC numbers them (ids 01..18). */
export const KEY_SLOTS: readonly number[] = [0x9a, 0x9c, 0x9d, 0x9e, ...RETIRED_SLOTS];

/** Data-object tags (SP 800-73-4 Part 1 Table 3), 3-byte BER tags under 5C. */
export const OBJECT_TAG = {
  ccc: 0x5fc107,
  chuid: 0x5fc102,
  discovery: 0x7e,
  keyHistory: 0x5fc10c,
  printedInfo: 0x5fc109,
  securityObject: 0x5fc106,
  /** Yubico: certificate of the attestation key in slot F9. */
  attestationCert: 0x5fff01,
} as const;

/** Certificate object of a key slot (SP 800-73-4 Part 1 Table 3; retired 82..95 → 5FC10D..5FC120). */
export function certificateTag(slot: number): number {
  switch (slot) {
    case 0x9a:
      return 0x5fc105;
    case 0x9c:
      return 0x5fc10a;
    case 0x9d:
      return 0x5fc10b;
    case 0x9e:
      return 0x5fc101;
    case 0xf9:
      return OBJECT_TAG.attestationCert;
    default:
      if (slot >= 0x82 && slot <= 0x95) return 0x5fc10d + (slot - 0x82);
      throw new RangeError(`slot ${slot.toString(16)} has no certificate object`);
  }
}

/** Cryptographic mechanism identifiers (SP 800-78-4 Table 6-2; 16 = Yubico RSA-4096). */
export const PIV_ALG = {
  tdes: 0x03,
  aes128: 0x08,
  aes192: 0x0a,
  aes256: 0x0c,
  rsa1024: 0x06,
  rsa2048: 0x07,
  rsa3072: 0x05,
  rsa4096: 0x16,
  p256: 0x11,
  p384: 0x14,
} as const;

export type MgmtKeyAlgorithm = 'tdes' | 'aes128' | 'aes192' | 'aes256';

export const MGMT_ALG_BY_ID: Readonly<Record<number, MgmtKeyAlgorithm>> = { 0x03: 'tdes', 0x08: 'aes128', 0x0a: 'aes192', 0x0c: 'aes256' };
export function mgmtAlgId(alg: MgmtKeyAlgorithm): number {
  return alg === 'tdes' ? 0x03 : alg === 'aes128' ? 0x08 : alg === 'aes192' ? 0x0a : 0x0c;
}

export const MGMT_KEY_LENGTH: Readonly<Record<MgmtKeyAlgorithm, number>> = { tdes: 24, aes128: 16, aes192: 24, aes256: 32 };

/** Factory values of a YubiKey (Yubico PIV introduction, "Default values"). */
export const FACTORY = {
  pin: '123456',
  puk: '12345678',
  managementKey: '010203040506070801020304050607080102030405060708',
} as const;

/** YubiKey PIN policy (tag AA of GENERATE) and touch policy (tag AB) values. */
export const PIN_POLICY = { default: 0x00, never: 0x01, once: 0x02, always: 0x03 } as const;
export const TOUCH_POLICY = { default: 0x00, never: 0x01, always: 0x02, cached: 0x03 } as const;
export type PinPolicyName = keyof typeof PIN_POLICY;
export type TouchPolicyName = keyof typeof TOUCH_POLICY;

/** Yubico instructions (Yubico PIV extensions). */
export const YK_INS = {
  setManagementKey: 0xff,
  reset: 0xfb,
  getVersion: 0xfd,
  getSerial: 0xf8,
  getMetadata: 0xf7,
  attest: 0xf9,
  setPinRetries: 0xfa,
} as const;

/** GET METADATA response tags (Yubico "GET METADATA"). */
export const METADATA_TAG = { algorithm: 0x01, policy: 0x02, origin: 0x03, publicKey: 0x04, isDefault: 0x05, retries: 0x06 } as const;

/** The human name of a slot, as SP 800-73-4 Part 1 Table 4b calls its key. */
export function slotName(slot: number): string {
  switch (slot) {
    case 0x9a:
      return 'PIV Authentication';
    case 0x9c:
      return 'Digital Signature';
    case 0x9d:
      return 'Key Management';
    case 0x9e:
      return 'Card Authentication';
    case 0xf9:
      return 'Attestation';
    default:
      return slot >= 0x82 && slot <= 0x95 ? `Retired Key Management ${slot - 0x81}` : `slot ${slot.toString(16)}`;
  }
}

/** Parse an operator's slot argument: "9c", "9C", "0x9c", "82". */
export function parseSlot(text: string): number | undefined {
  const t = text.trim().toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]{2}$/.test(t)) return undefined;
  const v = parseInt(t, 16);
  return KEY_SLOTS.includes(v) ? v : undefined;
}

export function slotHex(slot: number): string {
  return slot.toString(16).toUpperCase().padStart(2, '0');
}
