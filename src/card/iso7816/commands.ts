import type { CommandApdu } from '../apdu/command-apdu.js';

/**
 * Pure ISO 7816-4 command builders (no I/O). Byte layouts: ISO 7816-4 §11 (SELECT §11.2.2,
 * READ/UPDATE BINARY §11.3.3/§11.3.5, VERIFY §11.5.6, CHANGE REFERENCE DATA §11.5.7,
 * RESET RETRY COUNTER §11.5.10).
 */
export type SelectResponse = 'fci' | 'fcp' | 'none';

const P2_OF: Record<SelectResponse, number> = { fci: 0x00, fcp: 0x04, none: 0x0c };

function selectWith(p1: number, data: Uint8Array | undefined, resp: SelectResponse): CommandApdu {
  const base = { cla: 0x00, ins: 0xa4, p1, p2: P2_OF[resp] };
  const withData = data && data.length > 0 ? { ...base, data } : base;
  // P2=0C means "no response data": case 3, no Le (ISO 7816-4 §11.2.2).
  return resp === 'none' ? withData : { ...withData, le: 256 };
}

/** SELECT by DF name (AID), P1=04. */
export function selectAid(aid: Uint8Array, resp: SelectResponse = 'fci'): CommandApdu {
  return selectWith(0x04, aid, resp);
}

/** SELECT by file identifier, P1=00 (MF, DF or EF). */
export function selectFid(fid: number, resp: SelectResponse = 'none'): CommandApdu {
  return selectWith(0x00, Uint8Array.of(fid >> 8, fid & 0xff), resp);
}

/** SELECT by path from the MF without 3F00, P1=08. */
export function selectPath(path: Uint8Array, resp: SelectResponse = 'none'): CommandApdu {
  let p = path;
  if (p.length >= 2 && p[0] === 0x3f && p[1] === 0x00) p = p.subarray(2);
  return p.length === 0 ? selectWith(0x00, undefined, resp) : selectWith(0x08, p, resp);
}

/** UPDATE BINARY, even INS D6 with a 15-bit offset in P1-P2, into the current EF (ISO 7816-4 §11.3.5). */
export function updateBinary(offset: number, chunk: Uint8Array): CommandApdu {
  if (offset < 0 || offset > 0x7fff) throw new RangeError(`UPDATE BINARY offset out of range: ${offset}`);
  if (chunk.length === 0 || chunk.length > 255) throw new RangeError('UPDATE BINARY takes 1..255 bytes in a short APDU');
  return { cla: 0x00, ins: 0xd6, p1: offset >> 8, p2: offset & 0xff, data: chunk };
}

/** READ BINARY, even INS B0 with a 15-bit offset in P1-P2. */
export function readBinary(offset: number, le: number): CommandApdu {
  if (offset < 0 || offset > 0x7fff) throw new RangeError(`READ BINARY offset out of range: ${offset}`);
  return { cla: 0x00, ins: 0xb0, p1: offset >> 8, p2: offset & 0xff, le };
}

/** Offset data object `54 02 hi lo` used by the odd-INS B1/D7 forms. */
function offsetDo(offset: number): number[] {
  if (offset < 0 || offset > 0xffff) throw new RangeError(`offset out of range: ${offset}`);
  return [0x54, 0x02, offset >> 8, offset & 0xff];
}

/**
 * READ BINARY odd INS B1 (ISO 7816-4 §11.3.3): P1-P2 = FID (0000 = current EF), data = `54 02 off`.
 * `le` 65 536 reads up to the end of the file in one extended APDU.
 */
export function readBinaryOdd(fid: number, offset: number, le: number): CommandApdu {
  return { cla: 0x00, ins: 0xb1, p1: fid >> 8, p2: fid & 0xff, data: Uint8Array.from(offsetDo(offset)), le };
}

/** UPDATE BINARY odd INS D7: data = `54 02 off ‖ 53 L chunk` (P1-P2 = FID; creates the EF on SmartCard-HSM). */
export function updateBinaryOdd(fid: number, offset: number, chunk: Uint8Array): CommandApdu {
  const len = chunk.length;
  const lenBytes = len < 0x80 ? [len] : len < 0x100 ? [0x81, len] : [0x82, len >> 8, len & 0xff];
  return {
    cla: 0x00,
    ins: 0xd7,
    p1: fid >> 8,
    p2: fid & 0xff,
    data: Uint8Array.from([...offsetDo(offset), 0x53, ...lenBytes, ...chunk]),
  };
}

/** VERIFY `00 20 00 ref Lc PIN` (case 3). */
export function verify(ref: number, pin: Uint8Array): CommandApdu {
  if (pin.length === 0) throw new RangeError('empty PIN: use verifyStatus() for the status query');
  return { cla: 0x00, ins: 0x20, p1: 0x00, p2: ref, data: pin };
}

/** VERIFY without data (case 1): the tries-left query (ISO 7816-4 §11.5.6). */
export function verifyStatus(ref: number): CommandApdu {
  return { cla: 0x00, ins: 0x20, p1: 0x00, p2: ref };
}

/** CHANGE REFERENCE DATA `00 24 00 ref old‖new`. */
export function changeReferenceData(ref: number, oldAndNew: Uint8Array): CommandApdu {
  return { cla: 0x00, ins: 0x24, p1: 0x00, p2: ref, data: oldAndNew };
}

/** RESET RETRY COUNTER `00 2C p1 ref data` (P1 00: PUK‖new PIN, 01: PUK only). */
export function resetRetryCounter(p1: number, ref: number, data: Uint8Array): CommandApdu {
  return { cla: 0x00, ins: 0x2c, p1, p2: ref, data };
}
