/**
 * Status words the emulated card answers with (ISO 7816-4 §5.1.3, table 5–6) and the
 * internal exception that carries one out of a command handler.
 */
export const SW = {
  OK: 0x9000,
  EOF_REACHED: 0x6282,
  WRONG_LENGTH: 0x6700,
  SM_NOT_SUPPORTED: 0x6882,
  CHAINING_NOT_SUPPORTED: 0x6884,
  SECURITY_NOT_SATISFIED: 0x6982,
  AUTH_BLOCKED: 0x6983,
  REF_DATA_NOT_USABLE: 0x6984,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  WRONG_DATA: 0x6a80,
  FUNC_NOT_SUPPORTED: 0x6a81,
  FILE_NOT_FOUND: 0x6a82,
  NOT_ENOUGH_MEMORY: 0x6a84,
  WRONG_P1P2: 0x6a86,
  REF_DATA_NOT_FOUND: 0x6a88,
  FILE_EXISTS: 0x6a89,
  OFFSET_OUT_OF_RANGE: 0x6b00,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  NO_PRECISE_DIAGNOSIS: 0x6f00,
} as const;

/** Thrown inside the card to abort a command with a status word; never leaves `process()`. */
export class CardStatus extends Error {
  constructor(readonly sw: number) {
    super(`SW ${sw.toString(16).padStart(4, '0').toUpperCase()}`);
  }
}

export function fail(sw: number): never {
  throw new CardStatus(sw);
}

/** `63Cx`: verification failed, x tries left (ISO 7816-4 §5.1.3). */
export function triesLeftSw(n: number): number {
  return 0x63c0 | Math.min(Math.max(n, 0), 15);
}
