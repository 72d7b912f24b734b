import type { ApduChannel } from '../apdu/apdu-channel.js';
import type { CommandApdu } from '../apdu/command-apdu.js';
import { statusWordError } from '../apdu/status-words.js';
import { readBinary } from './commands.js';

/**
 * SELECT with the 6A86 fallback (ISO 7816-4 §11.2.2; OpenSC `iso7816_select_file`): some cards
 * reject P2=0C ("no response data") — retry once asking for the FCI (P2=00, Le=00).
 */
export async function selectWithFallback(ch: ApduChannel, cmd: CommandApdu, context: string): Promise<Uint8Array> {
  const r = await ch.transmit(cmd);
  if (r.sw === 0x9000) return r.data;
  if (r.sw === 0x6a86 && cmd.p2 === 0x0c) {
    return ch.expectOk({ ...cmd, p2: 0x00, le: 256 }, context);
  }
  throw statusWordError(r.sw, context);
}

/**
 * Read a transparent EF longer than one response with READ BINARY (B0) in chunks. Stops when a
 * chunk is short, on 6282 (EOF, data valid), or on 6B00/6A86 at an offset beyond the end
 * (ISO 7816-4 §11.3.3; OpenSC `iso7816_read_binary`).
 */
export async function readWholeBinary(ch: ApduChannel, size: number | undefined, chunk = 256): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let off = 0;
  for (;;) {
    const want = size === undefined ? chunk : Math.min(chunk, size - off);
    if (want <= 0) break;
    const r = await ch.transmit(readBinary(off, want));
    if (r.sw === 0x6b00 || (r.sw === 0x6a86 && off > 0)) break;
    if (r.sw !== 0x9000 && r.sw !== 0x6282) throw statusWordError(r.sw, `READ BINARY at offset ${off}`);
    parts.push(r.data);
    off += r.data.length;
    if (r.sw === 0x6282 || r.data.length < want) break;
  }
  const out = new Uint8Array(off);
  let p = 0;
  for (const x of parts) {
    out.set(x, p);
    p += x.length;
  }
  return out;
}
