/**
 * Command APDU model and its byte encoding (ISO 7816-4 §5.1, cases 1–4, short and extended).
 * Pure functions: bytes in, bytes out.
 */
export interface CommandApdu {
  readonly cla: number;
  readonly ins: number;
  readonly p1: number;
  readonly p2: number;
  /** Command data (Lc is derived from it). Absent or empty = no data field. */
  readonly data?: Uint8Array;
  /**
   * Expected response length Ne. Absent = no Le field (case 1/3). 256 is encoded `00` in short
   * form, 65 536 is encoded `00 00` in extended form (ISO 7816-4 §5.1).
   */
  readonly le?: number;
  /** Force the extended form even when both lengths would fit the short form. */
  readonly extended?: boolean;
  /**
   * How long the card may take (apdu-channel.ts OPERATION_TIMEOUTS_MS): key generation takes
   * minutes on a slow card (RSA-4096), a signature seconds, everything else less. Default "other".
   */
  readonly timeoutClass?: 'keygen' | 'sign' | 'other';
}

/** Largest Nc/Ne the short form can carry. */
export const SHORT_MAX_LC = 255;
export const SHORT_MAX_LE = 256;
export const EXTENDED_MAX_LE = 65536;

/** True when this APDU needs (or asks for) the extended length form. */
export function isExtended(cmd: CommandApdu): boolean {
  const nc = cmd.data?.length ?? 0;
  return Boolean(cmd.extended) || nc > SHORT_MAX_LC || (cmd.le ?? 0) > SHORT_MAX_LE;
}

/**
 * Encode a command APDU. Short and extended lengths are never mixed (ISO 7816-4 §5.1): if either
 * Lc or Le needs the extended form, both use it.
 */
export function encodeCommand(cmd: CommandApdu): Uint8Array {
  for (const b of [cmd.cla, cmd.ins, cmd.p1, cmd.p2]) {
    if (!Number.isInteger(b) || b < 0 || b > 0xff) throw new RangeError(`APDU header byte out of range: ${b}`);
  }
  const data = cmd.data ?? new Uint8Array(0);
  const nc = data.length;
  const le = cmd.le;
  if (nc > 65535) throw new RangeError(`command data too long for one APDU: ${nc} bytes`);
  if (le !== undefined && (!Number.isInteger(le) || le < 0 || le > EXTENDED_MAX_LE)) {
    throw new RangeError(`Le out of range: ${le}`);
  }
  const ext = isExtended(cmd);
  const out: number[] = [cmd.cla, cmd.ins, cmd.p1, cmd.p2];
  if (nc > 0) {
    if (ext) out.push(0x00, nc >> 8, nc & 0xff);
    else out.push(nc);
    for (const b of data) out.push(b);
  }
  if (le !== undefined) {
    if (ext) {
      const v = le === EXTENDED_MAX_LE ? 0 : le;
      // Case 2E has a leading 00 before Le; case 4E does not (the 00 came before Lc).
      if (nc === 0) out.push(0x00);
      out.push(v >> 8, v & 0xff);
    } else {
      out.push(le === SHORT_MAX_LE ? 0 : le);
    }
  }
  const bytes = Uint8Array.from(out);
  out.fill(0); // the intermediate array may hold a PIN
  return bytes;
}

/**
 * Split a command into a chain (ISO 7816-4 §5.1.1.1): every block but the last has CLA bit
 * 0x10 set, no Le; the last keeps the original CLA and Le. Returns one element when no chaining
 * is needed.
 */
export function chainCommand(cmd: CommandApdu, maxData: number): CommandApdu[] {
  const data = cmd.data ?? new Uint8Array(0);
  if (maxData < 1) throw new RangeError('maxData must be positive');
  if (data.length <= maxData) return [cmd];
  const parts: CommandApdu[] = [];
  for (let off = 0; off < data.length; off += maxData) {
    const chunk = data.subarray(off, Math.min(off + maxData, data.length));
    const last = off + maxData >= data.length;
    const base = { ins: cmd.ins, p1: cmd.p1, p2: cmd.p2, data: chunk };
    if (last) parts.push({ ...base, cla: cmd.cla, ...(cmd.le === undefined ? {} : { le: cmd.le }), ...(cmd.extended ? { extended: true } : {}) });
    else parts.push({ ...base, cla: cmd.cla | 0x10, ...(cmd.extended ? { extended: true } : {}) });
  }
  return parts;
}

/** The same command with a different Le (used for the 6Cxx retry, ISO 7816-4 §5.6.1). */
export function withLe(cmd: CommandApdu, le: number): CommandApdu {
  return { ...cmd, le };
}

/** GET RESPONSE `00 C0 00 00 Le` (ISO 7816-4 §11.4.2); `xx = 00` asks for 256. */
export function getResponseCommand(available: number): CommandApdu {
  return { cla: 0x00, ins: 0xc0, p1: 0x00, p2: 0x00, le: available === 0 ? 256 : available };
}
