/** Response APDU = data ‖ SW1 SW2 (ISO 7816-4 §5.1). */
export interface ResponseApdu {
  readonly data: Uint8Array;
  /** SW1 << 8 | SW2. */
  readonly sw: number;
}

export function parseResponse(bytes: Uint8Array): ResponseApdu {
  if (bytes.length < 2) throw new RangeError(`response APDU shorter than 2 bytes (${bytes.length})`);
  const n = bytes.length - 2;
  return { data: bytes.slice(0, n), sw: (bytes[n]! << 8) | bytes[n + 1]! };
}

export function sw1(sw: number): number {
  return sw >> 8;
}

export function sw2(sw: number): number {
  return sw & 0xff;
}

export function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}
