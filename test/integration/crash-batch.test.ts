/**
 * Kill-point tests of a *batch* (issue #14 item 2 with issue #8 item 8), through the real CLI and
 * two emulated SmartCard-HSMs behind pcscd (vpcd ports 35963 = root card, 35964 = sub-CA card).
 * The batch reserves its intents in chunks bigger than the batch (CHUNK in
 * src/ca/batch-issuance.ts, 64 > 8): one durable transaction holds all 8 serials and TBS before the
 * first signature, and the rows are marked "sent to the card" per group (sentGroupSize: 1, 2, 4,
 * then 1 for these 8 — 1, 2, 4, 8, 16, 16, … in general), each group in one commit before the
 * card is asked for any of it.
 *
 * Each test kills `ca sign` of 8 CSRs by SIGKILL at a named point (`CA_CRASHPOINT=NAME@N`), then
 * runs the identical command again and checks against the card-side truth (the emulator's APDU
 * log of SIGN commands and its signature counter):
 *   - every TBS the card signed is held as issued or outcome_unknown, never abandoned;
 *   - at most one group of serials per crash is outcome_unknown: the group marked sent without
 *     its results (the card may have been asked for any of it);
 *   - the rows the card was never asked for are abandoned and their CSRs signed by the re-run,
 *     under new serials; the issued ones are written again with the same serial;
 *   - `ca db check` and `ca audit verify` pass.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BIN, expectOk, runCommand, type Run } from '../helpers/run-command.js';
import { initTwoCardHome, type TwoCardHome } from '../helpers/two-card-home.js';

let t: TwoCardHome;
const ca = (...args: string[]): Promise<Run> => runCommand(process.execPath, [BIN, ...args, '--home', t.home]);

before(async () => {
  t = await initTwoCardHome('cardca-crash-batch-', [35963, 35964]);
  expectOk(await ca('ceremony', 'root', '--card', t.rootEmu.serial, '--reader', t.rootEmu.readerName, '--pin-file', t.pin, '--yes'), 'ceremony root');
  expectOk(
    await ca('ceremony', 'subca', 'servers', '--card', t.subEmu.serial, '--reader', t.subEmu.readerName, '--pin-file', t.pin, '--issuer-card', t.rootEmu.serial, '--issuer-pin-file', t.pin, '--yes'),
    'ceremony servers',
  );
});

after(async () => {
  await t?.rootEmu.stop();
  await t?.subEmu.stop();
});

interface Row {
  serial_hex: string;
  status: string;
  subject: string;
  tbs: Buffer;
  queued: number;
}

function rows(tag: string): Row[] {
  const db = new Database(join(t.home, 'ca.db'), { readonly: true });
  try {
    return (db.prepare("SELECT c.serial_hex, c.status, c.subject, c.tbs, c.queued FROM certificates c JOIN cas i ON i.id = c.issuer_id WHERE i.name = 'servers' ORDER BY c.id").all() as Row[]).filter((r) =>
      r.subject.includes(`${tag}-`),
    );
  } finally {
    db.close();
  }
}

/** SIGN commands (INS 68) the sub-CA card answered 9000, in order. */
function cardSigns(): string[] {
  return readFileSync(t.subEmu.apduLogFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { command: string; response: string })
    .filter((e) => e.command.slice(2, 4) === '68' && e.response.endsWith('9000'))
    .map((e) => e.command.toUpperCase());
}

/** Did the card sign this TBS (the SIGN data is the TBS's SHA-256 for P-256 keys)? */
const signedByCard = (signs: readonly string[], tbs: Buffer): boolean => {
  const h = createHash('sha256').update(tbs).digest('hex').toUpperCase();
  return signs.some((c) => c.includes(h));
};

async function csrs(tag: string): Promise<string[]> {
  const out: string[] = [];
  for (let n = 1; n <= 8; n++) {
    const cn = `${tag}-${n}.example.test`;
    const csr = join(t.dir, `${tag}-${n}.csr`);
    expectOk(await runCommand('openssl', ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', join(t.dir, `${tag}-${n}.key`), '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`, '-out', csr]), 'openssl req');
    out.push(csr);
  }
  return out;
}

const status = (r: Row[], n: number, tag: string): string[] => r.filter((x) => x.subject.includes(`${tag}-${n}.`)).map((x) => x.status);

/**
 * Kill the batch at `point`, check what the crash left, run the identical command again and
 * check that it finishes the job. `issued`: rows 1..issued recorded issued; `unknown`: the 1-based
 * rows of the group marked sent without results (outcome_unknown after recovery); `cardSigned`:
 * how many SIGNs the card answered before the kill.
 */
async function scenario(tag: string, point: string, expect: { issued: number; unknown: readonly number[]; cardSigned: number }): Promise<void> {
  const isUnknown = (n: number): boolean => expect.unknown.includes(n);
  const list = await csrs(tag);
  const out = join(t.dir, `${tag}-out`);
  const sign = (...extra: string[]) =>
    runCommand(process.execPath, [BIN, 'sign', ...list, '--issuer', 'servers', '--profile', 'tls-server', '--pin-file', t.pin, '--reader', t.subEmu.readerName, '--out', out, '--home', t.home, ...extra], { env: point ? { CA_CRASHPOINT: point } : {} });
  const signsBefore = cardSigns().length;
  const killed = await sign();
  assert.notEqual(killed.code, 0, `killed at ${point}:\n${killed.stderr}`);
  const afterKill = cardSigns().slice(signsBefore);
  assert.equal(afterKill.length, expect.cardSigned, 'SIGN commands the card answered before the kill');

  // Before recovery: all 8 intents durable (one chunk), the in-flight one marked sent.
  const left = rows(tag);
  assert.equal(left.length, 8, 'every intent of the batch was committed before the first signature');
  for (let n = 1; n <= 8; n++) {
    const want = n <= expect.issued ? 'issued' : 'reserved';
    assert.deepEqual(status(left, n, tag), [want], `row ${n} before recovery`);
  }
  for (const r of left.filter((x) => x.status === 'reserved')) {
    const n = Number(/-(\d)\./.exec(r.subject)![1]);
    assert.equal(r.queued, isUnknown(n) ? 0 : 1, `row ${n}: marked sent exactly when the card may have been asked`);
  }

  // Recovery (the next writing command): sent without result → outcome_unknown; never sent → abandoned.
  const check = expectOk(await ca('db', 'check'), 'db check after the crash');
  const nUnknown = expect.unknown.length;
  assert.match(check.stderr, new RegExp(`recovered ${8 - expect.issued} certificate and 0 CRL reservation\\(s\\).*${nUnknown} outcome_unknown.*${8 - expect.issued - nUnknown} abandoned`));
  const rec = rows(tag);
  for (let n = 1; n <= 8; n++) {
    const want = n <= expect.issued ? 'issued' : isUnknown(n) ? 'outcome_unknown' : 'abandoned';
    assert.deepEqual(status(rec, n, tag), [want], `row ${n} after recovery`);
  }
  // The card-side truth: nothing abandoned was ever signed; everything signed is held.
  const signs = cardSigns();
  for (const r of rec) {
    if (r.status === 'abandoned') assert.equal(signedByCard(signs, r.tbs), false, `abandoned ${r.serial_hex} was signed by the card`);
    if (r.status === 'issued') assert.equal(signedByCard(signs, r.tbs), true);
  }
  for (const c of afterKill) assert.ok(rec.some((r) => (r.status === 'issued' || r.status === 'outcome_unknown') && c.includes(createHash('sha256').update(r.tbs).digest('hex').toUpperCase())), 'every signature is of a held TBS');

  // The identical command again finishes the job.
  const rerun = await runCommand(process.execPath, [BIN, 'sign', ...list, '--issuer', 'servers', '--profile', 'tls-server', '--pin-file', t.pin, '--reader', t.subEmu.readerName, '--out', out, '--home', t.home]);
  assert.equal(rerun.code, nUnknown ? 5 : 0, rerun.stderr);
  for (let n = 1; n <= 8; n++) {
    if (n <= expect.issued) assert.match(rerun.stderr, new RegExp(`\\[${n}/8\\] ${tag}-${n}\\.csr: already issued by servers as serial [0-9A-F]+ .*written again`));
    else if (isUnknown(n)) assert.match(rerun.stderr, new RegExp(`\\[${n}/8\\] ${tag}-${n}\\.csr: NOT signed: .*outcome_unknown`));
    else assert.match(rerun.stderr, new RegExp(`\\[${n}/8\\] ${tag}-${n}\\.csr → .*${tag}-${n}\\.crt \\(serial [0-9A-F]+\\)`));
  }
  const final = rows(tag);
  for (let n = 1; n <= 8; n++) {
    const want = n <= expect.issued ? ['issued'] : isUnknown(n) ? ['outcome_unknown'] : ['abandoned', 'issued'];
    assert.deepEqual(status(final, n, tag), want, `row(s) of ${n} after the re-run`);
  }
  const crts = readdirSync(out).filter((f) => f.endsWith('.crt'));
  assert.equal(crts.length, 8 - nUnknown);
  assert.equal(readdirSync(out).filter((f) => f.endsWith('.tmp')).length, 0);
  expectOk(await ca('db', 'check'), 'db check after the re-run');
  expectOk(await ca('audit', 'verify', '--skip-card-checkpoints'), 'audit verify after the re-run');
}

test('SIGKILL right after the batch reservation: 8 intents durable, none sent; recovery abandons all 8, the re-run signs all 8', async () => {
  await scenario('res', 'issuance-after-reserve', { issued: 0, unknown: [], cardSigned: 0 });
});

test('SIGKILL after [3/8], the card has signed the 5th (issue #8 item 8, chunk bigger than the batch): 1–3 issued, the sent group 4–7 outcome_unknown, 8 abandoned and signed by the re-run', async () => {
  await scenario('sig', 'issuance-after-sign@5', { issued: 3, unknown: [4, 5, 6, 7], cardSigned: 5 });
});

test('SIGKILL between "sent" and the result, before the card was asked for the 3rd: the sent group 2–3 outcome_unknown (the 2nd was signed, the 3rd may have been), 4–8 abandoned', async () => {
  await scenario('snt', 'issuance-after-sent@3', { issued: 1, unknown: [2, 3], cardSigned: 2 });
});

test('SIGKILL right after the commit that records the group 2–3 issued (and marks 4–7 sent): 2–3 issued without a file, 4–7 outcome_unknown, 8 abandoned', async () => {
  await scenario('cmt', 'issuance-after-commit@2', { issued: 3, unknown: [4, 5, 6, 7], cardSigned: 3 });
});

test('a forged "never sent" marker is caught: recovery of a row the audit log says was sent leaves it outcome_unknown, db check names a cleared marker', async () => {
  const list = await csrs('frg');
  const out = join(t.dir, 'frg-out');
  const killed = await runCommand(process.execPath, [BIN, 'sign', ...list.slice(0, 3), '--issuer', 'servers', '--profile', 'tls-server', '--pin-file', t.pin, '--reader', t.subEmu.readerName, '--out', out, '--home', t.home], { env: { CA_CRASHPOINT: 'issuance-after-sign@2' } });
  assert.notEqual(killed.code, 0);
  // An adversary with write access marks the signed-but-unrecorded 2nd row "never sent" (the
  // trigger of migration 7 refuses it, so they drop it first), hoping recovery abandons it and
  // the next CRL leaves it off.
  const db = new Database(join(t.home, 'ca.db'));
  try {
    db.exec('DROP TRIGGER certificates_queued_forward');
    // (Rows 2 and 3 share a sent group; the forgery targets the signed one.)
    const r = db.prepare("UPDATE certificates SET queued = 1 WHERE status = 'reserved' AND queued = 0 AND subject LIKE '%frg-2.example.test%'").run();
    assert.equal(r.changes, 1);
  } finally {
    db.close();
  }
  const check = await ca('db', 'check');
  assert.notEqual(check.code, 0, 'db check reports it');
  assert.match(check.stdout + check.stderr, /frg-2\.example\.test|certificate servers\/[0-9A-F]+/);
  assert.match(check.stdout, /never sent to the card\).*but audit #\d+ records it sent to the card/);
  assert.deepEqual(status(rows('frg'), 2, 'frg'), ['outcome_unknown'], 'recovery trusts the audit log, not the forged marker');
});
