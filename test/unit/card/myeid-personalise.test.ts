/**
 * `ca card init` on a MyEID: the pure builders byte for byte against what OpenSC 0.23's pkcs15-init
 * sent and wrote (test/fixtures/myeid/onepin-init.json: --erase-card, --create-pkcs15 --profile
 * pkcs15+onepin --pin 123456 --puk 12345678 --label "Ref card", --store-pin --auth-id 01
 * --label "User PIN", --finalize, on the emulator; the APDUs quoted below are from its log), then
 * the driver on the in-process emulator: the card it leaves equals pkcs15-init's, a personalised
 * card is not erased without confirmation or with a wrong SO PIN, and bad input changes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MyeidCard } from '../../../src/card/emulator/myeid-card.js';
import { factoryMyeidState, type MyeidStateData } from '../../../src/card/emulator/myeid-state.js';
import { InProcessTransport } from '../../../src/card/transport/in-process-transport.js';
import { DriverCardSession } from '../../../src/card/card-session-impl.js';
import { encodeCommand } from '../../../src/card/apdu/command-apdu.js';
import { createFile } from '../../../src/card/drivers/myeid/myeid-commands.js';
import {
  activateApplet,
  encodeAodf,
  encodeEfDir,
  encodeOdf,
  encodeOpenscInfo,
  encodeTokenInfo,
  initialiseApplet,
  myeidOnepinLayout,
  putPinRecord,
} from '../../../src/card/drivers/myeid/myeid-personalise.js';
import { listFiles } from '../../../src/card/drivers/myeid/myeid-personalise-card.js';
import { readPkcs15Application } from '../../../src/card/pkcs15/pkcs15-reader.js';
import { fromHex, toHex } from '../../../src/common/hex.js';

const FIX = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'test', 'fixtures', 'myeid');
interface Fixture { serial: string; lifeCycle: string; files: MyeidStateData['files']; pins: MyeidStateData['pins'] }
const ref = JSON.parse(readFileSync(join(FIX, 'onepin-init.json'), 'utf8')) as Fixture;
const SERIAL = fromHex(ref.serial);
/** lastUpdate of the reference TokenInfo (20261202035555Z). */
const NOW = new Date('2026-12-02T03:55:55.480Z');
const PIN = Buffer.from('123456');
const PUK = Buffer.from('12345678');
const data = (fid: string) => fromHex(ref.files[fid]!.data!);
const apdu = (c: Parameters<typeof encodeCommand>[0]) => toHex(encodeCommand(c));

test('INITIALISE APPLET, PIN records and ACTIVATE as pkcs15-init sends them', () => {
  // The applet data gives the MF 11 3F FF and DF 5015 11 1F FF, as the reference card has them.
  assert.equal(apdu(initialiseApplet()), '00DA01E008FFFF113FFF111FFF');
  assert.equal(ref.files['3F00']!.acl, '113FFF');
  assert.equal(ref.files['3F005015']!.acl, '111FFF');
  // From pkcs15-init -vvvvvv: `00 DA 01 03 13 31 32 33 34 35 36 FF FF 31 32 33 34 35 36 37 38 03 0A 00`.
  assert.equal(apdu(putPinRecord({ reference: 3, pin: PIN, puk: PUK, tries: 3, pukTries: 10 })), '00DA010313313233343536FFFF3132333435363738030A00');
  assert.equal(apdu(putPinRecord({ reference: 1, pin: PIN, puk: PUK, tries: 3, pukTries: 10 })), '00DA010113313233343536FFFF3132333435363738030A00');
  assert.equal(apdu(activateApplet()), '004404000CA000000063504B43532D3135');
  assert.equal(apdu(listFiles()), '00CA01A100');
  assert.throws(() => putPinRecord({ reference: 1, pin: Buffer.from('123'), puk: PUK, tries: 3, pukTries: 10 }), RangeError);
  assert.throws(() => putPinRecord({ reference: 1, pin: PIN, puk: Buffer.from('123456789'), tries: 3, pukTries: 10 }), RangeError);
  assert.throws(() => putPinRecord({ reference: 1, pin: PIN, puk: PUK, tries: 15, pukTries: 10 }), RangeError);
});

test('ODF, AODF, EF.DIR, TokenInfo and the OpenSC info file equal pkcs15-init\'s bytes', () => {
  assert.equal(toHex(encodeOdf()), toHex(data('3F0050155031')));
  assert.equal(toHex(encodeAodf('User PIN')), toHex(data('3F0050154401')));
  assert.equal(toHex(encodeEfDir('Ref card')), toHex(data('3F002F00')));
  assert.equal(toHex(encodeTokenInfo({ serial: SERIAL, label: 'Ref card', now: NOW })), toHex(data('3F0050155032')));
  assert.equal(toHex(encodeOpenscInfo()), toHex(data('3F0050154946')));
  assert.throws(() => encodeEfDir('x'.repeat(105)), RangeError);
});

test('the layout: every file pkcs15-init creates, with its size and ACL, and CREATE FILE bytes from the log', () => {
  const steps = myeidOnepinLayout({ serial: SERIAL, label: 'Ref card', now: NOW });
  const files = steps.flatMap((s) => (s.kind === 'file' ? [s.file] : []));
  const path = (f: (typeof files)[number]) => (f.parent === 'mf' ? '3F00' : '3F005015') + f.fid.toString(16).toUpperCase().padStart(4, '0');
  assert.deepEqual(files.map(path).sort(), Object.keys(ref.files).filter((p) => p !== '3F00' && p !== '3F005015').sort());
  for (const f of files) {
    const r = ref.files[path(f)]!;
    assert.equal(f.size, r.size, f.name);
    assert.equal(toHex(f.acl), r.acl, f.name);
  }
  assert.deepEqual(steps.map((s) => (s.kind === 'file' ? s.file.fid.toString(16).toUpperCase() : s.kind)), [
    '4402', '5031', '4404', '4407', '4403', '4405', '4406', 'so-pin', '4401', '2F00', '5032', '4946', 'user-pin',
  ]);
  // pkcs15-init's CREATE FILE for the PrKDF, the trusted CDF, the AODF and EF.DIR (APDU log).
  const create = (fid: number) => {
    const f = files.find((x) => x.fid === fid)!;
    return apdu(createFile({ fid, descriptor: 0x01, size: f.size, acl: f.acl }));
  };
  assert.equal(create(0x4402), '00E00000196217800205FA820101830244028603013FFF850200008A0100');
  assert.equal(create(0x4405), '00E00000196217800201FE820101830244058603013FFF850200008A0100');
  assert.equal(create(0x4401), '00E00000196217800200FF820101830244018603011FFF850200008A0100');
  assert.equal(create(0x2f00), '00E000001962178002008082010183022F008603033FFF850200008A0100');
  assert.equal(create(0x5032), '00E00000196217800200B7820101830250328603033FFF850200008A0100');
});

function factoryCard(): MyeidCard {
  return new MyeidCard({ state: factoryMyeidState(new Date('2026-01-01T00:00:00Z'), SERIAL) });
}

async function session(card: MyeidCard): Promise<DriverCardSession> {
  return DriverCardSession.open(new InProcessTransport(card, { readerName: 'unit' }));
}

/** The comparable part of a card: files, PIN records, life cycle. */
function comparable(s: MyeidStateData | Fixture): Pick<Fixture, 'files' | 'pins' | 'lifeCycle'> {
  return { files: s.files, pins: s.pins, lifeCycle: s.lifeCycle };
}

const init = (s: DriverCardSession, extra: Record<string, unknown> = {}) =>
  s.initialize({ soPin: Buffer.from(PUK), userPin: Buffer.from(PIN), retries: 3, label: 'Ref card', now: NOW, ...extra });

test('ca card init on a factory-fresh MyEID leaves exactly the card pkcs15-init leaves', async () => {
  const card = factoryCard();
  const s = await session(card);
  assert.deepEqual(s.capabilities.pkcs15Personalisation, { profile: 'pkcs15+onepin', pinLength: { min: 4, max: 8 }, pukLength: { min: 4, max: 8 }, maxRetries: 14 });
  assert.equal(s.info.initialized, false);
  await init(s);
  assert.deepEqual(comparable(card.snapshot()), comparable(ref));
  await s.close();

  // The generic reader sees OpenSC's structure; the PINs work; ACLs are now enforced.
  const t = await session(card);
  assert.equal(t.info.initialized, true);
  assert.equal(t.info.label, 'Ref card');
  assert.equal(t.info.manufacturer, 'Aventra Ltd.');
  assert.deepEqual(await t.pinStatus(), { state: 'not-verified', triesLeft: 3 });
  // soPinStatus is the unblock credential (the PUK inside the user PIN's record, tries not
  // readable); the reference-3 SO PIN's tries are read off the card's state.
  assert.deepEqual(await t.soPinStatus(), { state: 'not-verified', triesLeft: undefined });
  assert.equal(card.snapshot().pins['3']!.pin.retries, 3);
  await assert.rejects(t.generateKey({ label: 'no PIN', algorithm: 'p256' }), (e: { code: string }) => e.code === 'PIN_REQUIRED');
  await t.verifyPin(PIN);
  const key = await t.generateKey({ label: 'CA key', algorithm: 'p256' });
  assert.equal(key.algorithm, 'p256');
  assert.equal((await t.listKeys()).length, 1);
  await t.close();
});

test('--retries sets the user PIN tries only; the SO PIN keeps the profile\'s 3', async () => {
  const card = factoryCard();
  const s = await session(card);
  await init(s, { retries: 5 });
  const snap = card.snapshot();
  assert.equal(snap.pins['1']!.pin.maxRetries, 5);
  assert.equal(snap.pins['3']!.pin.maxRetries, 3);
  assert.equal(snap.pins['1']!.puk.maxRetries, 10);
  await s.close();
});

test('a personalised MyEID: no erase without confirmation, none without or with a wrong SO PIN; the right one re-personalises', async () => {
  const card = factoryCard();
  const s0 = await session(card);
  await init(s0);
  await s0.verifyPin(PIN);
  await s0.generateKey({ label: 'keep me', algorithm: 'p256' });
  await s0.close();
  const before = card.snapshot();
  const unchanged = () => assert.deepEqual(comparable(card.snapshot()).files, before.files);

  const s = await session(card);
  await assert.rejects(init(s), (e: { code: string }) => e.code === 'CARD_ALREADY_PERSONALISED');
  unchanged();
  await assert.rejects(init(s, { eraseExisting: true }), (e: { code: string }) => e.code === 'SO_PIN_REQUIRED');
  unchanged();
  await assert.rejects(init(s, { eraseExisting: true, currentSoPin: Buffer.from('000000') }), (e: { code: string; triesLeft?: number }) => e.code === 'SO_PIN_INCORRECT' && e.triesLeft === 2);
  unchanged();
  assert.equal(card.snapshot().pins['3']!.pin.retries, 2);
  // Bad new input costs nothing: no VERIFY, no erase.
  await assert.rejects(init(s, { eraseExisting: true, currentSoPin: Buffer.from(PIN), userPin: Buffer.from('123') }), (e: { code: string }) => e.code === 'PIN_LENGTH');
  await assert.rejects(init(s, { eraseExisting: true, currentSoPin: Buffer.from(PIN), soPin: Buffer.from('123456789') }), (e: { code: string }) => e.code === 'PIN_LENGTH');
  await assert.rejects(init(s, { eraseExisting: true, currentSoPin: Buffer.from(PIN), retries: 15 }), (e: { code: string }) => e.code === 'CARD_INIT_BAD_RETRIES');
  await assert.rejects(init(s, { eraseExisting: true, currentSoPin: Buffer.from(PIN), label: 'é'.repeat(60) }), (e: { code: string }) => e.code === 'CARD_INIT_LABEL_TOO_LONG');
  unchanged();
  assert.equal(card.snapshot().pins['3']!.pin.retries, 2);

  await init(s, { eraseExisting: true, currentSoPin: Buffer.from(PIN), label: 'Second life', userPin: Buffer.from('654321'), soPin: Buffer.from('87654321') });
  await s.close();
  const t = await session(card);
  assert.equal(t.info.label, 'Second life');
  assert.deepEqual(await t.listKeys(), []);
  await t.verifyPin(Buffer.from('654321'));
  await t.close();
});

test('a card in creation state with content (an interrupted init) is erased without a PIN once confirmed', async () => {
  const card = factoryCard();
  const s = await session(card);
  // pkcs15-init --create-pkcs15 without --finalize: the card keeps its creation state.
  const state = card.snapshot();
  state.files = structuredClone(ref.files);
  state.pins = structuredClone(ref.pins);
  state.lifeCycle = 'creation';
  const half = new MyeidCard({ state });
  const h = await session(half);
  await assert.rejects(init(h), (e: { code: string }) => e.code === 'CARD_ALREADY_PERSONALISED');
  await init(h, { eraseExisting: true, label: 'Ref card' });
  assert.deepEqual(comparable(half.snapshot()), comparable(ref));
  await h.close();
  await s.close();
});

test('the generic PKCS#15 reader reads the personalised card: both PINs, the xDFs, no problems', async () => {
  const card = factoryCard();
  const s = await session(card);
  await init(s);
  await s.close();
  const files = card.snapshot().files;
  const app = await readPkcs15Application({
    readEf: async (path) => {
      const f = files[toHex(path)];
      return f?.type === 'ef' ? fromHex(f.data ?? '') : undefined;
    },
  });
  assert.deepEqual(app.problems.map((p) => p.message), []);
  assert.deepEqual(app.pins.map((p) => [p.label, toHex(p.authId), p.reference, p.so]), [
    ['Security Officer PIN', 'FF', 3, true],
    ['User PIN', '01', 1, false],
  ]);
  assert.deepEqual(app.directories.map((d) => d.kind).sort(), ['aodf', 'cdf', 'dodf', 'prkdf', 'pukdf', 'skdf', 'trustedCdf'].sort());
});
