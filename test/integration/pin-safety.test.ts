/**
 * PIN safety through the real TTY path (ca-invariants.md §4.1): a canary user PIN and SO-PIN are
 * typed with tmux send-keys at the CLI's no-echo prompts (`ca card init`, `ca ceremony root`,
 * `ca crl`, `ca card keygen --trace-apdu`), against an emulated SmartCard-HSM on vpcd port 35969
 * ("Virtual PCD 4 00 00"). Checked: tries left are shown before any VERIFY with data, nothing
 * typed is echoed, `/proc/PID/cmdline` and `/proc/PID/environ` of the waiting `ca` process hold
 * no canary, and afterwards no artefact does (CA home incl. the SQLite WAL, transcripts, exports,
 * terminal output incl. `--trace-apdu`, the emulator's APDU log and stderr). The emulator's state
 * file holds PIN hashes: it is the card, not a CA artefact, and is not scanned.
 * Also the last-try rule (§4.1 / pin-input.ts): with one try left anything but the typed
 * confirmation aborts without a VERIFY carrying data.
 */
import { filesUnder } from '../helpers/files-under.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';
import { factoryFreshState, pinRecord } from '../../src/card/emulator/card-state.js';
import { saveStateFile } from '../../src/card/emulator/state-file.js';
import { lockRigPorts, TmuxDriver, type TmuxPane } from '../helpers/tty.js';

const PORT = 35969;
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = join(REPO, 'dist', 'src', 'cli', 'bin.js');

/** Canaries: long and random-looking enough that a hit cannot be a coincidence. */
const USER_PIN = 'Zq8CanaryPn3';
const SO_PIN = '7E3C9A1F5D2B8406';

/** Every encoding in which a PIN could plausibly leak into a file or a stream. */
function needles(): Array<{ what: string; bytes: Buffer }> {
  const user = Buffer.from(USER_PIN, 'latin1');
  const soRaw = Buffer.from(SO_PIN, 'hex');
  return [
    { what: 'user PIN (text)', bytes: user },
    { what: 'user PIN (hex)', bytes: Buffer.from(user.toString('hex')) },
    { what: 'user PIN (HEX)', bytes: Buffer.from(user.toString('hex').toUpperCase()) },
    { what: 'user PIN (base64)', bytes: Buffer.from(user.toString('base64').replace(/=+$/, '')) },
    { what: 'user PIN (UTF-16LE)', bytes: Buffer.from(USER_PIN, 'utf16le') },
    { what: 'SO-PIN (text)', bytes: Buffer.from(SO_PIN) },
    { what: 'SO-PIN (text, lower case)', bytes: Buffer.from(SO_PIN.toLowerCase()) },
    { what: 'SO-PIN (8 raw bytes)', bytes: soRaw },
    { what: 'SO-PIN (base64 of the raw bytes)', bytes: Buffer.from(soRaw.toString('base64').replace(/=+$/, '')) },
    { what: 'SO-PIN (UTF-16LE)', bytes: Buffer.from(SO_PIN, 'utf16le') },
  ];
}

function canaryHits(label: string, data: Buffer): string[] {
  return needles()
    .filter((n) => data.includes(n.bytes))
    .map((n) => `${n.what} in ${label}`);
}

function scanFiles(root: string): string[] {
  return filesUnder(root).flatMap((f) => canaryHits(f, readFileSync(f)));
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Non-interactive output of every `ca` run, scanned at the end. */
const outputs: string[] = [];

function run(cmd: string, args: readonly string[]): Promise<Run> {
  return new Promise((res) => {
    execFile(cmd, args, { timeout: 60_000, maxBuffer: 8 << 20, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      outputs.push(String(stdout), String(stderr));
      res({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const ca = (...args: string[]): Promise<Run> => run(process.execPath, [BIN, ...args]);
const ok = (r: Run, what: string): Run => {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
  return r;
};

let release: () => void;
let emu: EmulatorProcess;
let tty: TmuxDriver;
let dir: string;
let home: string;
let exportsDir: string;
let reader: string;
const panes: TmuxPane[] = [];
/** Hits found while a `ca` process waited at a prompt (home incl. WAL, /proc). */
const liveHits: string[] = [];
/** CA-home files seen while a `ca` process waited at a prompt. */
const liveFiles = new Set<string>();

before(async () => {
  release = await lockRigPorts([35969, 35970]);
  dir = mkdtempSync(join(tmpdir(), 'cardca-pin-safety-'));
  home = join(dir, 'ca-data');
  exportsDir = join(dir, 'exports');
  mkdirSync(exportsDir);
  // A factory-fresh SmartCard-HSM wants its initialisation code 3537363231383830 (card-state.ts);
  // this card's is the canary SO_PIN instead, so every scan below can tell it from anything else.
  const stateFile = join(dir, 'card.json');
  saveStateFile(stateFile, { ...factoryFreshState(), soPin: pinRecord(Buffer.from(SO_PIN, 'hex'), 15) });
  emu = await startEmulator({ port: PORT, stateFile });
  reader = emu.readerName;
  tty = await TmuxDriver.start(dir);
});

after(async () => {
  await tty?.stop();
  await emu?.stop();
  release?.();
});

async function inTty(name: string, args: readonly string[]): Promise<TmuxPane> {
  const pane = await tty.run(name, [process.execPath, BIN, ...args], { NO_COLOR: '1' });
  panes.push(pane);
  return pane;
}

/**
 * While `ca` waits at a prompt: its argv and environment (what `ps` and other users' tools see)
 * and the CA home as it is right now (the SQLite WAL exists only while the DB is open).
 */
async function checkWhileWaiting(pane: TmuxPane): Promise<void> {
  const pid = await pane.pid();
  const cmdline = readFileSync(`/proc/${pid}/cmdline`);
  assert.ok(cmdline.includes(Buffer.from('bin.js')), `pid ${pid} is the ca process: ${cmdline.toString().replace(/\0/g, ' ')}`);
  liveHits.push(...canaryHits(`/proc/${pid}/cmdline`, cmdline), ...canaryHits(`/proc/${pid}/environ`, readFileSync(`/proc/${pid}/environ`)));
  for (const f of filesUnder(home)) liveFiles.add(f.slice(home.length));
  liveHits.push(...scanFiles(home).map((h) => `${h} (while waiting)`));
}

/** Type a secret without Enter and check the terminal shows none of it. */
async function typeHidden(pane: TmuxPane, secret: string): Promise<void> {
  await pane.type(secret);
  const screen = await pane.screen();
  assert.ok(!screen.includes(secret), `typed secret is echoed:\n${screen}`);
  await pane.enter();
}

/** VERIFY commands (INS 20) that carried data: the emulator's log redacts it to "<redacted>". */
function verifiesWithData(fromLine: number): string[] {
  const lines = readFileSync(emu.apduLogFile, 'utf8').split('\n').filter(Boolean).slice(fromLine);
  return lines
    .map((l) => (JSON.parse(l) as { command: string }).command)
    .filter((c) => /^[08]020/.test(c) && c.length > 8);
}

const apduLines = (): number => (existsSync(emu.apduLogFile) ? readFileSync(emu.apduLogFile, 'utf8').split('\n').filter(Boolean).length : 0);

async function pinStatus(): Promise<{ state: string; triesLeft: number }> {
  const r = ok(await ca('card', 'status', '--reader', reader, '--json'), 'card status');
  return (JSON.parse(r.stdout) as { pin: { state: string; triesLeft: number } }).pin;
}

test('card init at the TTY: SO-PIN and new user PIN typed, never echoed, not in argv or environ', async () => {
  const pane = await inTty('init', ['card', 'init', '--reader', reader, '--label', 'PIN safety', '--retries', '3', '--trace-apdu']);
  await pane.waitFor(/SO-PIN \(16 hex digits\): $/m);
  await checkWhileWaiting(pane);
  await typeHidden(pane, SO_PIN);
  await pane.waitFor(/New user PIN: $/m);
  await checkWhileWaiting(pane); // the SO-PIN is now in the process's memory
  await typeHidden(pane, USER_PIN);
  await pane.waitFor(/Repeat the new user PIN: $/m);
  await checkWhileWaiting(pane);
  await typeHidden(pane, USER_PIN);
  const { status, screen } = await pane.waitExit();
  assert.equal(status, 0, screen);
  assert.match(screen, /initialised card .*3 PIN tries/);
  assert.match(pane.log(), /=> 80 50 00 00 /, '--trace-apdu printed the INITIALIZE exchange');
  assert.deepEqual(await pinStatus(), { state: 'not-verified', triesLeft: 3 });
});

test('ceremony root at the TTY: tries left shown before any VERIFY with data; the PIN is not echoed', async () => {
  ok(await ca('init', '--rehearsal', '--home', home), 'init');
  const from = apduLines();
  const pane = await inTty('root', ['ceremony', 'root', '--card', emu.serial, '--home', home]);
  await pane.waitFor(/Type "yes" to continue: $/m);
  await pane.type('yes');
  await pane.enter();
  const screen = await pane.waitFor(/User PIN: $/m);
  const tries = screen.search(/user PIN, 3 tries left/);
  assert.ok(tries >= 0 && tries < screen.lastIndexOf('User PIN: '), `tries left shown before the prompt:\n${screen}`);
  assert.deepEqual(verifiesWithData(from), [], 'no PIN sent before it was typed');
  await checkWhileWaiting(pane);
  await typeHidden(pane, USER_PIN);
  const done = await pane.waitExit();
  assert.equal(done.status, 0, done.screen);
  assert.match(done.screen, /written to .*root\.crt/);
  assert.equal(verifiesWithData(from).length, 1, 'exactly the typed PIN was verified');
});

test('CRL signed with the PIN typed at the TTY; every export format written', async () => {
  const pane = await inTty('crl', ['crl', '--issuer', 'root', '--home', home]);
  await pane.waitFor(/User PIN: $/m);
  await checkWhileWaiting(pane);
  await typeHidden(pane, USER_PIN);
  const done = await pane.waitExit();
  assert.equal(done.status, 0, done.screen);
  for (const f of ['pem', 'der', 'p7b'] as const) {
    const out = join(exportsDir, `chain-${f}`);
    if (f === 'der') mkdirSync(out);
    ok(await ca('export', 'chain', '--issuer', 'root', '--format', f, '--out', f === 'der' ? out + '/' : out, '--home', home), `export chain ${f}`);
  }
  for (const f of ['pem', 'der'] as const) ok(await ca('export', 'crl', '--issuer', 'root', '--format', f, '--out', join(exportsDir, `root-crl.${f}`), '--home', home), `export crl ${f}`);
  ok(await ca('status', '--home', home), 'status');
  assert.ok(filesUnder(exportsDir).length >= 4);
});

test('last PIN try at the TTY: anything but the typed confirmation aborts without VERIFY; the confirmation proceeds', async () => {
  const wrong = join(dir, 'wrong.pin');
  writeFileSync(wrong, 'NotThePin99\n', { mode: 0o600 });
  for (let i = 0; i < 2; i++) {
    const r = await ca('card', 'keygen', '--reader', reader, '--label', 'never', '--alg', 'p256', '--pin-file', wrong);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /PIN_/);
  }
  assert.deepEqual(await pinStatus(), { state: 'not-verified', triesLeft: 1 });

  const from = apduLines();
  const refused = await inTty('lasttry-no', ['card', 'keygen', '--reader', reader, '--label', 'k-refused', '--alg', 'p256', '--trace-apdu']);
  const screen = await refused.waitFor(/Type "spend the last try" to continue: $/m);
  assert.match(screen, /user PIN, 1 try left/);
  await refused.type('yes');
  await refused.enter();
  const r1 = await refused.waitExit();
  assert.notEqual(r1.status, 0, r1.screen);
  assert.match(r1.screen, /PIN_LAST_TRY/);
  assert.doesNotMatch(r1.screen, /User PIN: /, 'no PIN prompt after a refused confirmation');
  assert.deepEqual(verifiesWithData(from), [], 'no VERIFY with data after the refusal');
  assert.deepEqual(await pinStatus(), { state: 'not-verified', triesLeft: 1 });

  const from2 = apduLines();
  const confirmed = await inTty('lasttry-yes', ['card', 'keygen', '--reader', reader, '--label', 'k-confirmed', '--alg', 'p256', '--trace-apdu']);
  await confirmed.waitFor(/Type "spend the last try" to continue: $/m);
  await confirmed.type('spend the last try');
  await confirmed.enter();
  await confirmed.waitFor(/User PIN: $/m);
  assert.deepEqual(verifiesWithData(from2), [], 'the confirmation alone sends no PIN');
  await checkWhileWaiting(confirmed);
  await typeHidden(confirmed, USER_PIN);
  const r2 = await confirmed.waitExit();
  assert.equal(r2.status, 0, r2.screen);
  assert.equal(verifiesWithData(from2).length, 1);
  assert.match(confirmed.log(), /=> 00 20 00 81 .*redacted/, '--trace-apdu printed the VERIFY (redacted)');
  assert.deepEqual(await pinStatus(), { state: 'not-verified', triesLeft: 3 }, 'a correct PIN resets the counter');
});

test('the canary PINs appear in no artefact, output, APDU trace or log, argv or environment', async () => {
  const hits = [...liveHits];
  hits.push(...scanFiles(home), ...scanFiles(exportsDir));
  for (const p of panes) hits.push(...canaryHits(`terminal output of ${p.name}`, Buffer.from(p.log(), 'latin1')), ...canaryHits(`screen of ${p.name}`, Buffer.from(await p.screen())));
  hits.push(...canaryHits('stdout/stderr of the non-interactive runs', Buffer.from(outputs.join('\n'))));
  hits.push(...canaryHits('emulator APDU log', readFileSync(emu.apduLogFile)), ...canaryHits('emulator stderr', Buffer.from(emu.stderr())));
  assert.deepEqual(hits, []);
  // The scan covered real material: transcripts, the database, terminal logs with APDU traces.
  const homeFiles = filesUnder(home).map((f) => f.slice(home.length));
  assert.ok(homeFiles.includes('/ca.db'), homeFiles.join(', '));
  assert.ok(liveFiles.has('/ca.db-wal'), `the SQLite WAL was scanned while ca waited: ${[...liveFiles].join(', ')}`);
  assert.ok(homeFiles.some((f) => f.startsWith('/ceremonies/')), homeFiles.join(', '));
  assert.ok(panes.every((p) => p.log().length > 0));
  // …and the matcher does find the canaries when they are present.
  const probe = Buffer.from(`${USER_PIN} ${SO_PIN}`);
  assert.ok(canaryHits('probe', probe).length >= 2);
});
