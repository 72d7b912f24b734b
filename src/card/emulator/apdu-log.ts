import { appendFileSync } from 'node:fs';

/**
 * APDU transcript, one JSON line per exchange: { seq, time, command, response, ms }.
 * PIN-bearing commands (VERIFY 20, CHANGE REFERENCE DATA 24, RESET RETRY COUNTER 2C,
 * INITIALIZE 50, the PIV SET MANAGEMENT KEY FF, MyEID PUT DATA DA: PIN records and key parts) and
 * IMPORT DKEK SHARE 52 (a key share) keep only
 * their 4-byte header; the data is replaced by "<redacted>".
 */
export interface ApduLogEntry {
  seq: number;
  time: string;
  command: string;
  response: string;
  ms: number;
}

const PIN_INS = new Set([0x20, 0x24, 0x2c, 0x50, 0x52, 0xff, 0xda]);

export function redactedCommandHex(command: Uint8Array): string {
  const hex = Buffer.from(command).toString('hex').toUpperCase();
  if (command.length > 5 && PIN_INS.has(command[1]!)) return hex.slice(0, 8) + '<redacted>';
  // Case 2 (header + Le) carries no PIN; case 1 neither.
  return hex;
}

export function apduLogEntry(seq: number, started: Date, command: Uint8Array, response: Uint8Array, ms: number): ApduLogEntry {
  return {
    seq,
    time: started.toISOString(),
    command: redactedCommandHex(command),
    response: Buffer.from(response).toString('hex').toUpperCase(),
    ms: Math.round(ms * 1000) / 1000,
  };
}

export class ApduLog {
  constructor(private readonly path: string) {}

  append(entry: ApduLogEntry): void {
    appendFileSync(this.path, JSON.stringify(entry) + '\n', { mode: 0o600 });
  }
}
