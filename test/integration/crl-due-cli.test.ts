/**
 * Issue 16 item 4, "CRLs that never lapse by surprise", through the real CLI and pcscd (vpcd
 * ports 35963/35964: root on card A, servers + clients on card B):
 *   - `ca status --check` right after the CRLs are signed exits 0 and prints no warning; with the
 *     clock in the overlap window it exits 1 (STATUS_WARN), in the window's last quarter and past
 *     nextUpdate 2 (STATUS_ALARM) — once with the injected CA clock (`CA_FAKE_NOW`) and once with
 *     the process clock moved by faketime;
 *   - `ca crl --due` signs exactly the CRLs inside their window, card by card, with one "crl"
 *     transcript for the batch, and does nothing when none is due;
 *   - `ca export crl --all` then carries the fresh CRLs (parsed back by openssl).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EmulatorProcess } from '../helpers/emulator-process.js';
import { BIN, expectOk, runCommand, type Run } from '../helpers/run-command.js';
import { initTwoCardHome } from '../helpers/two-card-home.js';
import { faketimeSpec } from '../helpers/validators.js';

const DAY = 86_400_000;
let dir: string;
let home: string;
let pin: string;
let rootEmu: EmulatorProcess;
let subEmu: EmulatorProcess;
let crlAt: number;

const ca = (...args: string[]): Promise<Run> => runCommand(process.execPath, [BIN, ...args, '--home', home]);
const caAt = (at: number, ...args: string[]): Promise<Run> =>
  runCommand(process.execPath, [BIN, ...args, '--home', home], { env: { CA_FAKE_NOW: new Date(at).toISOString() } });
const ok = expectOk;

interface StatusJson {
  level: string;
  cas: { name: string; crl: { number: string; level: string; dueFrom?: string; alarmFrom?: string } | null; problems: string[] }[];
}
const status = async (at: number): Promise<StatusJson> => JSON.parse(ok(await caAt(at, 'status', '--json'), 'status --json').stdout) as StatusJson;
const crlNumbers = (s: StatusJson): Record<string, string | undefined> => Object.fromEntries(s.cas.map((c) => [c.name, c.crl?.number]));
const transcripts = async (): Promise<string[]> => (await readdir(join(home, 'ceremonies')).catch(() => [] as string[])).filter((f) => f.endsWith('.md'));

before(async () => {
  ({ dir, home, pin, rootEmu, subEmu } = await initTwoCardHome('cardca-crl-due-', [35963, 35964]));
  ok(await ca('ceremony', 'root', '--card', rootEmu.serial, '--pin-file', pin, '--yes'), 'ceremony root');
  for (const s of ['servers', 'clients']) {
    ok(await ca('ceremony', 'subca', s, '--card', subEmu.serial, '--pin-file', pin, '--issuer-pin-file', pin, '--yes'), `ceremony ${s}`);
  }
  crlAt = Date.now();
  for (const s of ['root', 'servers', 'clients']) ok(await ca('crl', '--issuer', s, '--pin-file', pin), `crl ${s}`);
});

after(async () => {
  await rootEmu?.stop();
  await subEmu?.stop();
});

test('status --check right after signing: exit 0, no warning; every CRL ok with its overlap window shown', async () => {
  const r = ok(await ca('status', '--check'), 'status --check');
  assert.equal(r.code, 0);
  assert.doesNotMatch(r.stdout, /WARN|ALARM|!/, r.stdout);
  assert.equal(r.stderr, '');
  const s = await status(Date.now());
  assert.equal(s.level, 'ok');
  const servers = s.cas.find((c) => c.name === 'servers')!.crl!;
  // servers.yaml: crl { validity: P30D, overlap: P7D } → due 23 days after signing.
  const dueIn = new Date(servers.dueFrom!).getTime() - crlAt;
  assert.ok(Math.abs(dueIn - 23 * DAY) < 10 * 60_000, `dueFrom ${servers.dueFrom}`);
});

test('status --check: 1 inside the overlap window, 2 in its last quarter and past nextUpdate (CA clock)', async () => {
  const inWindow = await caAt(crlAt + 24 * DAY, 'status', '--check');
  assert.equal(inWindow.code, 1, inWindow.stdout + inWindow.stderr);
  assert.match(inWindow.stderr, /STATUS_WARN.*clients.*servers|STATUS_WARN.*servers.*clients/);
  assert.match(inWindow.stdout, /ca crl --due/);
  const lastQuarter = await caAt(crlAt + 29 * DAY, 'status', '--check');
  assert.equal(lastQuarter.code, 2, lastQuarter.stderr);
  assert.match(lastQuarter.stderr, /STATUS_ALARM/);
  const expired = await caAt(crlAt + 31 * DAY, 'status', '--check');
  assert.equal(expired.code, 2, expired.stderr);
  assert.match(expired.stdout, /expired/);
});

test('status --check under faketime: the process clock moved into the window exits 1, past nextUpdate 2', async () => {
  const under = (at: number): Promise<Run> =>
    runCommand('faketime', ['-f', faketimeSpec(new Date(at)), process.execPath, BIN, 'status', '--check', '--home', home], { env: { TZ: 'UTC' } });
  assert.equal((await under(crlAt + 60_000)).code, 0);
  const w = await under(crlAt + 24 * DAY);
  assert.equal(w.code, 1, w.stdout + w.stderr);
  const a = await under(crlAt + 31 * DAY);
  assert.equal(a.code, 2, a.stdout + a.stderr);
});

test('crl --due signs only the due CRLs (both sub-CAs on card B), one transcript; then nothing is due', async () => {
  const before = await transcripts();
  const at = crlAt + 24 * DAY;
  const r = ok(await caAt(at, 'crl', '--due', '--pin-file', pin), 'crl --due');
  assert.match(r.stdout, /2 CRL\(s\) due on 1 card\(s\)/);
  assert.match(r.stdout, /CRL #2 of servers/);
  assert.match(r.stdout, /CRL #2 of clients/);
  assert.doesNotMatch(r.stdout, /of root/);
  assert.deepEqual(crlNumbers(await status(at)), { root: '1', servers: '2', clients: '2' });
  const added = (await transcripts()).filter((f) => !before.includes(f));
  assert.equal(added.length, 1, added.join(', '));
  const md = await readFile(join(home, 'ceremonies', added[0]!), 'utf8');
  assert.match(md, /servers \\?#2/);
  assert.match(md, /clients \\?#2/);
  // Right after the sitting everything is ok again, and a second run has nothing to do.
  assert.equal((await caAt(at, 'status', '--check')).code, 0);
  const again = ok(await caAt(at, 'crl', '--due', '--pin-file', pin), 'crl --due (nothing due)');
  assert.match(again.stdout, /no CRL is due; the next is/);
  assert.equal((await transcripts()).length, before.length + 1);
});

test('crl --due with CRLs of both cards due asks for each card in turn; export crl --all carries the fresh CRLs', async () => {
  // Root: P180D / P30D → due from day 150. At day 160 the sub-CA CRLs (#2, signed on day 24) are expired.
  const at = crlAt + 160 * DAY;
  const r = ok(await caAt(at, 'crl', '--due', '--pin-file', pin), 'crl --due');
  assert.match(r.stdout, /3 CRL\(s\) due on 2 card\(s\)/);
  assert.deepEqual(crlNumbers(await status(at)), { root: '2', servers: '3', clients: '3' });
  const md = await readFile(join(home, 'ceremonies', (await transcripts()).sort().at(-1)!), 'utf8');
  assert.ok(md.includes(rootEmu.serial) && md.includes(subEmu.serial), 'both cards in the transcript');

  const out = join(dir, 'stick');
  ok(await caAt(at, 'export', 'crl', '--all', '--format', 'der', '--out', `${out}/`), 'export crl --all');
  for (const [name, n] of [['root', 2], ['servers', 3], ['clients', 3]] as const) {
    const t = ok(await runCommand('openssl', ['crl', '-inform', 'DER', '-in', join(out, `${name}.crl`), '-noout', '-crlnumber', '-nextupdate']), `openssl crl ${name}`);
    assert.match(t.stdout, new RegExp(`crlNumber=(0x)?0*${n}\\b`), t.stdout);
  }
});
