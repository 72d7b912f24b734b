/**
 * Faults through the real PC/SC stack (reader "Virtual PCD 2 00 01", port 35966): card removed
 * mid-operation, a card error status, a card that does not answer in time. Each must end in a
 * typed error that says what happened (and whether the command may have reached the card),
 * never in a hang.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';
import { PcscCardService } from '../../src/card/pcsc-card-service.js';
import { CardcaError } from '../../src/common/cardca-error.js';

const PORT = 35966;
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = join(REPO, 'dist', 'src', 'cli', 'bin.js');
const dir = mkdtempSync(join(tmpdir(), 'cardca-card-faults-'));
const running: EmulatorProcess[] = [];

function ca(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      res({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function start(opts: { stateFile?: string; faults?: string[] } = {}): Promise<EmulatorProcess> {
  const e = await startEmulator({ port: PORT, ...(opts.stateFile ? { stateFile: opts.stateFile } : {}), ...(opts.faults ? { faults: opts.faults } : {}) });
  running.push(e);
  return e;
}

async function stop(e: EmulatorProcess): Promise<void> {
  const i = running.indexOf(e);
  if (i < 0) return;
  running.splice(i, 1);
  await e.stop();
}

/** Run `fn` with an emulator and always stop it, so a failed test does not block the port. */
async function withEmu(opts: { stateFile?: string; faults?: string[] }, fn: (e: EmulatorProcess) => Promise<void>): Promise<void> {
  const e = await start(opts);
  try {
    await fn(e);
  } finally {
    await stop(e);
  }
}

after(async () => {
  for (const e of running) await e.stop();
});

test('card removed in the middle of a command: CARD_REMOVED, exit code 3, no hang', async () => {
  await withEmu({ faults: ['remove-after=3'] }, async (emu) => {
    const r = await ca('card', 'status', '--reader', emu.readerName);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /CARD_REMOVED|CARD_NOT_PRESENT|READER_GONE/);
    assert.match(r.stderr, /may have reached the card|Insert the card/);
  });
});

test('card reset (power lost) in the middle of a command: typed error, no hang', async () => {
  await withEmu({ faults: ['power-off-after=2'] }, async (emu) => {
    const r = await ca('card', 'list', '--reader', emu.readerName, '--json');
    // list reports an unusable card instead of failing as a whole; the reason is the typed error.
    const out = JSON.parse(r.stdout || '[]') as Array<{ error?: string }>;
    const msg = r.code === 0 ? String(out[0]?.error) : r.stderr;
    // Through vpcd a card-side power loss is invisible to pcscd: the unpowered emulator answers 6F00.
    assert.match(msg, /reset|removed|no answer|not respond|6F00/i);
  });
});

test('a card error on SIGN is a typed StatusWordError naming the SW', async () => {
  const setup = await start();
  const pin = join(dir, 'pin');
  const so = join(dir, 'so');
  writeFileSync(pin, '648219\n');
  writeFileSync(so, '3537363231383830\n');
  assert.equal((await ca('card', 'init', '--reader', setup.readerName, '--label', 'F', '--so-pin-file', so, '--pin-file', pin)).code, 0);
  const kg = await ca('card', 'keygen', '--reader', setup.readerName, '--label', 'k', '--alg', 'p256', '--pin-file', pin, '--json');
  assert.equal(kg.code, 0, kg.stderr);
  const keyId = (JSON.parse(kg.stdout) as { id: string }).id;
  await stop(setup);

  const emu = await start({ stateFile: setup.stateFile, faults: ['sw-ins=68:6581'] });
  const service = new PcscCardService();
  try {
    const s = await service.open({ reader: emu.readerName });
    try {
      await s.verifyPin(Buffer.from('648219'));
      const signer = await s.signer(keyId);
      await assert.rejects(signer.sign(Buffer.from('tbs'), 'ecdsa-sha256'), (e: unknown) => {
        assert.ok(e instanceof CardcaError);
        assert.equal(e.code, 'CARD_MEMORY_FAILURE');
        assert.match(e.message, /6581/);
        return true;
      });
    } finally {
      await s.close();
    }
  } finally {
    await service.close();
  }
  await stop(emu);
});

test('a card that does not answer in time: CARD_TIMEOUT saying the APDU may have reached the card', async () => {
  await withEmu({ faults: ['delay=1:3000'] }, async (emu) => {
    const service = new PcscCardService({ timeoutMs: 500 });
    try {
      await assert.rejects(service.open({ reader: emu.readerName }), (e: unknown) => {
        assert.ok(e instanceof CardcaError);
        assert.equal(e.code, 'CARD_TIMEOUT');
        assert.match(e.message, /may have reached the card/);
        return true;
      });
    } finally {
      await service.close();
    }
  });
});

test('PcscContext watches insertion and removal of the card', async () => {
  const { PcscContext } = await import('../../src/card/transport/pcsc-context.js');
  const ctx = PcscContext.open();
  try {
    const reader = 'Virtual PCD 2 00 01';
    assert.equal(await ctx.waitForRemoval(reader, 5000), true, 'reader starts empty');
    const emu = await start();
    try {
      assert.equal(await ctx.waitForCard(reader, 10_000), true, 'insertion seen');
      const state = (await ctx.listReaders()).find((r) => r.name === reader);
      assert.equal(state?.cardPresent, true);
      assert.ok(state?.atr && state.atr.length > 0);
    } finally {
      await stop(emu);
    }
    assert.equal(await ctx.waitForRemoval(reader, 10_000), true, 'removal seen');
  } finally {
    await ctx.close();
  }
});
