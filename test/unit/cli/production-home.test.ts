/**
 * A production CA home through the real CLI, no card needed (issue #8 items 4 and 6):
 * `CA_FAKE_NOW` changes nothing there (garbage included); the clock is checked with faketime —
 * behind the last signing event, far ahead of it without and with `--confirm-clock`, and a
 * refusal under a clock in 2036 no longer locks later commands; a changed profile set is
 * refused with `PROFILES_CHANGED` until `ca profiles accept`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { BIN, expectOk, runCommand, type Run } from '../../helpers/run-command.js';
import { openDatabase } from '../../../src/db/database.js';
import { SqliteStore } from '../../../src/db/sqlite-store.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function productionHome(): string {
  const home = join(mkdtempSync(join(tmpdir(), 'cardca-prod-')), 'ca-data');
  return home;
}

const ca = (home: string, args: string[], env: Record<string, string> = {}): Promise<Run> => runCommand(process.execPath, [BIN, ...args, '--home', home], { env });
/** The CLI under libfaketime (Debian `faketime`): the process's real clock calls are moved. */
const caFaked = (home: string, when: string, args: string[]): Promise<Run> =>
  runCommand('faketime', ['-f', when, process.execPath, BIN, ...args, '--home', home], { env: { FAKETIME_DONT_FAKE_MONOTONIC: '1' } });

function auditRows(home: string): { seq: number; at: string; event: string; data: Record<string, unknown> }[] {
  const store = new SqliteStore(openDatabase(join(home, 'ca.db')));
  try {
    return store.auditRecords().map((r) => ({ seq: r.seq, at: r.at, event: r.event, data: r.data as Record<string, unknown> }));
  } finally {
    store.db.close();
  }
}

/** A signing event without a card: bind a CA row (what a ceremony's first commit does). */
function bindCa(home: string, at: Date): void {
  const store = new SqliteStore(openDatabase(join(home, 'ca.db')));
  try {
    const pk = Uint8Array.of(1, 2, 3);
    store.createCa(
      { name: 'root', profileName: 'root', cardSerial: 'DECM0000000001', cardFamily: 'sc-hsm', keyId: 'AA', keyRef: 1, publicKey: pk, spkiSha256: new Uint8Array(createHash('sha256').update(pk).digest()) },
      { event: 'ca.bound', ca: 'root', data: { card: 'DECM0000000001', keyId: 'AA' } },
      at,
    );
  } finally {
    store.db.close();
  }
}

test('CA_FAKE_NOW is ignored by a production home, garbage included; the home says it is not a rehearsal', async () => {
  const home = productionHome();
  expectOk(await ca(home, ['init']), 'init');
  const before = Date.now();
  const r = await ca(home, ['revoke', '01', '--reason', 'keyCompromise'], { CA_FAKE_NOW: 'garbage' });
  assert.equal(r.code, 8, r.stderr); // REVOKE_NOT_FOUND: the clock did not get in the way
  assert.match(r.stderr, /CA_FAKE_NOW is ignored: this is a production CA home/);
  const refused = auditRows(home).at(-1)!;
  assert.equal(refused.event, 'command.refused');
  assert.match(refused.at, ISO);
  assert.ok(Math.abs(new Date(refused.at).getTime() - before) < 60_000, `recorded at the system time, not ${refused.at}`);
  assert.equal(refused.data['fakeClock'], undefined);
  const past = await ca(home, ['revoke', '01', '--reason', 'keyCompromise'], { CA_FAKE_NOW: '2001-01-01T00:00:00Z' });
  assert.equal(past.code, 8, past.stderr);
  assert.match(auditRows(home).at(-1)!.at, /^2026|^20[3-9]/);
  const status = expectOk(await ca(home, ['status', '--json']), 'status');
  assert.equal((JSON.parse(status.stdout) as { rehearsal: boolean }).rehearsal, false);
});

test('a rehearsal home refuses a garbage CA_FAKE_NOW and tags every record made under a fake clock', async () => {
  const home = productionHome();
  const bad = await ca(home, ['init', '--rehearsal'], { CA_FAKE_NOW: 'garbage' });
  assert.equal(bad.code, 10, bad.stderr);
  assert.match(bad.stderr, /CLOCK_FAKE_INVALID/);
  expectOk(await ca(home, ['init', '--rehearsal'], { CA_FAKE_NOW: '2027-01-01T00:00:00Z' }), 'init (the refused run left nothing behind)');
  const r = await ca(home, ['revoke', '01', '--reason', 'keyCompromise'], { CA_FAKE_NOW: '2027-01-02T00:00:00Z' });
  assert.equal(r.code, 8, r.stderr);
  const rows = auditRows(home);
  assert.equal(rows[0]!.data['rehearsal'], true);
  assert.equal(rows[0]!.data['fakeClock'], '2027-01-01T00:00:00.000Z');
  assert.equal(rows.at(-1)!.at, '2027-01-02T00:00:00.000Z');
  assert.equal(rows.at(-1)!.data['fakeClock'], '2027-01-02T00:00:00.000Z');
  const status = expectOk(await ca(home, ['status']), 'status');
  assert.match(status.stdout, /\*\*\* REHEARSAL home/);
});

test('faketime: behind the last signing event, far ahead of it, and a refusal in 2036 that locks nothing', async () => {
  const home = productionHome();
  expectOk(await ca(home, ['init']), 'init');
  bindCa(home, new Date());
  const behind = await caFaked(home, '-1d', ['revoke', '01', '--reason', 'keyCompromise']);
  assert.equal(behind.code, 10, behind.stderr);
  assert.match(behind.stderr, /CLOCK_BEHIND/);
  const ahead = await caFaked(home, '+5d', ['revoke', '01', '--reason', 'keyCompromise']);
  assert.equal(ahead.code, 10, ahead.stderr);
  assert.match(ahead.stderr, /CLOCK_AHEAD.*5\.0 days after the last signing event/);
  assert.match(ahead.stderr, /--confirm-clock/);
  const confirmed = await caFaked(home, '+5d', ['revoke', '01', '--reason', 'keyCompromise', '--confirm-clock']);
  assert.equal(confirmed.code, 8, confirmed.stderr); // past the clock check, to the (missing) serial
  const jump = auditRows(home).find((r) => r.event === 'clock.ahead-confirmed');
  assert.ok(jump, 'the confirmed jump is audited');
  assert.equal(jump.data['maxAheadDays'], 2);
  // A command refused under a clock in 2036 writes its refusal at 2036 ...
  const future = await caFaked(home, '@2036-01-01 00:00:00', ['revoke', '01', '--reason', 'keyCompromise', '--confirm-clock']);
  assert.equal(future.code, 8, future.stderr);
  assert.match(auditRows(home).at(-1)!.at, /^2036-/);
  // ... and today's clock still works: the watermark is the last signing event, not that refusal.
  const today = await ca(home, ['revoke', '01', '--reason', 'keyCompromise']);
  assert.equal(today.code, 8, today.stderr);
});

test('a changed profile set is refused (PROFILES_CHANGED, with the diff) until ca profiles accept', async () => {
  const home = productionHome();
  expectOk(await ca(home, ['init']), 'init');
  appendFileSync(join(home, 'profiles', 'tls-server.yaml'), '# widened by someone\n');
  const refused = await ca(home, ['status']);
  assert.equal(refused.code, 7, refused.stderr);
  assert.match(refused.stderr, /PROFILES_CHANGED/);
  assert.match(refused.stderr, /\+ # widened by someone/);
  const list = await ca(home, ['list']);
  assert.equal(list.code, 7, 'every command refuses, not just status');
  const wrong = await ca(home, ['profiles', 'accept', '--confirm', '00000000']);
  assert.equal(wrong.code, 2, wrong.stderr);
  const shown = /new profile set SHA-256 ([0-9a-f]{64})/.exec(wrong.stdout);
  assert.ok(shown, wrong.stdout);
  expectOk(await ca(home, ['profiles', 'accept', '--confirm', shown[1]!.slice(0, 8)]), 'profiles accept');
  const accepted = auditRows(home).at(-1)!;
  assert.equal(accepted.event, 'profiles.accepted');
  assert.equal(accepted.data['profilesSha256'], shown[1]);
  const status = expectOk(await ca(home, ['status']), 'status after accept');
  assert.match(status.stdout, new RegExp(`profiles: SHA-256 ${shown[1]} \\(pinned by audit #${accepted.seq}`));
});
