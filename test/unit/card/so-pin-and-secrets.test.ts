/** Issue 18 item 8: the SO-PIN is guarded like the user PIN; PIN bytes are wiped everywhere. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ScHsmCard } from '../../../src/card/emulator/sc-hsm-card.js';
import type { VirtualCard } from '../../../src/card/emulator/virtual-card.js';
import { InProcessTransport } from '../../../src/card/transport/in-process-transport.js';
import { ApduChannel } from '../../../src/card/apdu/apdu-channel.js';
import { CardcaError } from '../../../src/common/cardca-error.js';
import { guardSoPin } from '../../../src/cli/so-pin-guard.js';
import type { CliContext } from '../../../src/cli/context.js';
import * as cmd from '../../../src/card/drivers/sc-hsm/sc-hsm-commands.js';
import { resetRetryCounter } from '../../../src/card/iso7816/commands.js';
import { open, readySession, SO_PIN, RewritingCard } from './card-truth-helpers.js';

function ctx(): { ctx: CliContext; err: () => string } {
  const stderr = new PassThrough();
  let text = '';
  stderr.on('data', (c: Buffer) => (text += c.toString()));
  const stdin = new PassThrough() as unknown as CliContext['stdin'];
  return { ctx: { stdout: new PassThrough(), stderr, stdin, env: {}, cwd: '/', now: () => new Date() }, err: () => text };
}

test('SO-PIN tries are shown before use; the last try is refused without the typed confirmation; blocked is refused', async () => {
  const { session } = await readySession();
  const c = ctx();
  await guardSoPin(c.ctx, session, { allowLastTry: false });
  assert.match(c.err(), /SO-PIN, 15 tries left/);
  // Spend 14 SO-PIN tries with wrong codes (RESET RETRY COUNTER, P1 01: SO-PIN only).
  for (let i = 0; i < 14; i++) await session.channel.transmit(resetRetryCounter(0x01, cmd.PIN_REF.user, new Uint8Array(8)));
  assert.equal((await session.soPinStatus()).triesLeft, 1);
  await assert.rejects(guardSoPin(c.ctx, session, { allowLastTry: false }), (e: unknown) => e instanceof CardcaError && e.code === 'SO_PIN_LAST_TRY');
  await guardSoPin(c.ctx, session, { allowLastTry: true });
  await session.channel.transmit(resetRetryCounter(0x01, cmd.PIN_REF.user, new Uint8Array(8)));
  await assert.rejects(guardSoPin(c.ctx, session, { allowLastTry: true }), (e: unknown) => e instanceof CardcaError && e.code === 'SO_PIN_BLOCKED');
});

test('a factory-fresh emulated card has the SmartCard-HSM default SO-PIN; INITIALIZE with another code costs a try', async () => {
  const s = await open(new ScHsmCard());
  assert.deepEqual(await s.soPinStatus(), { state: 'not-verified', triesLeft: 15 });
  await assert.rejects(s.initialize({ soPin: Buffer.from('0102030405060708', 'hex'), userPin: Buffer.from('123456'), retries: 3, label: 'x' }));
  assert.equal((await s.soPinStatus()).triesLeft, 14);
  await s.initialize({ soPin: SO_PIN, userPin: Buffer.from('123456'), retries: 3, label: 'x' });
  assert.equal((await s.soPinStatus()).triesLeft, 15);
});

test('the encoded APDU and the transport copy that carried a PIN are zeroed; the trace redacts extended APDUs', async () => {
  const seen: Uint8Array[] = [];
  const card: VirtualCard = new RewritingCard(new ScHsmCard(), (c, r) => {
    seen.push(c);
    return r;
  });
  const lines: string[] = [];
  const transport = new InProcessTransport(card);
  const captured: Uint8Array[] = [];
  const spy = {
    readerName: transport.readerName,
    atr: () => transport.atr(),
    transmit: (b: Uint8Array, o?: { timeoutMs?: number }) => {
      captured.push(b);
      return transport.transmit(b, o);
    },
    exclusive: <T>(fn: () => Promise<T>) => transport.exclusive(fn),
    close: () => transport.close(),
  };
  const ch = new ApduChannel(spy, { tracer: (d, h) => lines.push(`${d} ${h}`) });
  await ch.transmit(cmd.selectApplet());
  const pin = Buffer.from('3537363231383830', 'hex');
  // An extended-length SO-PIN VERIFY (forced extended, with Le): header must not leak data bytes.
  await ch.transmit({ cla: 0x00, ins: 0x20, p1: 0x00, p2: 0x88, data: pin, le: 65536, extended: true });
  const sent = captured.at(-1)!;
  assert.ok(sent.every((b) => b === 0), 'channel copy wiped');
  assert.ok(seen.at(-1)!.every((b) => b === 0), 'transport copy wiped');
  const trace = lines.find((l) => l.startsWith('=> 00 20 00 88'))!;
  assert.equal(trace, '=> 00 20 00 88 00 00 08 <8 bytes redacted>');
  assert.ok(!lines.join('\n').includes('35 37 36 32'), 'no PIN byte in the trace');
});
