import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApduChannel } from '../../../src/card/apdu/apdu-channel.js';
import type { CardTransport } from '../../../src/card/transport/card-transport.js';
import { ScHsmCard } from '../../../src/card/emulator/sc-hsm-card.js';
import { InProcessTransport } from '../../../src/card/transport/in-process-transport.js';
import { DriverCardSession } from '../../../src/card/card-session-impl.js';
import { fromHex, toHex } from '../../../src/common/hex.js';

/** A transport that plays a fixed script and fails on any unexpected or leftover exchange. */
class ScriptedTransport implements CardTransport {
  readonly readerName = 'script';
  private step = 0;
  constructor(private readonly script: Array<[string, string]>) {}
  atr(): Uint8Array {
    return new Uint8Array(0);
  }
  async transmit(command: Uint8Array): Promise<Uint8Array> {
    const next = this.script[this.step++];
    assert.ok(next, `unexpected exchange ${toHex(command)}`);
    assert.equal(toHex(command), next[0]);
    return fromHex(next[1]);
  }
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }
  async close(): Promise<void> {}
  done(): void {
    assert.equal(this.step, this.script.length, 'leftover exchanges');
  }
}

test('6Cxx: the command is resent once with Le = xx', async () => {
  const t = new ScriptedTransport([
    ['00B0000000', '6C04'],
    ['00B0000004', 'DEADBEEF9000'],
  ]);
  const r = await new ApduChannel(t).transmit({ cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 256 });
  assert.deepEqual(r, { data: fromHex('DEADBEEF'), sw: 0x9000 });
  t.done();
});

test('61xx: GET RESPONSE until 9000, data concatenated', async () => {
  const t = new ScriptedTransport([
    ['8068017000000201020000', 'AAAA6102'],
    ['00C0000002', 'BBBB6100'],
    ['00C0000000', 'CC9000'],
  ]);
  const r = await new ApduChannel(t).transmit({ cla: 0x80, ins: 0x68, p1: 1, p2: 0x70, data: fromHex('0102'), le: 65536, extended: true });
  assert.deepEqual(r, { data: fromHex('AAAABBBBCC'), sw: 0x9000 });
  t.done();
});

test('chaining stops at the first refused block and returns its SW', async () => {
  const t = new ScriptedTransport([['102A9E9A020001', '6884']]);
  const ch = new ApduChannel(t, { maxCommandData: 2 });
  const r = await ch.transmit({ cla: 0, ins: 0x2a, p1: 0x9e, p2: 0x9a, data: fromHex('000102') });
  assert.equal(r.sw, 0x6884);
  t.done();
});

test('trace redacts VERIFY data', async () => {
  const lines: string[] = [];
  const t = new ScriptedTransport([['0020008106363438323139', '9000']]);
  await new ApduChannel(t, { tracer: (d, h) => lines.push(`${d} ${h}`) }).transmit({ cla: 0, ins: 0x20, p1: 0, p2: 0x81, data: Buffer.from('648219') });
  assert.equal(lines[0], '=> 00 20 00 81 06 <6 bytes redacted>');
  assert.ok(!lines.join('\n').includes('36 34 38'));
});

test('trace redacts MyEID PUT DATA PIN records (PIN and PUK in clear, pkcs15-myeid.c myeid_create_pin)', async () => {
  const lines: string[] = [];
  const record = '313233343536FFFF3132333435363738030A00';
  const t = new ScriptedTransport([['00DA010113' + record, '9000']]);
  await new ApduChannel(t, { tracer: (d, h) => lines.push(`${d} ${h}`) }).transmit({ cla: 0, ins: 0xda, p1: 0x01, p2: 0x01, data: fromHex(record) });
  assert.equal(lines[0], '=> 00 DA 01 01 13 <19 bytes redacted>');
  assert.ok(!lines.join('\n').includes('31 32 33'));
});

test('the whole driver works against a T=0-style card that answers 61xx beyond 100 bytes', async () => {
  const card = new ScHsmCard({ maxResponseSize: 100 });
  const s = await DriverCardSession.open(new InProcessTransport(card));
  await s.initialize({ soPin: fromHex('3537363231383830'), userPin: Buffer.from('648219'), retries: 3, label: 't0' });
  await s.verifyPin(Buffer.from('648219'));
  const k = await s.generateKey({ label: 'rsa', algorithm: 'rsa2048' });
  const [listed] = await s.listKeys();
  assert.equal(listed!.id, k.id);
  const before = s.channel.exchanges;
  const sig = await (await s.signer(k.id)).sign(Buffer.from('x'), 'rsa-pkcs1-sha256');
  assert.equal(sig.length, 256);
  assert.ok(s.channel.exchanges - before > 1, 'the 256-byte signature came in GET RESPONSE pieces');
});
