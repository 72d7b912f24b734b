/**
 * Concurrent `ca sign` processes on one CA home (ca-invariants.md §1.5 item 7 "a single writer",
 * §3.2 "Concurrent invocations"), through the real CLI with two virtual SmartCard-HSMs behind
 * pcscd (vpcd ports 35967 = root card, 35968 = sub-CA card).
 *
 * No timing assumptions: a first `ca sign` takes the CA home lock and then blocks reading its PIN
 * from a FIFO, so it provably holds the lock while the others start. Processes started with
 * `CA_LOCK_TIMEOUT_MS=0` must fail at once with `LOCK_HELD` naming the holder's pid; the ones
 * with a long timeout wait. When the PIN is written every waiter signs in turn. Afterwards: all
 * serials unique, the audit log shows each issuance's intent and issued records with nothing of
 * another process between them (one writer at a time), the card signed exactly once per
 * certificate, `ca db check` and `ca audit verify` pass.
 */
import { execFileSync, spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { EmulatorProcess } from '../helpers/emulator-process.js';
import { initTwoCardHome } from '../helpers/two-card-home.js';
import { BIN } from '../helpers/run-command.js';

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let dir: string;
let home: string;
let pin: string;
let rootEmu: EmulatorProcess;
let subEmu: EmulatorProcess;

/** Start `ca ARGS --home HOME`; `pid` at once, `done` when it exits. */
function startCa(args: readonly string[], env: Record<string, string> = {}): { pid: number; done: Promise<Exit> } {
  const child = spawn(process.execPath, [BIN, ...args, '--home', home], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<Exit>((res) => child.once('close', (code, signal) => res({ code, signal, stdout, stderr })));
  return { pid: child.pid!, done };
}

const ca = (args: readonly string[], env: Record<string, string> = {}): Promise<Exit> => startCa(args, env).done;

function ok(r: Exit, what: string): Exit {
  assert.equal(r.code, 0, `${what} failed (code ${r.code}, signal ${r.signal}):\n${r.stderr}\n${r.stdout}`);
  return r;
}

function makeCsr(name: string): string {
  const out = join(dir, `${name}.csr`);
  const cn = `${name}.example.test`;
  execFileSync('openssl', ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', join(dir, `${name}.key`), '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`, '-out', out], { stdio: 'ignore' });
  return out;
}

const signArgs = (csr: string, pinFile: string): string[] =>
  ['sign', csr, '--issuer', 'servers', '--profile', 'tls-server', '--pin-file', pinFile, '--reader', subEmu.readerName, '--out', csr.replace(/\.csr$/, '.crt')];

function withDb<T>(fn: (db: Database.Database) => T): T {
  const db = new Database(join(home, 'ca.db'), { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

const signatureCount = (): number => (JSON.parse(readFileSync(subEmu.stateFile, 'utf8')) as { signatureCount: number }).signatureCount;

before(async () => {
  ({ dir, home, pin, rootEmu, subEmu } = await initTwoCardHome('cardca-concurrency-', [35967, 35968]));
  ok(await ca(['ceremony', 'root', '--card', rootEmu.serial, '--reader', rootEmu.readerName, '--pin-file', pin, '--yes']), 'ceremony root');
  ok(await ca(['ceremony', 'subca', 'servers', '--card', subEmu.serial, '--reader', subEmu.readerName, '--pin-file', pin, '--issuer-card', rootEmu.serial, '--issuer-pin-file', pin, '--yes']), 'ceremony subca');
});

after(async () => {
  await rootEmu?.stop();
  await subEmu?.stop();
});

test('concurrent `ca sign`: one writer at a time; the impatient fail with LOCK_HELD naming the holder; serials unique', async () => {
  const lockFile = join(home, 'ca.lock');
  const fifo = join(dir, 'pin.fifo');
  execFileSync('mkfifo', ['-m', '600', fifo]);
  const waiters = 4;
  const impatient = 2;
  const csrs = Array.from({ length: 1 + waiters + impatient }, (_, i) => makeCsr(`c${i}`));
  const seq0 = withDb((db) => (db.prepare('SELECT max(seq) AS s FROM audit_log').get() as { s: number }).s);
  const sig0 = signatureCount();

  // The holder: takes the lock, opens the card, then blocks reading the PIN from the FIFO.
  const holder = startCa(signArgs(csrs[0]!, fifo));
  let holderExited = false;
  void holder.done.then(() => (holderExited = true));
  try {
    await contend(holder, () => holderExited, fifo, csrs, lockFile, sig0, seq0, waiters);
  } finally {
    // A failed assertion must not leave the holder blocked on its FIFO (the run would hang).
    if (!holderExited) process.kill(holder.pid, 'SIGKILL');
  }
});

async function contend(
  holder: { pid: number; done: Promise<Exit> },
  holderGone: () => boolean,
  fifo: string,
  csrs: string[],
  lockFile: string,
  sig0: number,
  seq0: number,
  waiters: number,
): Promise<void> {
  // Wait (on a condition, not a duration) until the lock file names the holder.
  // The 60 s bound only turns a broken lock (never taken) into a failure instead of a hang.
  const giveUp = Date.now() + 60_000;
  // The lock file holds "PID BOOT-ID" (src/db/lock-file.ts).
  while (!(existsSync(lockFile) && readFileSync(lockFile, 'utf8').trim().split(/\s+/)[0] === String(holder.pid))) {
    if (Date.now() > giveUp) assert.fail(`the holder (pid ${holder.pid}) never wrote its pid into ${lockFile}`);
    if (holderGone()) assert.fail(`the holder exited before taking the lock:\n${(await holder.done).stderr}`);
    await sleep(20);
  }

  const patient = csrs.slice(1, 1 + waiters).map((c) => startCa(signArgs(c, pin), { CA_LOCK_TIMEOUT_MS: '120000' }));
  const refused = await Promise.all(csrs.slice(1 + waiters).map((c) => ca(signArgs(c, pin), { CA_LOCK_TIMEOUT_MS: '0' })));
  for (const r of refused) {
    assert.equal(r.code, 6, `LOCK_ exits 6:\n${r.stderr}`);
    assert.match(r.stderr, /error \[LOCK_HELD\]/);
    assert.match(r.stderr, new RegExp(`another ca process \\(pid ${holder.pid}\\) holds the CA home lock`));
  }
  assert.equal(holderGone(), false, 'the holder still holds the lock');
  assert.equal(signatureCount(), sig0, 'nothing signed while the holder waits for its PIN');

  // Release the holder; if it died meanwhile, unblock our own FIFO writer instead of hanging.
  const feed = writeFile(fifo, '648219\n');
  void holder.done.then(() => {
    try {
      closeSync(openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK));
    } catch {
      /* the writer already finished */
    }
  });
  await feed;
  ok(await holder.done, 'holder sign');
  for (const [i, p] of patient.entries()) ok(await p.done, `waiting sign #${i + 1}`);

  const signed = 1 + waiters;
  assert.equal(signatureCount() - sig0, signed, 'the card signed once per certificate');
  const rows = withDb((db) => db.prepare("SELECT serial_hex, status FROM certificates c JOIN cas i ON i.id = c.issuer_id WHERE i.name = 'servers'").all() as { serial_hex: string; status: string }[]);
  assert.equal(rows.length, signed, 'refused processes reserved nothing');
  assert.ok(rows.every((r) => r.status === 'issued'));
  assert.equal(new Set(rows.map((r) => r.serial_hex)).size, rows.length, 'serials unique');
  for (const c of csrs.slice(0, signed)) assert.ok(existsSync(c.replace(/\.csr$/, '.crt')), `${c} signed`);

  // One writer at a time: between a serial's intent and its issued record, no record of any other serial.
  const events = withDb((db) => db.prepare('SELECT event, data FROM audit_log WHERE seq > ? ORDER BY seq').all(seq0) as { event: string; data: string }[]).map((e) => ({
    event: e.event,
    serial: (JSON.parse(e.data) as { serial?: string }).serial,
  }));
  const intents = events.filter((e) => e.event === 'certificate.intent');
  assert.equal(intents.length, signed);
  for (const intent of intents) {
    const from = events.indexOf(intent);
    const to = events.findIndex((e) => e.event === 'certificate.issued' && e.serial === intent.serial);
    assert.ok(to > from, `issued record after the intent of ${intent.serial}`);
    const between = events.slice(from + 1, to).filter((e) => e.serial !== undefined && e.serial !== intent.serial);
    assert.deepEqual(between, [], `records of other serials inside the issuance of ${intent.serial}`);
  }

  assert.equal(existsSync(lockFile), false, 'the lock is released');
  assert.match(ok(await ca(['db', 'check']), 'db check').stdout, new RegExp(`database OK: ${signed + 2} certificates`));
  ok(await ca(['audit', 'verify', '--pin-file', pin]), 'audit verify');
}
