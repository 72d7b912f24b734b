import { CardStatus, SW } from './status-words.js';

/**
 * A parsed command APDU (ISO 7816-4 §5.1, §5.2: cases 1–4, short and extended length).
 * `ne` is the maximum response length the host accepts (0 = no Le field, i.e. case 1/3).
 */
export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  data: Uint8Array;
  ne: number;
  extended: boolean;
  case: 1 | 2 | 3 | 4;
}

/**
 * Decode the body after the 4-byte header. Inconsistent lengths answer `6700` as a card does.
 * Mixing short and extended fields is not allowed (ISO 7816-4 §5.1: "if extended, both").
 */
export function parseCommandApdu(raw: Uint8Array): CommandApdu {
  if (raw.length < 4) throw new CardStatus(SW.WRONG_LENGTH);
  const [cla, ins, p1, p2] = [raw[0]!, raw[1]!, raw[2]!, raw[3]!];
  const base = { cla, ins, p1, p2 };
  const n = raw.length;
  if (n === 4) return { ...base, data: new Uint8Array(0), ne: 0, extended: false, case: 1 };
  const b4 = raw[4]!;
  if (n === 5) return { ...base, data: new Uint8Array(0), ne: b4 === 0 ? 256 : b4, extended: false, case: 2 };
  if (b4 !== 0) {
    // Short Lc.
    const lc = b4;
    if (n === 5 + lc) return { ...base, data: raw.slice(5, 5 + lc), ne: 0, extended: false, case: 3 };
    if (n === 6 + lc) {
      const le = raw[n - 1]!;
      return { ...base, data: raw.slice(5, 5 + lc), ne: le === 0 ? 256 : le, extended: false, case: 4 };
    }
    throw new CardStatus(SW.WRONG_LENGTH);
  }
  // b4 = 00 and more than 5 bytes: extended form.
  if (n === 7) {
    const le = (raw[5]! << 8) | raw[6]!;
    return { ...base, data: new Uint8Array(0), ne: le === 0 ? 65536 : le, extended: true, case: 2 };
  }
  if (n < 7) throw new CardStatus(SW.WRONG_LENGTH);
  const lc = (raw[5]! << 8) | raw[6]!;
  if (lc === 0) throw new CardStatus(SW.WRONG_LENGTH);
  if (n === 7 + lc) return { ...base, data: raw.slice(7, 7 + lc), ne: 0, extended: true, case: 3 };
  if (n === 9 + lc) {
    const le = (raw[n - 2]! << 8) | raw[n - 1]!;
    return { ...base, data: raw.slice(7, 7 + lc), ne: le === 0 ? 65536 : le, extended: true, case: 4 };
  }
  throw new CardStatus(SW.WRONG_LENGTH);
}
