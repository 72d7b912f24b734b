import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PivCard } from '../../../src/card/emulator/piv-card.js';
import { InstrumentedCard } from '../../../src/card/emulator/instrumented-card.js';
import { FaultPlan } from '../../../src/card/emulator/fault-plan.js';
import { InProcessTransport } from '../../../src/card/transport/in-process-transport.js';
import { DriverCardSession } from '../../../src/card/card-session-impl.js';
import { CardError, PinError } from '../../../src/card/errors.js';
import { FACTORY } from '../../../src/card/piv/piv-constants.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
async function tx(card: PivCard, apdu: string): Promise<{ sw: string; data: Buffer }> {
  const r = Buffer.from(await card.process(hex(apdu)));
  return { sw: r.subarray(-2).toString('hex').toUpperCase(), data: r.subarray(0, -2) };
}

test('SELECT by RID answers the application property template; other AIDs 6A82', async () => {
  const card = new PivCard();
  const r = await tx(card, '00A4040005A00000030800');
  assert.equal(r.sw, '9000');
  assert.equal(r.data.toString('hex').toUpperCase(), '6111' + '4F06000010000100' + '7907' + '4F05A000000308');
  assert.equal((await tx(card, '00A404000BE82B0601040181C31F0201')).sw, '6A82');
});

test('long responses come in 256-byte pieces with 61xx and GET RESPONSE; chained commands are reassembled', async () => {
  const card = new PivCard();
  await tx(card, '00A4040005A000000308');
  // The management-key handshake is the driver's job: a session does it, then raw chained PUT DATA.
  const s = await DriverCardSession.open(new InProcessTransport(card));
  await s.authenticateAdmin(Buffer.from(FACTORY.managementKey, 'hex'));
  const body = Buffer.concat([hex('5C035FC105'), hex('53820259'), hex('70820250'), Buffer.alloc(592, 0x42), hex('710100FE00')]);
  const first = body.subarray(0, 255);
  const rest = body.subarray(255);
  assert.equal((await tx(card, `10DB3FFF${first.length.toString(16).padStart(2, '0')}${first.toString('hex')}`)).sw, '9000');
  const second = rest.subarray(0, 255);
  assert.equal((await tx(card, `10DB3FFF${second.length.toString(16).padStart(2, '0')}${second.toString('hex')}`)).sw, '9000');
  const last = rest.subarray(255);
  assert.equal((await tx(card, `00DB3FFF${last.length.toString(16).padStart(2, '0')}${last.toString('hex')}`)).sw, '9000');
  const r1 = await tx(card, '00CB3FFF055C035FC10500');
  assert.equal(r1.sw, '6100');
  assert.equal(r1.data.length, 256);
  const r2 = await tx(card, '00C0000000');
  assert.equal(r2.sw, '615D');
  const r3 = await tx(card, '00C000005D');
  assert.equal(r3.sw, '9000');
  assert.deepEqual(Buffer.concat([r1.data, r2.data, r3.data]), Buffer.concat([hex('53820259'), body.subarray(9)]));
});

test('PIN blocked after three wrong tries; the PUK unblocks; an exhausted PUK is PUK_BLOCKED; RESET only when both are blocked', async () => {
  const card = new PivCard();
  const s = await DriverCardSession.open(new InProcessTransport(card));
  assert.equal((await tx(card, '00FB0000')).sw, '6985', 'no factory reset while PIN and PUK work');
  for (const left of [2, 1, 0]) await assert.rejects(s.verifyPin(Buffer.from('000000')), (e: unknown) => e instanceof PinError && e.triesLeft === left);
  assert.deepEqual(await s.pinStatus(), { state: 'blocked', triesLeft: 0 });
  await assert.rejects(s.verifyPin(Buffer.from(FACTORY.pin)), (e: unknown) => e instanceof PinError && e.code === 'PIN_BLOCKED');
  for (let i = 0; i < 2; i++) await assert.rejects(s.unblockPin(Buffer.from('00000000'), Buffer.from('654321')), (e: unknown) => e instanceof PinError && e.code === 'PUK_INCORRECT');
  await assert.rejects(s.unblockPin(Buffer.from('00000000'), Buffer.from('654321')), (e: unknown) => e instanceof PinError && e.code === 'PUK_BLOCKED');
  await assert.rejects(s.unblockPin(Buffer.from(FACTORY.puk), Buffer.from('654321')), (e: unknown) => e instanceof PinError && e.code === 'PUK_BLOCKED');
  const serial = card.serial;
  assert.equal((await tx(card, '00FB0000')).sw, '9000');
  const again = await DriverCardSession.open(new InProcessTransport(card));
  assert.equal(again.info.serial, serial);
  await again.verifyPin(Buffer.from(FACTORY.pin));
});

test('fault hooks apply to the PIV token: a 6F00 on GENERAL AUTHENTICATE is a typed card error', async () => {
  const inner = new PivCard();
  const card = new InstrumentedCard(inner, { faults: new FaultPlan(['sw-ins=87:6F00']) });
  const s = await DriverCardSession.open(new InProcessTransport(card));
  await assert.rejects(s.authenticateAdmin(Buffer.from(FACTORY.managementKey, 'hex')), (e: unknown) => e instanceof CardError && e.code === 'CARD_INTERNAL_ERROR');
});

test('state is persisted after every change and survives a new card object', async () => {
  let saved: unknown;
  const card = new PivCard({ persist: (st) => (saved = structuredClone(st)) });
  const s = await DriverCardSession.open(new InProcessTransport(card));
  await s.authenticateAdmin(Buffer.from(FACTORY.managementKey, 'hex'));
  const k = await s.generateKey({ label: '', algorithm: 'p256', slot: 0x9d });
  const reborn = new PivCard({ state: saved as never });
  const s2 = await DriverCardSession.open(new InProcessTransport(reborn));
  assert.deepEqual(Buffer.from((await s2.listKeys())[0]!.publicKey), Buffer.from(k.publicKey));
});
