import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApduChannel } from '../../../src/card/apdu/apdu-channel.js';
import { readWholeBinary, selectWithFallback } from '../../../src/card/iso7816/file-ops.js';
import { selectFid } from '../../../src/card/iso7816/commands.js';
import type { CardTransport } from '../../../src/card/transport/card-transport.js';
import { StatusWordError } from '../../../src/card/errors.js';
import { fromHex, toHex } from '../../../src/common/hex.js';

/** Plays a fixed exchange script; fails on unexpected or leftover exchanges. */
class Script implements CardTransport {
  readonly readerName = 'script';
  private i = 0;
  constructor(private readonly steps: Array<[string, string]>) {}
  atr(): Uint8Array {
    return new Uint8Array(0);
  }
  async transmit(c: Uint8Array): Promise<Uint8Array> {
    const s = this.steps[this.i++];
    assert.ok(s, `unexpected ${toHex(c)}`);
    assert.equal(toHex(c), s[0]);
    return fromHex(s[1]);
  }
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }
  async close(): Promise<void> {}
  done(): void {
    assert.equal(this.i, this.steps.length);
  }
}

test('SELECT with P2=0C answered 6A86 is retried once with P2=00 and Le', async () => {
  const t = new Script([
    ['00A4000C025031', '6A86'],
    ['00A4000002503100', '6F0483025031' + '9000'],
  ]);
  const fci = await selectWithFallback(new ApduChannel(t), selectFid(0x5031), 'SELECT ODF');
  assert.equal(toHex(fci), '6F0483025031');
  t.done();
});

test('SELECT failing otherwise throws the typed error without retry', async () => {
  const t = new Script([['00A4000C025031', '6A82']]);
  await assert.rejects(selectWithFallback(new ApduChannel(t), selectFid(0x5031), 'SELECT ODF'), (e: unknown) => e instanceof StatusWordError && e.sw === 0x6a82);
  t.done();
});

test('READ BINARY of a file longer than one APDU loops by offset until a short chunk', async () => {
  const t = new Script([
    ['00B0000004', '01020304' + '9000'],
    ['00B0000404', '05060708' + '9000'],
    ['00B0000804', '09' + '9000'],
  ]);
  assert.equal(toHex(await readWholeBinary(new ApduChannel(t), undefined, 4)), '010203040506070809');
  t.done();
});

test('READ BINARY stops on 6282 (data valid) and on 6B00 beyond the end', async () => {
  const a = new Script([
    ['00B0000004', 'AABBCCDD9000'],
    ['00B0000404', 'EE6282'],
  ]);
  assert.equal(toHex(await readWholeBinary(new ApduChannel(a), undefined, 4)), 'AABBCCDDEE');
  a.done();
  const b = new Script([
    ['00B0000002', 'AABB9000'],
    ['00B0000202', '6B00'],
  ]);
  assert.equal(toHex(await readWholeBinary(new ApduChannel(b), undefined, 2)), 'AABB');
  b.done();
});

test('READ BINARY with a known size asks exactly for the rest', async () => {
  const t = new Script([
    ['00B0000004', '010203049000'],
    ['00B0000402', '05069000'],
  ]);
  assert.equal(toHex(await readWholeBinary(new ApduChannel(t), 6, 4)), '010203040506');
  t.done();
});
