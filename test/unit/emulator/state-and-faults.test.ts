import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, verify } from 'node:crypto';
import { ScHsmCard } from '../../../src/card/emulator/sc-hsm-card.js';
import { loadStateFile, saveStateFile } from '../../../src/card/emulator/state-file.js';
import { TEST_CARD_WARNING } from '../../../src/card/emulator/card-state.js';
import { FaultPlan, parseFaultSpec } from '../../../src/card/emulator/fault-plan.js';
import { InstrumentedCard } from '../../../src/card/emulator/instrumented-card.js';
import { ApduLog, redactedCommandHex } from '../../../src/card/emulator/apdu-log.js';
import { InProcessTransport } from '../../../src/card/transport/in-process-transport.js';
import { CardcaError } from '../../../src/common/cardca-error.js';
import { tlv } from '../../../src/card/emulator/tlv.js';
import { AID, apdu, expectSw, gakpEc, hex, initData, publicKeyFromRequest, tx, USER_PIN } from './card-helpers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'emu-unit-'));

test('state file: missing = factory-fresh; first field is the TEST CARD warning; round trip keeps keys, PINs, counters', async () => {
  const dir = tmp();
  const path = join(dir, 'card.json');
  const { state, created } = loadStateFile(path);
  assert.equal(created, true);
  assert.match(state.serial, /^DETEST\d{5}$/);
  const card = new ScHsmCard({ state, persist: (s) => saveStateFile(path, s) });
  card.powerOn();
  await expectSw(card, apdu(0x80, 0x50, 0, 0, initData()), '9000');
  await expectSw(card, `00A4040C0B${AID}`, '9000');
  await tx(card, apdu(0, 0x20, 0, 0x81, Buffer.from('000000')));
  await expectSw(card, apdu(0, 0x20, 0, 0x81, USER_PIN), '9000');
  const req = await expectSw(card, apdu(0, 0x46, 1, 0, gakpEc('P-256'), 65536), '9000');
  const h = createHash('sha256').update('x').digest();
  await expectSw(card, apdu(0x80, 0x68, 1, 0x70, h, 65536), '9000');
  await tx(card, apdu(0, 0x20, 0, 0x81, Buffer.from('000000')));

  const text = readFileSync(path, 'utf8');
  assert.equal(Object.keys(JSON.parse(text))[0], '_warning');
  assert.equal(JSON.parse(text)._warning, TEST_CARD_WARNING);
  assert.ok(!text.includes('648219'), 'no plain PIN in the state file');
  assert.deepEqual(readdirSync(dir), ['card.json'], 'no temp file left behind');

  const again = loadStateFile(path);
  assert.equal(again.created, false);
  const card2 = new ScHsmCard({ state: again.state });
  card2.powerOn();
  assert.equal(card2.serial, card.serial);
  assert.equal(card2.signatureCount, 1);
  assert.equal(card2.keySignatureCount(1), 1);
  assert.equal((await tx(card2, '00200081')).sw, '63C2');
  await expectSw(card2, apdu(0, 0x20, 0, 0x81, USER_PIN), '9000');
  const sig = await expectSw(card2, apdu(0x80, 0x68, 1, 0x70, h, 65536), '9000');
  assert.ok(verify('sha256', Buffer.from('x'), publicKeyFromRequest(req), sig));
});

test('state file: a signature saves its counters atomically without fsync; keys, PINs and a use-limited key\'s counter are saved durably', async () => {
  const dir = tmp();
  const path = join(dir, 'card.json');
  const saves: { durable: boolean; signatures: number }[] = [];
  const card = new ScHsmCard({
    state: loadStateFile(path).state,
    persist: (s, o) => {
      saves.push({ durable: o?.durable ?? true, signatures: s.signatureCount });
      saveStateFile(path, s, o);
    },
  });
  card.powerOn();
  const durableAfter = async (cmd: Uint8Array | string, sw: string): Promise<Uint8Array> => {
    const from = saves.length;
    const out = await expectSw(card, cmd, sw);
    assert.ok(saves.length > from && saves.slice(from).every((x) => x.durable), `durable saves after ${typeof cmd === 'string' ? cmd : Buffer.from(cmd).toString('hex').slice(0, 8)}`);
    return out;
  };
  await durableAfter(apdu(0x80, 0x50, 0, 0, initData()), '9000');
  await expectSw(card, `00A4040C0B${AID}`, '9000');
  await durableAfter(apdu(0, 0x20, 0, 0x81, Buffer.from('000000')), '63C2');
  await durableAfter(apdu(0, 0x20, 0, 0x81, USER_PIN), '9000');
  await durableAfter(apdu(0, 0x46, 1, 0, gakpEc('P-256'), 65536), '9000');
  const limited = new Uint8Array(Buffer.concat([gakpEc('P-256'), tlv(0x90, Uint8Array.of(0, 0, 0, 5))]));
  await durableAfter(apdu(0, 0x46, 2, 0, limited, 65536), '9000');
  const h = createHash('sha256').update('x').digest();
  const from = saves.length;
  await expectSw(card, apdu(0x80, 0x68, 1, 0x70, h, 65536), '9000');
  assert.deepEqual(saves.slice(from), [{ durable: false, signatures: 1 }], 'a plain signature: one save, not durable');
  await durableAfter(apdu(0x80, 0x68, 2, 0x70, h, 65536), '9000');
  // Not durable is still a whole, atomic file: what a killed emulator leaves is the new state.
  assert.deepEqual(readdirSync(dir), ['card.json'], 'no temp file left behind');
  const back = new ScHsmCard({ state: loadStateFile(path).state });
  assert.equal(back.signatureCount, 2);
  assert.equal(back.keySignatureCount(1), 1);
});

test('state file: a non-state JSON file is refused with EMULATOR_STATE_INVALID', () => {
  const path = join(tmp(), 'bad.json');
  writeFileSync(path, '{"hello": 1}');
  assert.throws(() => loadStateFile(path), (e: unknown) => e instanceof CardcaError && e.code === 'EMULATOR_STATE_INVALID');
});

test('two factory-fresh cards get different serials', () => {
  const a = new ScHsmCard();
  const b = new ScHsmCard();
  assert.notEqual(a.serial, b.serial);
});

test('fault specs parse; bad specs are refused', () => {
  assert.deepEqual(parseFaultSpec('remove-after=3'), { kind: 'remove-after', seq: 3 });
  assert.deepEqual(parseFaultSpec('sw=2:6F00'), { kind: 'sw', seq: 2, sw: 0x6f00 });
  assert.deepEqual(parseFaultSpec('sw-ins=68:6581'), { kind: 'sw-ins', ins: 0x68, sw: 0x6581 });
  assert.deepEqual(parseFaultSpec('delay=1:50'), { kind: 'delay', seq: 1, ms: 50 });
  assert.deepEqual(parseFaultSpec('power-off-after=4'), { kind: 'power-off-after', seq: 4 });
  for (const bad of ['remove-after=0', 'sw=1:6F', 'explode=1', 'sw-ins=6:6F00', 'delay=1']) assert.throws(() => parseFaultSpec(bad), bad);
});

test('instrumented card: SW faults by sequence and by INS, APDU log with PINs redacted', async () => {
  const dir = tmp();
  const logPath = join(dir, 'apdu.jsonl');
  const inner = new ScHsmCard();
  const card = new InstrumentedCard(inner, { faults: new FaultPlan(['sw=2:6F00', 'sw-ins=84:6581']), apduLog: new ApduLog(logPath) });
  card.powerOn();
  assert.deepEqual([...(await card.process(hex(`00A4040C0B${AID}`)))], [0x90, 0x00]);
  assert.deepEqual([...(await card.process(hex(`00A4040C0B${AID}`)))], [0x6f, 0x00]);
  assert.deepEqual([...(await card.process(hex('0084000008')))], [0x65, 0x81]);
  assert.deepEqual([...(await card.process(apdu(0x80, 0x50, 0, 0, initData())))], [0x90, 0x00]);
  assert.deepEqual([...(await card.process(apdu(0, 0x20, 0, 0x81, USER_PIN)))], [0x90, 0x00]);
  assert.deepEqual([...(await card.process(hex('00200081')))], [0x90, 0x00]);
  assert.equal(card.apduCount, 6);
  const lines = readFileSync(logPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.seq), [1, 2, 3, 4, 5, 6]);
  assert.equal(lines[3].command, '80500000<redacted>');
  assert.equal(lines[4].command, '00200081<redacted>');
  assert.equal(lines[5].command, '00200081');
  assert.equal(lines[1].response, '6F00');
  assert.ok(!readFileSync(logPath, 'utf8').includes(Buffer.from(USER_PIN).toString('hex').toUpperCase()));
  assert.equal(redactedCommandHex(apdu(0, 0x24, 0, 0x81, Buffer.from('12345678'))), '00240081<redacted>');
  assert.equal(redactedCommandHex(apdu(0, 0x2c, 1, 0x81, Buffer.from('12345678'))), '002C0181<redacted>');
});

test('in-process transport: power-off fault → next transmit reports CARD_RESET once, login state is gone', async () => {
  const inner = new ScHsmCard();
  const card = new InstrumentedCard(inner, { faults: new FaultPlan(['power-off-after=3']) });
  const t = new InProcessTransport(card);
  const send = async (h: string | Uint8Array) => Buffer.from(await t.transmit(typeof h === 'string' ? hex(h) : h)).toString('hex').toUpperCase();
  assert.equal(await send(apdu(0x80, 0x50, 0, 0, initData())), '9000');
  assert.equal(await send(`00A4040C0B${AID}`), '9000');
  assert.equal(await send(apdu(0, 0x20, 0, 0x81, USER_PIN)), '9000');
  await assert.rejects(send('00200081'), (e: unknown) => e instanceof CardcaError && e.code === 'CARD_RESET');
  assert.equal(await send('00200081'), '63C3');
  await t.close();
  await assert.rejects(send('00200081'), (e: unknown) => e instanceof CardcaError && e.code === 'CARD_CLOSED');
});

test('in-process transport: exclusive() serialises whole operations; transmit timeout honoured', async () => {
  const inner = new ScHsmCard();
  const card = new InstrumentedCard(inner, { faults: new FaultPlan(['delay=1:200']) });
  const t = new InProcessTransport(card);
  await assert.rejects(t.transmit(hex('0084000008'), { timeoutMs: 20 }), (e: unknown) => e instanceof CardcaError && e.code === 'CARD_TIMEOUT');
  const order: string[] = [];
  const op = (name: string) =>
    t.exclusive(async () => {
      order.push(`${name}:start`);
      await t.transmit(hex('0084000008'));
      await t.exclusive(async () => t.transmit(hex('0084000008'))); // re-entrant
      order.push(`${name}:end`);
    });
  await Promise.all([op('a'), op('b'), op('c')]);
  assert.deepEqual(order, ['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
  assert.equal(t.readerName, 'in-process:InstrumentedCard');
  assert.equal(t.atr()[0], 0x3b);
});
