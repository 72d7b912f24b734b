/**
 * A command that knows its reader asks pcscd for that reader only (issue #14 item 1,
 * docs/benchmarks.md "One `ca sign`, third pass"). pcsclite's JavaScript scans every reader —
 * one PC/SC context for the listing and one per reader for its status thread — so opening the
 * card in one named reader of the 8-reader rig held 10 connections to pcscd (and made 9 more at
 * close). Counted here as the sockets this process holds while the session is open: one status
 * context for the named reader (its presence and ATR) and one card context, at most.
 *
 * Also what did not change: an unknown reader, an empty reader and a card that is there answer
 * as before, both through `PcscCardService.open` and through the CLI's `CardSlot` (`--reader`).
 */
import { after, before, test } from 'node:test';
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { READER_BY_PORT, startEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';
import { BIN, expectOk, runCommand } from '../helpers/run-command.js';
import { TEST_PIN, TEST_SO_PIN } from '../helpers/two-card-home.js';
import { PcscCardService } from '../../src/card/pcsc-card-service.js';
import { CardSlot } from '../../src/cli/ca-context.js';
import type { CliContext } from '../../src/cli/context.js';
import { CardcaError } from '../../src/common/cardca-error.js';

const PORT = 35969;
/** A rig reader with no emulator behind it in this file. */
const EMPTY_READER = READER_BY_PORT[35970]!;
let emu: EmulatorProcess;
let pinFile: string;

function cliContext(): CliContext {
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean };
  stdin.isTTY = false;
  return { stdout: new PassThrough(), stderr: new PassThrough(), stdin, env: {}, cwd: process.cwd(), now: () => new Date() };
}

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardca-pcsc-contexts-'));
  pinFile = join(dir, 'user.pin');
  const so = join(dir, 'so.pin');
  writeFileSync(pinFile, `${TEST_PIN}\n`, { mode: 0o600 });
  writeFileSync(so, `${TEST_SO_PIN}\n`, { mode: 0o600 });
  emu = await startEmulator({ port: PORT });
  expectOk(await runCommand(process.execPath, [BIN, 'card', 'init', '--reader', emu.readerName, '--label', 'contexts', '--so-pin-file', so, '--pin-file', pinFile]), 'card init');
});

after(async () => {
  await emu?.stop();
});

/**
 * Connections to pcscd the child process holds with the card open, counted in a fresh process
 * each time: a closed context's socket goes only when its reader object is garbage-collected
 * (pcsclite's destructor), so in one process an earlier test's sockets could vanish mid-count.
 */
async function heldWithCardOpen(via: 'service' | 'slot'): Promise<{ held: number; serial: string }> {
  const src = new URL('../../src/', import.meta.url).href;
  const code = `
    import { readdirSync, readlinkSync } from 'node:fs';
    import { PassThrough } from 'node:stream';
    const { PcscCardService } = await import('${src}card/pcsc-card-service.js');
    const { CardSlot } = await import('${src}cli/ca-context.js');
    const sockets = () => readdirSync('/proc/self/fd').filter((fd) => { try { return readlinkSync('/proc/self/fd/' + fd).startsWith('socket:'); } catch { return false; } }).length;
    const reader = process.argv[1], serial = process.argv[2], pinFile = process.argv[3];
    const service = new PcscCardService();
    const base = sockets();
    let s, slot;
    if (process.argv[4] === 'service') s = await service.open({ reader });
    else {
      const stdin = new PassThrough(); stdin.isTTY = false;
      const ctx = { stdout: new PassThrough(), stderr: new PassThrough(), stdin, env: {}, cwd: process.cwd(), now: () => new Date() };
      slot = new CardSlot(ctx, service, 'signing card of test', serial, { reader, pinFile });
      s = await slot.get();
    }
    if (process.argv[4] === 'service') await s.pinStatus(); // the slot's APDUs are counted: none of our own
    const held = sockets() - base;
    console.log(JSON.stringify({ held, serial: s.info.serial }));
    if (slot) await slot.release(); else await s.close();
    await service.close();
  `;
  const r = await runCommand(process.execPath, ['--input-type=module', '-e', code, emu.readerName, emu.serial, pinFile, via]);
  expectOk(r, `child (${via})`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { held: number; serial: string };
}

test('opening the card in a named reader holds at most 2 connections to pcscd (the scan of 8 readers held 10)', async () => {
  const r = await heldWithCardOpen('service');
  assert.equal(r.serial, emu.serial);
  assert.ok(r.held >= 1 && r.held <= 2, `connections to pcscd while the session is open: ${r.held}`);
});

/** The emulator's APDU log (one JSON line per APDU, PINs redacted). */
const apduLog = (): { command: string }[] =>
  readFileSync(emu.apduLogFile, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { command: string });

test('CardSlot with --reader: the card is found, PIN verified, with at most 2 connections to pcscd and 2 PIN status queries', async () => {
  const before = apduLog().length;
  const r = await heldWithCardOpen('slot');
  assert.equal(r.serial, emu.serial);
  assert.ok(r.held >= 1 && r.held <= 2, `connections to pcscd with the card open: ${r.held}`);
  // VERIFY without data (SmartCard-HSM user PIN, 81): one when the session opens (is the card
  // initialised?), one for the tries left before the PIN is sent; CardSlot asked a third time.
  const statusQueries = apduLog().slice(before).filter((a) => a.command === '00200081').length;
  assert.equal(statusQueries, 2, 'PIN status queries while opening and verifying');
});

test('a reader that is not there, and an empty reader, answer as before', async () => {
  const code = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
      return 'no error';
    } catch (e) {
      assert.ok(e instanceof CardcaError, String(e));
      return e.code;
    }
  };
  for (const [reader, direct] of [['No Such Reader 99', 'READER_NOT_FOUND'], [EMPTY_READER, 'CARD_NOT_PRESENT']] as const) {
    const service = new PcscCardService();
    try {
      assert.equal(await code(service.open({ reader })), direct, reader);
    } finally {
      await service.close();
    }
    const service2 = new PcscCardService();
    try {
      const slot = new CardSlot(cliContext(), service2, 'signing card of test', emu.serial, { reader, pinFile });
      assert.equal(await code(slot.get()), 'CARD_NOT_FOUND', `CardSlot, ${reader}`);
    } finally {
      await service2.close();
    }
  }
  // The scan still works in the same process (`ca card list`): the card is there, the empty reader is empty.
  const service = new PcscCardService();
  try {
    const readers = await service.readers();
    assert.equal(readers.find((r) => r.name === emu.readerName)?.cardPresent, true);
    assert.equal(readers.find((r) => r.name === EMPTY_READER)?.cardPresent, false);
    const s = await service.open({ reader: emu.readerName });
    assert.equal(s.info.serial, emu.serial);
    await s.close();
  } finally {
    await service.close();
  }
});

/**
 * One process, many sessions (as a ceremony or a test run makes): every session opens the card,
 * pcscd is left with no contexts of ours, and the process exits by itself. Before the fix each
 * connection made a new reader object whose card context pcscd kept until a garbage collection
 * (pcsc-native.ts `cardReaderFor`): the sockets grew by one per session, pcscd's limit of 200
 * contexts was reached, and then a status thread's stop could not be cancelled and its join hung
 * the process (CI's hung test file). Also the stops themselves: a status thread stopped while it
 * was not waiting in pcscd either hung the join or left its handle open, so the process never
 * exited (status-thread-stop.ts).
 */
test('250 sessions in one process: each opens the card, no pcscd context is left over, the process exits', async () => {
  const src = new URL('../../src/', import.meta.url).href;
  const code = `
    import { readdirSync, readlinkSync } from 'node:fs';
    const { PcscCardService } = await import('${src}card/pcsc-card-service.js');
    const sockets = () => readdirSync('/proc/self/fd').filter((fd) => { try { return readlinkSync('/proc/self/fd/' + fd).startsWith('socket:'); } catch { return false; } }).length;
    const reader = process.argv[1];
    const base = sockets();
    let opened = 0, maxHeld = 0;
    for (let i = 0; i < 250; i++) {
      const service = new PcscCardService();
      const s = await service.open({ reader });
      await s.pinStatus();
      await s.close();
      await service.close();
      opened++;
      maxHeld = Math.max(maxHeld, sockets() - base);
    }
    console.log(JSON.stringify({ opened, maxHeld, left: sockets() - base }));
  `;
  const r = await runCommand(process.execPath, ['--input-type=module', '-e', code, emu.readerName], { timeoutMs: 240_000 });
  expectOk(r, 'child with 250 sessions');
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { opened: number; maxHeld: number; left: number };
  assert.equal(out.opened, 250);
  // The process's one card context for the reader stays (reused by the next session).
  assert.ok(out.left <= 1, `sockets to pcscd after the last session: ${out.left}`);
  assert.ok(out.maxHeld <= 2, `most sockets to pcscd between sessions: ${out.maxHeld}`);
});

/** pcscd of this rig (scripts/rig.sh writes its PID; a rig lane has its own CARDCA_RIG_DIR). */
function rigPcscdPid(): number {
  const pid = Number(readFileSync(join(process.env['CARDCA_RIG_DIR'] ?? '/tmp/cardca-rig', 'pcscd.pid'), 'utf8').replace(/[^0-9]/g, ''));
  assert.equal(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'pcscd', `PID ${pid} is the rig's pcscd`);
  return pid;
}

/**
 * status-thread-probe.ts on a real status thread: after its first status it sits in pcsc-lite's
 * cancellable wait; once stopped its task is gone. (Where the thread is on its way, the stop
 * waits: the next test.)
 */
test("a reader's status thread: in its cancellable wait after the first status, ended once stopped", { skip: process.platform !== 'linux' }, async () => {
  const src = new URL('../../src/', import.meta.url).href;
  const code = `
    const { pcscNative } = await import('${src}card/transport/pcsc-native.js');
    const { statusThreadPlace, threadStartedBy } = await import('${src}card/transport/status-thread-probe.js');
    const { stopStatusThread } = await import('${src}card/transport/status-thread-stop.js');
    const reader = new (pcscNative().CardReader)(process.argv[1]);
    let first;
    const seen = new Promise((resolve) => { first = resolve; });
    const { tid } = threadStartedBy(() => reader.get_status((err, state) => first(err ? String(err) : state)));
    const state = await seen;
    const places = [];
    for (let i = 0; i < 200 && places.at(-1) !== 'cancellable'; i++) { places.push(statusThreadPlace(tid)); await new Promise((r) => setTimeout(r, 5)); }
    await stopStatusThread(reader, Date.now(), { tid, settleMs: 60_000 });
    console.log(JSON.stringify({ tid, state, places: [...new Set(places)], after: statusThreadPlace(tid) }));
  `;
  const r = await runCommand(process.execPath, ['--input-type=module', '-e', code, emu.readerName], { timeoutMs: 30_000 });
  expectOk(r, 'child with one status thread');
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { tid: string | null; state: number | string; places: string[]; after: string };
  assert.match(String(out.tid), /^[0-9]+$/, 'the thread get_status started is named');
  assert.equal(typeof out.state, 'number', `first status: ${out.state}`);
  assert.equal(out.places.at(-1), 'cancellable', `places seen: ${out.places.join(', ')}`);
  assert.equal(out.after, 'ended', 'stopped without waiting the 60 s settle, and gone');
});

/**
 * A status thread that pcscd has not answered yet is on its way to its wait: stopping it then
 * would block the event loop in the addon's join (or, later in its round, lose the cancel and
 * hang for good). The stop waits, with the loop free, and stops it once pcscd answers and it
 * waits. pcscd is held with SIGSTOP for a second; the old stop (a settle, then `close()`) blocked
 * the event loop until pcscd answered, so the child could not resume it: the watchdog did, after
 * 4 s, and the test failed on the blocked loop.
 */
test('while pcscd does not answer, stopping a status thread waits with the event loop free; it is stopped once it waits', { skip: process.platform !== 'linux' }, async () => {
  const pcscd = rigPcscdPid();
  const src = new URL('../../src/', import.meta.url).href;
  const code = `
    const { pcscNative } = await import('${src}card/transport/pcsc-native.js');
    const { statusThreadPlace, threadStartedBy } = await import('${src}card/transport/status-thread-probe.js');
    const { stopStatusThread } = await import('${src}card/transport/status-thread-stop.js');
    const pcscd = Number(process.argv[2]);
    const native = pcscNative();
    process.kill(pcscd, 'SIGSTOP');
    let resumed = false;
    const resume = () => { if (!resumed) { resumed = true; process.kill(pcscd, 'SIGCONT'); } };
    process.on('exit', resume);
    try {
      const reader = new native.CardReader(process.argv[1]);
      const { tid } = threadStartedBy(() => reader.get_status(() => {}));
      await new Promise((r) => setTimeout(r, 50));
      const placeWhileStopped = statusThreadPlace(tid);
      let closedAt;
      const t0 = Date.now();
      const stopping = stopStatusThread({ close: () => { closedAt = Date.now() - t0; reader.close(); } }, 0, { tid });
      const callMs = Date.now() - t0;
      let last = Date.now(), maxGap = 0;
      const tick = setInterval(() => { const n = Date.now(); maxGap = Math.max(maxGap, n - last); last = n; }, 10);
      await new Promise((r) => setTimeout(r, 1000));
      const closedWhileStopped = closedAt !== undefined;
      resume();
      const resumedAt = Date.now() - t0;
      await stopping;
      clearInterval(tick);
      console.log(JSON.stringify({ placeWhileStopped, closedWhileStopped, callMs, maxGap, resumedAt, closedAt, after: statusThreadPlace(tid) }));
    } finally { resume(); }
  `;
  // Resumes pcscd whatever happens to the child's event loop (or to ours: a reader object that
  // is garbage-collected here releases its context synchronously, and waits for pcscd too).
  // One process (a shell would leave its `sleep` behind when killed).
  const watchdog = spawn(process.execPath, ['-e', `setTimeout(() => { try { process.kill(${pcscd}, 'SIGCONT'); } catch {} }, 4000)`], { stdio: 'ignore' });
  try {
    const r = await runCommand(process.execPath, ['--input-type=module', '-e', code, emu.readerName, String(pcscd)], { timeoutMs: 60_000 });
    expectOk(r, 'child stopping a status thread while pcscd is held');
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { placeWhileStopped: string; closedWhileStopped: boolean; callMs: number; maxGap: number; resumedAt: number; closedAt: number; after: string };
    assert.equal(out.placeWhileStopped, 'busy', 'a thread waiting for pcscd to answer is not in its cancellable wait');
    assert.equal(out.closedWhileStopped, false, 'not stopped while pcscd was held');
    assert.ok(out.callMs < 600 && out.maxGap < 600, `the event loop was blocked while pcscd was held: ${out.callMs} ms in the call, ${out.maxGap} ms between ticks`);
    assert.ok(out.closedAt >= out.resumedAt, `stopped at ${out.closedAt} ms, pcscd resumed at ${out.resumedAt} ms`);
    assert.equal(out.after, 'ended');
  } finally {
    process.kill(pcscd, 'SIGCONT');
    watchdog.kill();
  }
});
