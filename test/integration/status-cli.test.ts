/**
 * `ca status` through the real CLI (vpcd ports 35963/35964 for the ceremonies and CRLs): the
 * JSON fields per CA, the CRL levels from the profile's crl.overlap (servers: 30-day CRL, 7-day
 * overlap → warn from day 23, alarm from day 28.25 or expired) as the injected clock
 * (`CA_FAKE_NOW`) moves, exit 0 with warnings and alarms, `--check` exiting 1 on warn and 2 on
 * alarm, and colour only on a terminal.
 */
import { BIN, expectOk, runCommand, type Run } from '../helpers/run-command.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { CliContext } from '../../src/cli/context.js';
import type { EmulatorProcess } from '../helpers/emulator-process.js';
import { initTwoCardHome } from '../helpers/two-card-home.js';

const DAY = 86_400_000;

const run = (cmd: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> => runCommand(cmd, args, { env });

let dir: string;
let home: string;
let pin: string;
let rootEmu: EmulatorProcess;
let subEmu: EmulatorProcess;
let crlAt: number;
const ca = (...args: string[]): Promise<Run> => run(process.execPath, [BIN, ...args, '--home', home]);
const caAt = (at: number, ...args: string[]): Promise<Run> => run(process.execPath, [BIN, ...args, '--home', home], { CA_FAKE_NOW: new Date(at).toISOString() });
const ok = expectOk;

type Level = 'ok' | 'warn' | 'alarm';
interface StatusJson {
  now: string;
  level: Level;
  thresholds: { warnDays: number; alarmDays: number };
  cas: {
    name: string;
    parent: string | null;
    card: { serial: string; keyId: string };
    certificate: { notAfter: string; daysLeft: number; level: Level } | null;
    crl: { number: string; nextUpdate: string; daysToNextUpdate: number; level: Level } | null;
    certificates: { issued: number; revoked: number; outcome_unknown: number; total: number };
    level: Level;
    problems: string[];
  }[];
}
const statusAt = async (at: number, ...extra: string[]): Promise<StatusJson> => JSON.parse(ok(await caAt(at, 'status', '--json', ...extra), 'status').stdout) as StatusJson;
const byName = (s: StatusJson, n: string) => s.cas.find((c) => c.name === n)!;

before(async () => {
  ({ dir, home, pin, rootEmu, subEmu } = await initTwoCardHome('cardca-status-', [35963, 35964]));
  ok(await ca('ceremony', 'root', '--card', rootEmu.serial, '--pin-file', pin, '--yes'), 'ceremony root');
  ok(await ca('ceremony', 'subca', 'servers', '--card', subEmu.serial, '--pin-file', pin, '--issuer-pin-file', pin, '--yes'), 'ceremony servers');
  for (const cn of ['a.example.test', 'b.example.test']) {
    const csr = join(dir, `${cn}.csr`);
    ok(await run('openssl', ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', join(dir, `${cn}.key`), '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`, '-out', csr]), 'openssl req');
    ok(await ca('sign', csr, '--issuer', 'servers', '--profile', 'tls-server', '--pin-file', pin, '--out', join(dir, `${cn}.crt`)), 'sign');
  }
  ok(await ca('revoke', join(dir, 'b.example.test.crt'), '--reason', 'superseded'), 'revoke');
  ok(await ca('crl', '--issuer', 'root', '--pin-file', pin), 'crl root');
  crlAt = Date.now();
  ok(await ca('crl', '--issuer', 'servers', '--pin-file', pin), 'crl servers');
});

after(async () => {
  await rootEmu?.stop();
  await subEmu?.stop();
});

test('status --json: card, key, validity, CRL and counts per CA', async () => {
  const s = await statusAt(crlAt + 60_000);
  assert.deepEqual(s.thresholds, { warnDays: 30, alarmDays: 7 });
  assert.deepEqual(s.cas.map((c) => [c.name, c.parent]), [['root', null], ['servers', 'root']]);
  const root = byName(s, 'root');
  const servers = byName(s, 'servers');
  assert.equal(root.card.serial, rootEmu.serial);
  assert.equal(servers.card.serial, subEmu.serial);
  assert.match(servers.card.keyId, /^[0-9A-F]{40}$/);
  assert.ok(root.certificate!.daysLeft > 365 * 19, 'root valid ~20 years');
  assert.equal(root.crl!.number, '1');
  assert.ok(root.crl!.daysToNextUpdate >= 178 && root.crl!.daysToNextUpdate <= 180, String(root.crl!.daysToNextUpdate));
  assert.equal(root.crl!.level, 'ok');
  assert.deepEqual([servers.certificates.issued, servers.certificates.revoked, servers.certificates.total], [1, 1, 2]);
  // A CRL just signed is ok: CRL levels follow the profile's overlap, not the day thresholds.
  assert.equal(servers.crl!.level, 'ok');
  assert.equal(servers.level, 'ok');
  assert.equal(s.level, 'ok');
  assert.ok(servers.problems.length === 0, servers.problems.join('\n'));
});

test('warn inside the overlap window, alarm in its last quarter and after nextUpdate; exit 0 unless --check', async () => {
  // servers' CRL: nextUpdate = crlAt + 30 d, overlap 7 d: ok at +22 d, warn at +24 d, alarm at +29 d.
  assert.equal(byName(await statusAt(crlAt + 22 * DAY), 'servers').crl!.level, 'ok');
  const warn = byName(await statusAt(crlAt + 24 * DAY), 'servers');
  assert.equal(warn.crl!.level, 'warn');
  assert.ok(warn.crl!.daysToNextUpdate === 5 || warn.crl!.daysToNextUpdate === 6, String(warn.crl!.daysToNextUpdate));
  assert.ok(warn.problems.some((p) => p.includes('ca crl --due')), warn.problems.join('\n'));
  const alarmAt = crlAt + 29 * DAY;
  const alarm = await statusAt(alarmAt);
  assert.equal(byName(alarm, 'servers').crl!.level, 'alarm');
  assert.equal(byName(alarm, 'root').crl!.level, 'ok');
  assert.equal(alarm.level, 'alarm');
  assert.ok(byName(alarm, 'servers').problems.some((p) => p.includes('ca crl --issuer servers')));

  const expired = byName(await statusAt(crlAt + 31 * DAY), 'servers');
  assert.equal(expired.crl!.level, 'alarm');
  assert.ok(expired.crl!.daysToNextUpdate < 0);
  assert.ok(expired.problems.some((p) => /expired/.test(p)));

  // Exit codes: 0 with alarms by default; --check: 2 on alarm, 1 on warn, 0 when ok.
  const plain = await caAt(alarmAt, 'status');
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /servers .*ALARM/);
  const check = await caAt(alarmAt, 'status', '--check');
  assert.equal(check.code, 2, check.stderr);
  assert.match(check.stderr, /STATUS_ALARM.*servers/);
  const checkWarn = await caAt(crlAt + 24 * DAY, 'status', '--check');
  assert.equal(checkWarn.code, 1, checkWarn.stderr);
  assert.match(checkWarn.stderr, /STATUS_WARN.*servers/);
  const checkOk = await caAt(crlAt + 22 * DAY, 'status', '--check');
  assert.equal(checkOk.code, 0, checkOk.stderr);
});

test('colour only on a terminal, never with NO_COLOR', async () => {
  const runIn = async (isTTY: boolean, env: Record<string, string | undefined>, extra: string[] = []): Promise<{ code: number; out: string }> => {
    const stdout = Object.assign(new PassThrough(), { isTTY });
    const stderr = new PassThrough();
    let out = '';
    stdout.on('data', (d: Buffer) => (out += d.toString()));
    const ctx: CliContext = { stdout, stderr, stdin: new PassThrough(), env, cwd: dir, now: () => new Date(crlAt + 29 * DAY) };
    const code = await main(['status', '--home', home, ...extra], ctx);
    return { code, out };
  };
  const tty = await runIn(true, {});
  assert.equal(tty.code, 0);
  assert.match(tty.out, /\x1b\[1;31mALARM\x1b\[0m/);
  const pipe = await runIn(false, {});
  assert.doesNotMatch(pipe.out, /\x1b\[/);
  assert.match(pipe.out, /ALARM/);
  const noColour = await runIn(true, { NO_COLOR: '1' });
  assert.doesNotMatch(noColour.out, /\x1b\[/);
  const json = await runIn(true, {}, ['--json']);
  assert.doesNotMatch(json.out, /\x1b\[/);
  assert.equal((JSON.parse(json.out) as StatusJson).level, 'alarm');
});
