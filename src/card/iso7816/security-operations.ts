import type { CommandApdu } from '../apdu/command-apdu.js';

/**
 * ISO/IEC 7816-8 security operations as FS-based PKCS#15 cards use them (MyEID, IsoApplet,
 * CardOS): MANAGE SECURITY ENVIRONMENT SET, then PERFORM SECURITY OPERATION. Pure builders.
 */

/** CRT of MSE SET (ISO 7816-4 §11.5.11 table 59–60; OpenSC `iso7816_set_security_env`). */
export interface SecurityEnvironment {
  /** B6 digital signature template (sign), B8 confidentiality template (decipher). */
  readonly template: 'sign' | 'decipher';
  /** Tag 80: card-specific algorithm reference. */
  readonly algorithm?: number;
  /** Tag 81: file reference of the key EF (FID in the current DF). */
  readonly fileReference?: Uint8Array;
  /** Tag 84: key reference. */
  readonly keyReference?: number;
}

/** `00 22 41 B6|B8 Lc [80 01 alg] [81 len fid] [84 01 ref]` — P1 41: set, for computation. */
export function mseSet(env: SecurityEnvironment): CommandApdu {
  const data: number[] = [];
  if (env.algorithm !== undefined) data.push(0x80, 0x01, env.algorithm & 0xff);
  if (env.fileReference) data.push(0x81, env.fileReference.length, ...env.fileReference);
  if (env.keyReference !== undefined) data.push(0x84, 0x01, env.keyReference & 0xff);
  return { cla: 0x00, ins: 0x22, p1: 0x41, p2: env.template === 'sign' ? 0xb6 : 0xb8, data: Uint8Array.from(data) };
}

/**
 * PSO COMPUTE DIGITAL SIGNATURE `00 2A 9E 9A Lc input 00` (ISO 7816-8 §11). Inputs above 255
 * bytes go out by command chaining (the channel splits them when the driver sets maxCommandData).
 */
export function psoComputeDigitalSignature(input: Uint8Array): CommandApdu {
  return { cla: 0x00, ins: 0x2a, p1: 0x9e, p2: 0x9a, data: input, le: 256 };
}

/**
 * PSO DECIPHER `00 2A 80 86 Lc <padding indicator> cryptogram` (ISO 7816-8 §14). Indicator 00:
 * no further indication; MyEID before v4.5 takes a 2048-bit block as two halves, 81 then 82
 * (card-myeid.c `myeid_transmit_decipher_pi_split`); only the last part expects a response.
 */
export function psoDecipher(paddingIndicator: number, cryptogram: Uint8Array, expectResponse: boolean): CommandApdu {
  const data = new Uint8Array(cryptogram.length + 1);
  data[0] = paddingIndicator;
  data.set(cryptogram, 1);
  return { cla: 0x00, ins: 0x2a, p1: 0x80, p2: 0x86, data, ...(expectResponse ? { le: 256 } : {}) };
}

/** The two half-block commands of a split decipher (first half 81, no Le; second half 82, Le). */
export function psoDecipherHalves(block: Uint8Array): [CommandApdu, CommandApdu] {
  const half = block.length >> 1;
  return [psoDecipher(0x81, block.subarray(0, half), false), psoDecipher(0x82, block.subarray(half), true)];
}
