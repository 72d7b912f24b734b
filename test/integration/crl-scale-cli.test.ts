/**
 * Issue #14 item 3, through the real CLI, pcscd and an emulated SmartCard-HSM (vpcd ports
 * 35963/35964): a CRL far past the old limits (asn1js's 10,000-node parse cap ≈ 2,000 entries;
 * 1 GB at 100,000) is signed by the card, stored, and accepted by OpenSSL:
 *   - `openssl crl -verify` against the issuing CA certificate;
 *   - `openssl verify -crl_check` refuses the one real certificate revoked among the entries.
 * The bulk of the entries comes from the test-only generator (test/helpers/scale-fill.ts).
 * 200,000 entries keep this file's run time modest; bench/scale.ts shows 1,000,000
 * (CARDCA_SCALE_CRL_ENTRIES overrides the count here).
 */
import { after, before, test } from 'node:test';
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmulatorProcess } from '../helpers/emulator-process.js';
import { BIN, expectOk, runCommand, type Run } from '../helpers/run-command.js';
import { initTwoCardHome } from '../helpers/two-card-home.js';
import { fillScale } from '../helpers/scale-fill.js';
import { openDatabase } from '../../src/db/database.js';
import { SqliteStore } from '../../src/db/sqlite-store.js';
import { pemEncode } from '../../src/ca/chain.js';

const ENTRIES = Number(process.env['CARDCA_SCALE_CRL_ENTRIES'] ?? 200_000);
let dir: string;
let home: string;
let pin: string;
let rootEmu: EmulatorProcess;
let subEmu: EmulatorProcess;

const ca = (...args: string[]): Promise<Run> => runCommand(process.execPath, [BIN, ...args, '--home', home], { timeoutMs: 600_000 });
const run = (cmd: string, args: string[]): Promise<Run> => runCommand(cmd, args, { timeoutMs: 600_000 });
const ok = expectOk;

before(async () => {
  ({ dir, home, pin, rootEmu, subEmu } = await initTwoCardHome('cardca-crl-scale-', [35963, 35964]));
  ok(await ca('ceremony', 'root', '--card', rootEmu.serial, '--pin-file', pin, '--yes'), 'ceremony root');
  ok(await ca('ceremony', 'subca', 'servers', '--card', subEmu.serial, '--pin-file', pin, '--issuer-pin-file', pin, '--yes'), 'ceremony servers');
});

after(async () => {
  await rootEmu?.stop();
  await subEmu?.stop();
});

test(`a CRL of ${ENTRIES + 1} entries is signed by the card and accepted by openssl crl -verify; openssl verify -crl_check refuses a revoked certificate`, async () => {
  const csr = join(dir, 'web.csr');
  ok(await run('openssl', ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', join(dir, 'web.key'), '-subj', '/CN=web.example.test', '-addext', 'subjectAltName=DNS:web.example.test', '-out', csr]), 'openssl req');
  ok(await ca('sign', csr, '--issuer', 'servers', '--profile', 'tls-server', '--pin-file', pin, '--out', join(dir, 'web.crt')), 'sign');
  const [web] = JSON.parse(ok(await ca('list', '--issuer', 'servers', '--json'), 'list').stdout) as { serial: string }[];
  ok(await ca('revoke', web!.serial, '--reason', 'keyCompromise'), 'revoke');

  const store = new SqliteStore(openDatabase(join(home, 'ca.db')));
  try {
    fillScale(store, { issuer: 'servers', count: ENTRIES, revoked: ENTRIES, now: new Date() });
    for (const name of ['root', 'servers']) writeFileSync(join(dir, `${name}.pem`), pemEncode(store.getCa(name)!.certificate!, 'CERTIFICATE'));
  } finally {
    store.db.close();
  }

  const signed = ok(await ca('crl', '--issuer', 'servers', '--pin-file', pin, '--out', join(dir, 'servers.crl')), 'crl');
  assert.match(signed.stdout, new RegExp(`CRL #1 of servers: ${ENTRIES + 1} entries`), signed.stdout);
  const status = JSON.parse(ok(await ca('status', '--json'), 'status').stdout) as { cas: { name: string; crl: { number: string; entries: number } | null; certificates: { revoked: number; total: number } }[] };
  const servers = status.cas.find((c) => c.name === 'servers')!;
  assert.deepEqual({ crl: servers.crl?.entries, revoked: servers.certificates.revoked }, { crl: ENTRIES + 1, revoked: ENTRIES + 1 });

  const crlFile = join(dir, 'servers.crl');
  const verified = await run('openssl', ['crl', '-in', crlFile, '-CAfile', join(dir, 'servers.pem'), '-noout', '-verify']);
  assert.equal(verified.code, 0, verified.stderr);
  assert.match(verified.stderr + verified.stdout, /verify OK/);
  // The CRL really holds the entries: count them from openssl's own rendering.
  const text = await runCommand('sh', ['-c', `openssl crl -in '${crlFile}' -noout -text | grep -c 'Serial Number:'`], { timeoutMs: 600_000 });
  assert.equal(Number(text.stdout.trim()), ENTRIES + 1);

  writeFileSync(join(dir, 'chain.pem'), readFileSync(join(dir, 'root.pem'), 'utf8') + readFileSync(join(dir, 'servers.pem'), 'utf8'));
  const refused = await run('openssl', ['verify', '-crl_check', '-CAfile', join(dir, 'chain.pem'), '-CRLfile', crlFile, join(dir, 'web.crt')]);
  assert.notEqual(refused.code, 0, refused.stdout);
  assert.match(refused.stdout + refused.stderr, /certificate revoked/);
});

/** Peak resident memory of a running process (VmHWM, proc(5)), in MB. */
function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/**
 * `ca list --json | jq …` over the rows filled above: the list is written as fast as the reader
 * takes it, not gathered in memory. Before, the rows were written in one synchronous loop that
 * ignored back-pressure: into a pipe, every row queued in the process (≈ 0.5 KB each), and at
 * 2,000,000 rows piped to sha256sum the write failed with ENOBUFS. Here the reader takes
 * nothing for 3 s, then everything; the process must not have grown by the size of its output.
 */
test('ca list --json into a pipe that is read slowly: bounded memory, complete output', { skip: process.platform !== 'linux' }, async () => {
  const child = spawn(process.execPath, [BIN, 'list', '--json', '--home', home], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.pause();
  await new Promise((r) => setTimeout(r, 3000));
  const heldMb = peakRssMb(child.pid!);
  const chunks: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => chunks.push(d));
  child.stdout.resume();
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.equal(code, 0, stderr);
  const out = Buffer.concat(chunks);
  const rows = JSON.parse(out.toString('utf8')) as unknown[];
  assert.ok(rows.length >= ENTRIES + 1, `${rows.length} rows listed`);
  const outMb = out.length / 2 ** 20;
  assert.ok(heldMb < 150, `peak memory while the reader waited: ${heldMb.toFixed(0)} MB (the output is ${outMb.toFixed(0)} MB)`);
});
