/** Issue 18 item 5: time limits per operation class; an interrupted key generation leaves a listed, deletable slot. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ScHsmCard } from '../../../src/card/emulator/sc-hsm-card.js';
import { InstrumentedCard } from '../../../src/card/emulator/instrumented-card.js';
import { InProcessTransport } from '../../../src/card/transport/in-process-transport.js';
import { DriverCardSession } from '../../../src/card/card-session-impl.js';
import { OPERATION_TIMEOUTS_MS } from '../../../src/card/apdu/apdu-channel.js';
import { CardcaError } from '../../../src/common/cardca-error.js';
import { readySession, SO_PIN, USER_PIN } from './card-truth-helpers.js';

class Recording extends InProcessTransport {
  readonly limits: Array<[number, number | undefined]> = [];
  override transmit(command: Uint8Array, options: { timeoutMs?: number } = {}): Promise<Uint8Array> {
    this.limits.push([command[1]!, options.timeoutMs]);
    return super.transmit(command, options);
  }
}

test('key generation, signing and the rest get their own limits; --card-timeout overrides all', async () => {
  for (const override of [undefined, 5000]) {
    const t = new Recording(new ScHsmCard());
    const s = await DriverCardSession.open(t, override === undefined ? {} : { timeoutMs: override });
    await s.initialize({ soPin: SO_PIN, userPin: USER_PIN, retries: 3, label: 'x' });
    await s.verifyPin(USER_PIN);
    const k = await s.generateKey({ label: 'k', algorithm: 'p256' });
    await (await s.signer(k.id)).sign(Buffer.from('x'), 'ecdsa-sha256');
    const of = (ins: number) => new Set(t.limits.filter(([i]) => i === ins).map(([, ms]) => ms));
    if (override === undefined) {
      assert.deepEqual(of(0x46), new Set([OPERATION_TIMEOUTS_MS.keygen]));
      assert.deepEqual(of(0x68), new Set([OPERATION_TIMEOUTS_MS.sign]));
      assert.deepEqual(of(0xb1), new Set([OPERATION_TIMEOUTS_MS.other]));
      assert.ok(OPERATION_TIMEOUTS_MS.keygen >= 300_000, 'RSA-4096 generation on a slow card takes minutes');
    } else {
      assert.deepEqual(new Set(t.limits.map(([, ms]) => ms)), new Set([override]));
    }
  }
});

test('a key generation that times out leaves "incomplete key in slot N", which delete-key removes', async () => {
  const card = new InstrumentedCard(new ScHsmCard());
  const { session } = await readySession(card);
  const slow = await DriverCardSession.open(new InProcessTransport(card), { timeoutMs: 300 });
  await slow.verifyPin(USER_PIN);
  // Hold the GAKP longer than the limit: the card still generates the key after the host gave up.
  card.faults.add(`delay=${card.apduCount + 2}:800`); // 1: ENUMERATE, 2: GAKP (device cert is cached)
  await assert.rejects(slow.generateKey({ label: 'slow', algorithm: 'p256' }), (e: unknown) => e instanceof CardcaError && e.code === 'CARD_TIMEOUT');
  await sleep(900);
  card.faults.clear();
  const s2 = await DriverCardSession.open(new InProcessTransport(card));
  const inv = await s2.inventory();
  assert.equal(inv.length, 1);
  assert.equal(inv[0]!.state, 'incomplete');
  assert.match(inv[0]!.problems[0]!, /^incomplete key in slot 1/);
  await s2.verifyPin(USER_PIN);
  await s2.deleteKeySlot(1);
  assert.deepEqual(await s2.inventory(), []);
  await session.close();
});
