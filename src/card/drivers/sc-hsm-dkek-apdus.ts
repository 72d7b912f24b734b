import type { CommandApdu } from '../apdu/command-apdu.js';
import { EXTENDED_MAX_LE } from '../apdu/command-apdu.js';

/**
 * Pure builders and parsers for the SmartCard-HSM's DKEK commands, byte for byte as OpenSC
 * sends them (`card-sc-hsm.c` `sc_hsm_import_dkek_share`, `sc_hsm_wrap_key`,
 * `sc_hsm_unwrap_key`; card-protocols.md §3.1 "DKEK").
 */

/** EF the blob is staged in before UNWRAP (OpenSC's way; works with short-APDU readers). */
export const EF_UNWRAP_STAGING = 0x2f10;

/** `80 52 00 00 00`: DKEK status (case 2, short Le = 256). */
export function dkekStatus(): CommandApdu {
  return { cla: 0x80, ins: 0x52, p1: 0x00, p2: 0x00, le: 256 };
}

/** `80 52 00 00 20 <share> 00`: import one 32-byte share (case 4, short). */
export function importDkekShare(share: Uint8Array): CommandApdu {
  if (share.length !== 32) throw new RangeError('a DKEK share is 32 bytes');
  return { cla: 0x80, ins: 0x52, p1: 0x00, p2: 0x00, data: share, le: 256 };
}

/** `80 72 <key id> 92 00 00 00`: WRAP KEY (case 2, extended Le). */
export function wrapKey(keyId: number): CommandApdu {
  return { cla: 0x80, ins: 0x72, p1: keyId, p2: 0x92, le: EXTENDED_MAX_LE, extended: true };
}

/** `80 74 <key id> 93`: UNWRAP KEY of the blob staged in EF 2F10 (case 1). */
export function unwrapKey(keyId: number): CommandApdu {
  return { cla: 0x80, ins: 0x74, p1: keyId, p2: 0x93 };
}

export interface DkekStatus {
  /** Shares the card was initialised for (INITIALIZE tag 92); 0 = no DKEK shares. */
  readonly shares: number;
  /** Shares still to import. */
  readonly missing: number;
  /** Key check value of the DKEK so far (SHA-256(DKEK)[0..8]), upper-case hex. */
  readonly kcv: string;
}

/** Response of `80 52`: total ‖ outstanding ‖ KCV (8). */
export function parseDkekStatus(data: Uint8Array): DkekStatus {
  if (data.length < 10) throw new RangeError(`DKEK status of ${data.length} bytes; expected 10`);
  return { shares: data[0]!, missing: data[1]!, kcv: Buffer.from(data.subarray(2, 10)).toString('hex').toUpperCase() };
}
