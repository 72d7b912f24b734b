/**
 * PIN bytes are wiped after use on the real PC/SC path (issue #18 item 8), observed through the
 * pcsclite binding against pcscd and a vpcd card (reader "Virtual PCD 3 00 00", port 35967):
 * the test keeps a reference to every buffer that carried a PIN-bearing APDU — the encoded APDU
 * the channel hands to PcscTransport.transmit, and the Buffer PcscTransport hands to the pcsclite
 * addon's `reader._transmit` (src/card/transport/pcsc-native.ts) — and checks each is all zero once the call has returned, for VERIFY (right
 * and wrong PIN), CHANGE REFERENCE DATA and RESET RETRY COUNTER. APDUs without a PIN are left
 * alone on the channel layer, and each wiped buffer is checked to have held the PIN when sent. What the native binding and
 * pcscd do with their own copies is outside JavaScript's reach and not claimed here.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';
import { BIN, expectOk, runCommand } from '../helpers/run-command.js';
import { TEST_PIN, TEST_SO_PIN } from '../helpers/two-card-home.js';
import { PcscCardService } from '../../src/card/pcsc-card-service.js';
import type { DriverCardSession } from '../../src/card/card-session-impl.js';

const PORT = 35967;
let emu: EmulatorProcess;

interface Captured {
  /** INS and length when it was sent (the bytes themselves are wiped afterwards). */
  readonly ins: number;
  readonly length: number;
  /** The PIN bytes were really in it when it was handed on (so "all zero" afterwards can fail). */
  readonly dataAtSend: boolean;
  readonly bytes: Uint8Array;
}
const capture = (b: Uint8Array): Captured => ({ ins: b[1]!, length: b.length, dataAtSend: b.length > 5 && b.subarray(5).some((x) => x !== 0), bytes: b });

/**
 * Hold a reference to every buffer of both layers. The session's transport and the pcsclite
 * reader object are private fields; the test reaches them the way a debugger would, and wraps
 * the real methods (the APDUs still go to the card).
 */
function spyOn(session: DriverCardSession): { channel: Captured[]; binding: Captured[] } {
  const channel: Captured[] = [];
  const binding: Captured[] = [];
  const transport = (session as unknown as { transport: { transmit: (b: Uint8Array, o?: unknown) => Promise<Uint8Array>; reader: { _transmit: (...a: unknown[]) => void } } }).transport;
  assert.equal(transport.constructor.name, 'PcscTransport', 'the real pcsclite transport');
  const realTransmit = transport.transmit.bind(transport);
  transport.transmit = (b, o) => {
    channel.push(capture(b));
    return realTransmit(b, o);
  };
  const reader = transport.reader;
  const realReaderTransmit = reader._transmit.bind(reader);
  reader._transmit = (buf: unknown, ...rest: unknown[]) => {
    const b = buf as Buffer;
    assert.ok(Buffer.isBuffer(b));
    binding.push(capture(b));
    realReaderTransmit(buf, ...rest);
  };
  return { channel, binding };
}

const allZero = (b: Uint8Array): boolean => b.every((x) => x === 0);

/**
 * Every buffer that carried `ins` with data held its PIN bytes when handed on and is all zero
 * now. On the channel layer, APDUs without a PIN are left as they were (only secrets are wiped
 * there); the transport wipes every copy it made for the binding, so no such control there.
 */
function assertWiped(what: string, caps: readonly Captured[], ins: number, layer: 'channel' | 'binding'): void {
  const hits = caps.filter((c) => c.ins === ins && c.length > 5);
  assert.ok(hits.length > 0, `${what}: an APDU with INS ${ins.toString(16)} and data was sent`);
  for (const h of hits) {
    assert.ok(h.dataAtSend, `${what}: the PIN was in the buffer when it was sent`);
    assert.ok(allZero(h.bytes), `${what}: the ${h.length}-byte buffer of INS ${ins.toString(16)} is zeroed after the call`);
  }
  if (layer === 'channel') {
    const others = caps.filter((c) => !([0x20, 0x24, 0x2c].includes(c.ins) && c.length > 5));
    assert.ok(others.length > 0 && others.every((c) => !allZero(c.bytes)), `${what}: buffers without a PIN are left as they were`);
  }
}

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardca-pin-zero-'));
  const pin = join(dir, 'user.pin');
  const so = join(dir, 'so.pin');
  writeFileSync(pin, `${TEST_PIN}\n`, { mode: 0o600 });
  writeFileSync(so, `${TEST_SO_PIN}\n`, { mode: 0o600 });
  emu = await startEmulator({ port: PORT });
  expectOk(await runCommand(process.execPath, [BIN, 'card', 'init', '--reader', emu.readerName, '--label', 'zeroing', '--so-pin-file', so, '--pin-file', pin]), 'card init');
});

after(async () => {
  await emu?.stop();
});

async function withSession(fn: (s: DriverCardSession) => Promise<void>): Promise<void> {
  const service = new PcscCardService();
  try {
    const s = await service.open({ reader: emu.readerName });
    try {
      await fn(s);
    } finally {
      await s.close();
    }
  } finally {
    await service.close();
  }
}

test('VERIFY through pcsclite: the encoded APDU and the binding\'s Buffer are zero after the call (right PIN and wrong PIN)', async () => {
  await withSession(async (s) => {
    const spy = spyOn(s);
    await s.pinStatus(); // a VERIFY without data: nothing to wipe, must survive
    await s.verifyPin(Buffer.from(TEST_PIN));
    assertWiped('VERIFY (right PIN), channel', spy.channel, 0x20, 'channel');
    assertWiped('VERIFY (right PIN), binding', spy.binding, 0x20, 'binding');
    const n = spy.binding.length;
    await s.pinStatus();
    await assert.rejects(s.verifyPin(Buffer.from('000000')));
    assertWiped('VERIFY (wrong PIN), binding', spy.binding.slice(n), 0x20, 'binding');
    await s.verifyPin(Buffer.from(TEST_PIN)); // restore the try counter
  });
});

test('CHANGE REFERENCE DATA and RESET RETRY COUNTER through pcsclite: wiped too', async () => {
  await withSession(async (s) => {
    const spy = spyOn(s);
    await s.pinStatus(); // no PIN in it: left alone
    await s.changePin(Buffer.from(TEST_PIN), Buffer.from('112233'));
    assertWiped('CHANGE REFERENCE DATA, channel', spy.channel, 0x24, 'channel');
    assertWiped('CHANGE REFERENCE DATA, binding', spy.binding, 0x24, 'binding');
    await s.unblockPin(Buffer.from(TEST_SO_PIN, 'hex'), Buffer.from(TEST_PIN));
    assertWiped('RESET RETRY COUNTER, channel', spy.channel, 0x2c, 'channel');
    assertWiped('RESET RETRY COUNTER, binding', spy.binding, 0x2c, 'binding');
    await s.verifyPin(Buffer.from(TEST_PIN)); // the unblock set the PIN back
  });
});
