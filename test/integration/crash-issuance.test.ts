/**
 * Kill-point tests of the issuance and CRL cycles (ca-invariants.md §1.5, §3.2 "Crash (SIGKILL)
 * between card signing and DB commit, or at any other stage"), through the real CLI with two
 * virtual SmartCard-HSMs behind pcscd (vpcd ports 35967 = root card, 35968 = sub-CA card).
 *
 * For each named crash point (src/ca/crash-points.ts) `ca sign` / `ca crl` runs with
 * `CA_CRASHPOINT=<point>` and dies by SIGKILL there; then a normal command runs and the
 * invariants are checked against the card-side truth: the emulator's persistent signature
 * counter and its APDU log. Every signature the sub-CA card made must be the signature of a TBS
 * the database holds as issued / outcome_unknown (certificates) or issued / outcome_unknown (CRLs);
 * no row stays `reserved`; serials and CRL numbers are never reused; `PRAGMA integrity_check`,
 * `ca db check` and `ca audit verify` pass; an outcome_unknown serial is on the next CRL.
 */
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

/** Run `ca ARGS --home HOME` (extra env), reporting the exit code or the killing signal. */
function ca(args: readonly string[], env: Record<string, string> = {}): Promise<Exit> {
  return new Promise((res) => {
    execFile(
      process.execPath,
      [BIN, ...args, '--home', home],
      { timeout: 60_000, maxBuffer: 8 << 20, env: { ...process.env, NO_COLOR: '1', ...env } },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: unknown; signal?: NodeJS.Signals | null }) | null;
        res({
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          signal: e?.signal ?? null,
          stdout: String(stdout),
          stderr: String(stderr),
        });
      },
    );
  });
}

function ok(r: Exit, what: string): Exit {
  assert.equal(r.code, 0, `${what} failed (code ${r.code}, signal ${r.signal}):\n${r.stderr}\n${r.stdout}`);
  return r;
}

function killed(r: Exit, what: string): void {
  assert.equal(r.signal, 'SIGKILL', `${what}: expected death by SIGKILL, got code ${r.code}:\n${r.stderr}\n${r.stdout}`);
}

let dir: string;
let home: string;
let pin: string;
let rootEmu: EmulatorProcess;
let subEmu: EmulatorProcess;
let csrCounter = 0;

function openssl(args: readonly string[]): Promise<void> {
  return new Promise((res, rej) => execFile('openssl', args, { timeout: 30_000 }, (err, _o, stderr) => (err ? rej(new Error(`openssl ${args[0]}: ${stderr}`)) : res())));
}

async function newCsr(): Promise<string> {
  const name = `crash${++csrCounter}`;
  const out = join(dir, `${name}.csr`);
  const cn = `${name}.example.test`;
  await openssl(['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', join(dir, `${name}.key`), '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`, '-out', out]);
  return out;
}

const sign = (csr: string, out: string, env: Record<string, string> = {}, ...extra: string[]): Promise<Exit> =>
  ca(['sign', csr, '--issuer', 'servers', '--profile', 'tls-server', '--pin-file', pin, '--reader', subEmu.readerName, '--out', out, ...extra], env);
const crl = (env: Record<string, string> = {}): Promise<Exit> => ca(['crl', '--issuer', 'servers', '--pin-file', pin, '--reader', subEmu.readerName], env);

function withDb<T>(fn: (db: Database.Database) => T): T {
  const db = new Database(join(home, 'ca.db'), { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

interface CertRow {
  serial_hex: string;
  status: string;
  subject: string;
  tbs: Buffer;
}

function certRows(): CertRow[] {
  return withDb((db) => db.prepare("SELECT c.serial_hex, c.status, c.subject, c.tbs FROM certificates c JOIN cas i ON i.id = c.issuer_id WHERE i.name = 'servers' ORDER BY c.id").all() as CertRow[]);
}

function rowFor(csr: string): CertRow[] {
  const cn = `${csr.replace(/^.*\//, '').replace(/\.csr$/, '')}.example.test`;
  return certRows().filter((r) => r.subject.includes(cn));
}

const hashes = (tbs: Buffer): string[] =>
  [tbs.toString('hex'), createHash('sha256').update(tbs).digest('hex'), createHash('sha384').update(tbs).digest('hex')].map((h) => h.toUpperCase());

/** Card-side truth: the persistent counter, and the data of every successful SIGN (INS 68) in the APDU log. */
function cardSignatures(): { count: number; signed: string[] } {
  const state = JSON.parse(readFileSync(subEmu.stateFile, 'utf8')) as { signatureCount: number };
  const signed = readFileSync(subEmu.apduLogFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { command: string; response: string })
    .filter((e) => e.command.slice(2, 4) === '68' && e.response.endsWith('9000'))
    .map((e) => e.command);
  return { count: state.signatureCount, signed };
}

/**
 * The invariants after recovery: no `reserved` row; integrity_check ok; every signature the
 * sub-CA card made (since the baseline) is over the TBS of a certificate issued/revoked/
 * outcome_unknown or of a CRL issued/outcome_unknown, and the counter agrees with the log.
 */
function assertInvariants(baseline: { count: number; logged: number }): void {
  withDb((db) => {
    assert.deepEqual(db.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
    assert.equal((db.prepare("SELECT count(*) AS n FROM certificates WHERE status = 'reserved'").get() as { n: number }).n, 0, 'no certificate left reserved');
    assert.equal((db.prepare("SELECT count(*) AS n FROM crls WHERE status = 'reserved'").get() as { n: number }).n, 0, 'no CRL left reserved');
    assert.equal((db.prepare('SELECT count(*) AS n FROM (SELECT serial_hex FROM certificates GROUP BY issuer_id, serial_hex HAVING count(*) > 1)').get() as { n: number }).n, 0);
    const certTbs = (db.prepare("SELECT tbs FROM certificates WHERE status IN ('issued', 'revoked', 'outcome_unknown')").all() as { tbs: Buffer }[]).map((r) => r.tbs);
    // A CRL's TBS is in crl_tbs, or (migration 11) in its own file crl-tbs/<id>-<tbs_sha256>.tbs,
    // which must exist and be the TBS its intent hashed for every CRL the card may have signed.
    const crlTbs = (
      db
        .prepare("SELECT l.id, l.tbs_sha256, t.tbs, f.length FROM crls l LEFT JOIN crl_tbs t ON t.crl_id = l.id LEFT JOIN crl_tbs_files f ON f.crl_id = l.id WHERE l.status IN ('issued', 'outcome_unknown')")
        .all() as { id: number; tbs_sha256: Buffer; tbs: Buffer | null; length: number | null }[]
    ).map((r) => {
      const tbs = r.tbs ?? readFileSync(join(home, 'crl-tbs', `${r.id}-${r.tbs_sha256.toString('hex')}.tbs`));
      assert.deepEqual(createHash('sha256').update(tbs).digest(), r.tbs_sha256, `CRL row ${r.id}: the stored TBS is the one its intent hashed`);
      if (r.tbs === null) assert.equal(tbs.length, r.length);
      return tbs;
    });
    const known = [...certTbs, ...crlTbs].map(hashes);
    const card = cardSignatures();
    const since = card.signed.slice(baseline.logged);
    assert.equal(card.count - baseline.count, since.length, 'signature counter agrees with the SIGN responses in the APDU log');
    for (const cmd of since) {
      assert.ok(
        known.some((hs) => hs.some((h) => cmd.includes(h))),
        `the card signed data the database does not hold as issued/outcome_unknown: ${cmd.slice(0, 80)}…`,
      );
    }
  });
}

function baseline(): { count: number; logged: number } {
  const c = cardSignatures();
  return { count: c.count, logged: c.signed.length };
}

before(async () => {
  ({ dir, home, pin, rootEmu, subEmu } = await initTwoCardHome('cardca-crash-', [35967, 35968]));
  ok(await ca(['ceremony', 'root', '--card', rootEmu.serial, '--reader', rootEmu.readerName, '--pin-file', pin, '--yes']), 'ceremony root');
  ok(await ca(['ceremony', 'subca', 'servers', '--card', subEmu.serial, '--reader', subEmu.readerName, '--pin-file', pin, '--issuer-card', rootEmu.serial, '--issuer-pin-file', pin, '--yes']), 'ceremony subca');
});

after(async () => {
  await rootEmu?.stop();
  await subEmu?.stop();
});

const unknownSerials: string[] = [];
const allSerials = new Set<string>();

test('SIGKILL at issuance-after-reserve: the intent is durable, the card was never asked; recovery abandons it and the same CSR is signed again', async () => {
  const base = baseline();
  const csr = await newCsr();
  const out = join(dir, 'after-reserve.crt');
  killed(await sign(csr, out, { CA_CRASHPOINT: 'issuance-after-reserve' }), 'ca sign at issuance-after-reserve');
  assert.equal(existsSync(out), false, 'no certificate file');
  const [row] = rowFor(csr);
  assert.equal(row?.status, 'reserved', 'TX1 was committed before the crash');
  assert.equal(cardSignatures().count - base.count, 0, 'the card was not asked');
  for (const s of certRows()) allSerials.add(s.serial_hex);
  // Reserved by `ca sign` as a queued batch row (migration 7), never marked sent: certainly unsigned.
  const check = ok(await ca(['db', 'check']), 'db check after the crash');
  assert.match(check.stderr, /recovered 1 certificate and 0 CRL reservation\(s\).*0 outcome_unknown.*1 abandoned \(the card was never asked/);
  assert.equal(rowFor(csr)[0]?.status, 'abandoned');
  ok(await ca(['audit', 'verify', '--pin-file', pin]), 'audit verify');
  assertInvariants(base);
  // The same CSR again is simply signed (a new serial; the abandoned one stays burnt and off the CRL).
  ok(await sign(csr, out), 'the same command again');
  const rows = rowFor(csr);
  assert.deepEqual(rows.map((r) => r.status), ['abandoned', 'issued']);
  assert.equal(allSerials.has(rows[1]!.serial_hex), false, 'the new serial was never used before');
  allSerials.add(rows[1]!.serial_hex);
  assert.ok(existsSync(out));
  assertInvariants(base);
});

for (const point of ['issuance-after-sent', 'issuance-after-sign'] as const) {
  test(`SIGKILL at ${point}: the serial becomes outcome_unknown, never reused; card and database agree`, async () => {
    const base = baseline();
    const csr = await newCsr();
    const out = join(dir, `${point}.crt`);
    killed(await sign(csr, out, { CA_CRASHPOINT: point }), `ca sign at ${point}`);
    assert.equal(existsSync(out), false, 'no certificate file');
    // Intent before signature: the reservation is committed (TX1) whatever the card did.
    const [row] = rowFor(csr);
    assert.equal(row?.status, 'reserved', 'TX1 was committed before the crash');
    const card = cardSignatures();
    assert.equal(card.count - base.count, point === 'issuance-after-sent' ? 0 : 1, 'card signatures at this point');
    for (const s of certRows()) allSerials.add(s.serial_hex);

    // The next writing command recovers the row and says so; db check names the state.
    const check = ok(await ca(['db', 'check']), 'db check after the crash');
    assert.match(check.stderr, /recovered 1 certificate and 0 CRL reservation\(s\).*1 outcome_unknown.*0 abandoned/);
    assert.match(check.stdout, new RegExp(`note: certificate servers/${row!.serial_hex} is outcome_unknown`));
    assert.equal(rowFor(csr)[0]?.status, 'outcome_unknown');
    unknownSerials.push(row!.serial_hex);
    ok(await ca(['audit', 'verify', '--pin-file', pin]), 'audit verify');
    assertInvariants(base);

    // The same CSR again: named with its outcome_unknown serial and not signed (issue #8 item 8) ...
    const plain = await sign(csr, out);
    assert.equal(plain.code, 5, plain.stderr);
    assert.match(plain.stderr, new RegExp(`CSR_OUTCOME_UNKNOWN.*serial ${row!.serial_hex}`));
    assert.equal(rowFor(csr).length, 1, 'nothing reserved without --reissue');
    // ... and with --reissue: a fresh serial, the burnt one stays burnt.
    ok(await sign(csr, out, {}, '--reissue'), 'sign again --reissue');
    const rows = rowFor(csr);
    assert.equal(rows.length, 2);
    assert.equal(rows[1]!.status, 'issued');
    assert.equal(allSerials.has(rows[1]!.serial_hex), false, 'the new serial was never used before');
    allSerials.add(rows[1]!.serial_hex);
    assert.ok(existsSync(out));
    assertInvariants(base);
  });
}

test('SIGKILL at issuance-after-commit: issued in the database, no file; the certificate is recoverable with `ca show --pem`', async () => {
  const base = baseline();
  const csr = await newCsr();
  const out = join(dir, 'after-commit.crt');
  killed(await sign(csr, out, { CA_CRASHPOINT: 'issuance-after-commit' }), 'ca sign at issuance-after-commit');
  assert.equal(existsSync(out), false, 'the crash came before the file was written');
  const [row] = rowFor(csr);
  assert.equal(row?.status, 'issued');
  assert.equal(cardSignatures().count - base.count, 1);
  const check = ok(await ca(['db', 'check']), 'db check');
  assert.doesNotMatch(check.stderr, /recovered/);
  assert.doesNotMatch(check.stdout, new RegExp(`${row!.serial_hex} is outcome_unknown`));
  assertInvariants(base);
  const shown = ok(await ca(['show', row!.serial_hex, '--pem']), 'show --pem');
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(shown.stdout)?.[0];
  assert.ok(pem, 'show --pem prints the certificate');
  writeFileSync(out, pem + '\n');
  const text = await new Promise<string>((res, rej) =>
    execFile('openssl', ['x509', '-in', out, '-noout', '-serial'], (err, stdout) => (err ? rej(err) : res(stdout))),
  );
  assert.equal(text.trim(), `serial=${row!.serial_hex}`);
  // The identical command again just finishes the job (issue #8 item 8): the certificate is
  // reported and written out, nothing new is reserved or signed.
  rmSync(out);
  const again = ok(await sign(csr, out), 'the same command again');
  assert.match(again.stderr, new RegExp(`already issued by servers as serial ${row!.serial_hex}`));
  assert.ok(existsSync(out));
  assert.equal(rowFor(csr).length, 1);
  assert.equal(cardSignatures().count - base.count, 1, 'no second signature');
  allSerials.add(row!.serial_hex);
});

test('SIGKILL with the CRL TBS file durable, its reservation not committed: nothing reserved, the orphan file noted, then removed by the next ca crl', async () => {
  const base = baseline();
  const numbers = (): number[] =>
    withDb((db) => (db.prepare("SELECT l.crl_number FROM crls l JOIN cas i ON i.id = l.issuer_id WHERE i.name = 'servers' ORDER BY l.crl_number").all() as { crl_number: number }[]).map((r) => r.crl_number));
  const tbsDir = join(home, 'crl-tbs');
  const files = (): string[] => (existsSync(tbsDir) ? readdirSync(tbsDir).sort() : []);
  const before = numbers();
  const filesBefore = files();
  killed(await crl({ CA_CRASHPOINT: 'crl-tbs-durable' }), 'ca crl at crl-tbs-durable');
  assert.deepEqual(numbers(), before, 'the transaction that reserves the number never committed');
  assert.equal(cardSignatures().count - base.count, 0, 'the card was not asked');
  const orphans = files().filter((f) => !filesBefore.includes(f));
  assert.equal(orphans.length, 1, `one TBS file no row names: ${files().join(', ')}`);
  const checked = ok(await ca(['db', 'check']), 'db check with the orphan');
  assert.match(checked.stdout, new RegExp(`note: crl-tbs\/${orphans[0]!.replace('.', '\\.')}: no CRL row names it`));
  const r = ok(await crl(), 'ca crl after the crash');
  const next = Math.max(0, ...before) + 1;
  assert.match(r.stdout, new RegExp(`CRL #${next} of servers`), 'the number was never reserved, so it is the next one');
  // Every file left is a committed row's. (The orphan's name can come back: a reservation in
  // the same second as the crashed one writes the byte-identical TBS under the same name.)
  const committed = withDb((db) => (db.prepare('SELECT l.id, l.tbs_sha256 FROM crl_tbs_files f JOIN crls l ON l.id = f.crl_id').all() as { id: number; tbs_sha256: Buffer }[])
    .map((r) => `${r.id}-${r.tbs_sha256.toString('hex')}.tbs`).sort());
  assert.deepEqual(files(), committed, 'the orphan is gone: every TBS file is a committed row\'s');
  assert.doesNotMatch(ok(await ca(['db', 'check']), 'db check').stdout, /note: crl-tbs\//);
  ok(await ca(['audit', 'verify', '--pin-file', pin]), 'audit verify');
  assertInvariants(base);
});

for (const point of ['crl-after-reserve', 'crl-after-sign'] as const) {
  test(`SIGKILL at ${point}: the CRL number is burnt, the next CRL gets a higher one`, async () => {
    const base = baseline();
    const numbers = (): { crl_number: number; status: string }[] =>
      withDb((db) => db.prepare("SELECT l.crl_number, l.status FROM crls l JOIN cas i ON i.id = l.issuer_id WHERE i.name = 'servers' ORDER BY l.crl_number").all() as { crl_number: number; status: string }[]);
    const before = numbers();
    killed(await crl({ CA_CRASHPOINT: point }), `ca crl at ${point}`);
    const crashed = numbers().at(-1)!;
    assert.equal(crashed.status, 'reserved');
    assert.ok(before.every((b) => b.crl_number < crashed.crl_number));
    assert.equal(cardSignatures().count - base.count, point === 'crl-after-reserve' ? 0 : 1);
    const r = ok(await crl(), 'ca crl after the crash');
    assert.match(r.stderr, /recovered 0 certificate and 1 CRL reservation/);
    const after = numbers();
    assert.deepEqual(after.at(-2), { crl_number: crashed.crl_number, status: 'outcome_unknown' });
    assert.deepEqual(after.at(-1), { crl_number: crashed.crl_number + 1, status: 'issued' });
    assert.match(r.stdout, new RegExp(`CRL #${crashed.crl_number + 1} of servers`));
    ok(await ca(['db', 'check']), 'db check');
    ok(await ca(['audit', 'verify', '--pin-file', pin]), 'audit verify');
    assertInvariants(base);
  });
}

test('outcome_unknown serials are on the next CRL, and `ca revoke` records a reason for them', async () => {
  assert.equal(unknownSerials.length, 2, 'the issuance crash tests ran first');
  const base = baseline();
  ok(await ca(['revoke', unknownSerials[0]!, '--reason', 'keyCompromise']), 'revoke the outcome_unknown serial');
  ok(await crl(), 'ca crl');
  const text = await new Promise<string>((res, rej) =>
    execFile('openssl', ['crl', '-in', join(home, 'crl', 'servers.crl'), '-noout', '-text'], (err, stdout) => (err ? rej(err) : res(stdout))),
  );
  for (const s of unknownSerials) assert.match(text, new RegExp(`Serial Number: ${s}\\b`), `${s} on the CRL`);
  const revokedBlock = text.split('Serial Number: ').find((b) => b.startsWith(unknownSerials[0]!));
  assert.match(revokedBlock ?? '', /Key Compromise/);
  const check = ok(await ca(['db', 'check']), 'db check');
  assert.match(check.stdout, /database OK/);
  ok(await ca(['audit', 'verify', '--pin-file', pin]), 'audit verify');
  assertInvariants(base);
});

test('an unknown CA_CRASHPOINT is refused before anything happens', async () => {
  const base = baseline();
  const rowsBefore = certRows().length;
  const r = await sign(await newCsr(), join(dir, 'never.crt'), { CA_CRASHPOINT: 'no-such-point' });
  assert.equal(r.signal, null);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /CRASHPOINT_UNKNOWN/);
  assert.equal(certRows().length, rowsBefore);
  assert.equal(cardSignatures().count, base.count);
});
