/**
 * A record nobody can quietly rewrite (issue #8), through the real CLI on two emulated
 * SmartCard-HSMs (vpcd ports 35963/35964): an adversary with write access to the CA home edits
 * the database the way the issue describes, and each edit is caught —
 *   - tail truncation (triggers dropped, last rows deleted): `ca audit verify` with the card,
 *   - a rewritten record with the chain recomputed: `ca audit verify` with the card,
 *   - a deleted keyCompromise revocation (row moved to abandoned): `ca db check`,
 *   - a restored stale backup: `ca db restore` (DB_ROLLBACK), and after a forced restore `ca crl`
 *     does not reuse a CRL number.
 * Plus: the checkpoint is on the card as PIN-protected data object CD CA (copy in HOME/checkpoints/), and a production home
 * refuses an emulated card with CARD_EMULATED (issue #18 item 12).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BIN, expectOk, runCommand, type Run } from '../helpers/run-command.js';
import { initTwoCardHome, type TwoCardHome } from '../helpers/two-card-home.js';
import { canonicalJson, chainHash } from '../../src/db/audit-chain.js';

let t: TwoCardHome;
const ca = (home: string, ...args: string[]): Promise<Run> => runCommand(process.execPath, [BIN, ...args, '--home', home]);
let copies = 0;
/** A copy of the CA home to tamper with (the original stays intact for the next test). */
function copyHome(): string {
  const dst = join(t.dir, `copy-${++copies}`);
  cpSync(t.home, dst, { recursive: true });
  return dst;
}
function sql(home: string, fn: (db: Database.Database) => void): void {
  const db = new Database(join(home, 'ca.db'));
  try {
    fn(db);
  } finally {
    db.close();
  }
}

let revokedSerial: string;

before(async () => {
  t = await initTwoCardHome('cardca-trust-', [35963, 35964]);
  const h = t.home;
  expectOk(await ca(h, 'ceremony', 'root', '--card', t.rootEmu.serial, '--pin-file', t.pin, '--yes'), 'ceremony root');
  expectOk(await ca(h, 'ceremony', 'subca', 'servers', '--card', t.subEmu.serial, '--pin-file', t.pin, '--issuer-pin-file', t.pin, '--yes'), 'ceremony servers');
  for (const cn of ['a.example.test', 'b.example.test']) {
    const csr = join(t.dir, `${cn}.csr`);
    expectOk(await runCommand('openssl', ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', join(t.dir, `${cn}.key`), '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`, '-out', csr]), 'openssl req');
    expectOk(await ca(h, 'sign', csr, '--issuer', 'servers', '--profile', 'tls-server', '--pin-file', t.pin, '--out', join(t.dir, `${cn}.crt`)), 'sign');
  }
  const rev = expectOk(await ca(h, 'revoke', join(t.dir, 'b.example.test.crt'), '--reason', 'keyCompromise'), 'revoke');
  revokedSerial = /revoked ([0-9A-F]+)/.exec(rev.stdout)![1]!;
  expectOk(await ca(h, 'crl', '--issuer', 'servers', '--pin-file', t.pin), 'crl servers');
});

after(async () => {
  await t?.rootEmu.stop();
  await t?.subEmu.stop();
});

test('the checkpoint is on the signing card (PIN-protected CD CA) and beside the transcripts; status shows it', async () => {
  const copy = JSON.parse(readFileSync(join(t.home, 'checkpoints', `checkpoint-${t.subEmu.serial}.json`), 'utf8')) as { auditSeq: number; cas: Record<string, { crlNumber: string; serials: number }> };
  assert.equal(copy.cas['servers']!.crlNumber, '1');
  assert.equal(copy.cas['servers']!.serials, 2);
  const v = expectOk(await ca(t.home, 'audit', 'verify', '--card', t.subEmu.serial, '--pin-file', t.pin), 'audit verify with the card');
  assert.match(v.stdout, new RegExp(`matches the checkpoint from card ${t.subEmu.serial}.*audit #${copy.auditSeq} \\(crl servers #1`));
  // Reading it needs the PIN: a non-interactive run without --pin-file does not pass quietly
  // with the card check left out; it fails, naming the card and both ways on.
  const noPin = await ca(t.home, 'audit', 'verify');
  assert.equal(noPin.code, 2, noPin.stdout + noPin.stderr);
  assert.match(noPin.stderr, new RegExp(`USAGE_CHECKPOINT_PIN_REQUIRED.*card ${t.subEmu.serial}`));
  assert.match(noPin.stderr, /--pin-file FILE/);
  assert.match(noPin.stderr, /--skip-card-checkpoints/);
  assert.doesNotMatch(noPin.stdout, /audit log intact/);
  // Skipping the card is an explicit choice, and said where nobody misses it.
  const skipped = expectOk(await ca(t.home, 'audit', 'verify', '--skip-card-checkpoints'), 'audit verify --skip-card-checkpoints');
  assert.match(skipped.stdout, /audit log intact: .*card checkpoints NOT checked/);
  assert.match(skipped.stderr, new RegExp(`WARNING: .*card ${t.subEmu.serial}.*not compared`));
  const help = expectOk(await ca(t.home, 'audit', 'verify', '--help'), 'audit verify --help');
  assert.match(help.stdout, /--skip-card-checkpoints/);
  const st = JSON.parse(expectOk(await ca(t.home, 'status', '--json'), 'status').stdout) as { checkpoints: { card: string; auditSeq: number; recordsSince: number; onCard: boolean }[]; rehearsal: boolean };
  const sub = st.checkpoints.find((c) => c.card === t.subEmu.serial)!;
  assert.equal(sub.auditSeq, copy.auditSeq);
  assert.equal(sub.onCard, true);
  assert.ok(sub.recordsSince >= 1);
  assert.ok(st.checkpoints.some((c) => c.card === t.rootEmu.serial), 'the ceremonies wrote one to the root card too');
  assert.equal(st.rehearsal, true);
});

test('tail truncation (triggers dropped, last rows deleted) passes the chain check but not the card checkpoint', async () => {
  const h = copyHome();
  sql(h, (db) => {
    db.exec('DROP TRIGGER audit_no_delete');
    db.exec('DELETE FROM audit_log WHERE seq > (SELECT max(seq) - 6 FROM audit_log)');
  });
  expectOk(await ca(h, 'audit', 'verify', '--skip-card-checkpoints'), 'the hash chain alone cannot see a cut tail');
  const r = await ca(h, 'audit', 'verify', '--card', t.subEmu.serial, '--pin-file', t.pin);
  assert.equal(r.code, 14, r.stderr);
  assert.match(r.stderr, /CHECKPOINT_BEHIND.*records #\d+\.\.#\d+ are missing/);
  const f = await ca(h, 'audit', 'verify', '--checkpoint', join(t.home, 'checkpoints', `checkpoint-${t.subEmu.serial}.json`));
  assert.equal(f.code, 14, 'the binder copy detects it too');
});

test('a rewritten record with the chain recomputed is caught by the card checkpoint', async () => {
  const h = copyHome();
  sql(h, (db) => {
    db.exec('DROP TRIGGER audit_no_update');
    const rows = db.prepare('SELECT seq, at, event, ca, data, prev_hash FROM audit_log ORDER BY seq').all() as { seq: number; at: string; event: string; ca: string | null; data: string; prev_hash: Buffer }[];
    const target = rows.find((r) => r.event === 'certificate.revoked')!;
    let prev: Uint8Array = new Uint8Array(rows.find((r) => r.seq === target.seq)!.prev_hash);
    for (const r of rows.filter((x) => x.seq >= target.seq)) {
      const data = r.seq === target.seq ? canonicalJson({ ...(JSON.parse(r.data) as object), reason: 'superseded' }) : r.data;
      const hash = chainHash(prev, { seq: r.seq, at: r.at, event: r.event, ca: r.ca, data });
      db.prepare('UPDATE audit_log SET data = ?, prev_hash = ?, hash = ? WHERE seq = ?').run(data, Buffer.from(prev), Buffer.from(hash), r.seq);
      prev = hash;
    }
  });
  expectOk(await ca(h, 'audit', 'verify', '--skip-card-checkpoints'), 'a rehashed chain is self-consistent');
  const r = await ca(h, 'audit', 'verify', '--card', t.subEmu.serial, '--pin-file', t.pin);
  assert.equal(r.code, 14, r.stderr);
  assert.match(r.stderr, /CHECKPOINT_MISMATCH.*was rewritten/);
});

test('a deleted keyCompromise revocation (row moved to abandoned) is found by ca db check', async () => {
  const h = copyHome();
  sql(h, (db) => {
    db.exec('DROP TRIGGER revocations_no_delete; DROP TRIGGER certificates_status_forward;');
    const id = (db.prepare('SELECT id FROM certificates WHERE serial_hex = ?').get(revokedSerial) as { id: number }).id;
    db.prepare('DELETE FROM revocations WHERE certificate_id = ?').run(id);
    db.prepare("UPDATE certificates SET status = 'abandoned', der = NULL WHERE id = ?").run(id);
  });
  const r = await ca(h, 'db', 'check');
  assert.equal(r.code, 11, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`PROBLEM certificate servers/${revokedSerial}: status is abandoned, the audit log says revoked`));
  assert.match(r.stdout, /revokes it \(keyCompromise\), but its revocation row is missing/);
  expectOk(await ca(t.home, 'db', 'check'), 'the untouched home checks clean');
});

test('a stale backup is refused (DB_ROLLBACK); after a forced restore ca crl does not reuse a CRL number', async () => {
  const h = t.home;
  const backup = join(t.dir, 'before-crl2.db');
  const b = expectOk(await ca(h, 'db', 'backup', '--out', backup), 'db backup');
  assert.match(b.stdout, /SHA-256 [0-9a-f]{64}/);
  expectOk(await ca(h, 'crl', '--issuer', 'servers', '--pin-file', t.pin), 'crl #2');
  const refused = await ca(h, 'db', 'restore', backup, '--card', t.subEmu.serial, '--pin-file', t.pin);
  assert.equal(refused.code, 6, refused.stderr);
  assert.match(refused.stderr, /DB_ROLLBACK.*card .*CRL number is 1, the checkpoint's 2: CRLs 2\.\.2 are missing/);
  expectOk(await ca(h, 'audit', 'verify', '--pin-file', t.pin), 'a refused restore changed nothing');
  expectOk(await ca(h, 'db', 'restore', backup, '--allow-rollback'), 'forced restore');
  const crlFile = readFileSync(join(h, 'crl', 'servers.crl'));
  // The rolled-back database says #1 is the last CRL; the card and the copies say #2: refused.
  const behind = await ca(h, 'crl', '--issuer', 'servers', '--pin-file', t.pin);
  assert.equal(behind.code, 14, behind.stderr);
  assert.match(behind.stderr, /CHECKPOINT_CRL_NUMBER_BEHIND.*highest CRL number of servers is 1, but a checkpoint records 2/);
  assert.match(behind.stderr, new RegExp(`card ${t.subEmu.serial} \\(crl servers #2`), 'the signing card is named');
  assert.match(behind.stderr, new RegExp(`file .*checkpoint-${t.subEmu.serial}\\.json`), 'and the copy beside the transcripts');
  assert.match(behind.stderr, /ca crl --issuer servers --crl-number-above-checkpoint/, 'the hint names the option that exists');
  assert.deepEqual(readFileSync(join(h, 'crl', 'servers.crl')), crlFile, 'nothing was signed');
  const help = expectOk(await ca(h, 'crl', '--help'), 'crl --help');
  assert.match(help.stdout, /--crl-number-above-checkpoint/);
  const crl = expectOk(await ca(h, 'crl', '--issuer', 'servers', '--pin-file', t.pin, '--crl-number-above-checkpoint'), 'crl after the rollback');
  assert.match(crl.stdout, /CRL #3 of servers/, 'number 2 was seen by relying parties: never signed again');
  assert.match(crl.stderr, /the database was rolled back/);
  const log = JSON.parse(expectOk(await ca(h, 'audit', 'log', '--json'), 'audit log').stdout) as { event: string; data: { checkpointCrlNumber?: string } }[];
  assert.equal(log.filter((r) => r.event === 'crl.number-floor').at(-1)?.data.checkpointCrlNumber, '2', 'the override is audited');
  const text = expectOk(await runCommand('openssl', ['crl', '-in', join(h, 'crl', 'servers.crl'), '-noout', '-text']), 'openssl crl');
  assert.match(text.stdout, /X509v3 CRL Number:\s*\n\s*3\b/);
});

test('a sub-CA ceremony that failed after its first commit is finished by --resume (wrong issuer PIN, then wrong issuer card)', async () => {
  const h = t.home;
  const wrongPin = join(t.dir, 'wrong.pin');
  writeFileSync(wrongPin, '000000\n', { mode: 0o600 });
  const first = await ca(h, 'ceremony', 'subca', 'clients', '--card', t.subEmu.serial, '--pin-file', t.pin, '--issuer-pin-file', wrongPin, '--yes');
  assert.equal(first.code, 4, first.stderr); // PIN_INCORRECT on the root card, after the key was bound
  const again = await ca(h, 'ceremony', 'subca', 'clients', '--card', t.subEmu.serial, '--pin-file', t.pin, '--issuer-pin-file', t.pin, '--yes');
  assert.equal(again.code, 1, again.stderr);
  assert.match(again.stderr, /CA_EXISTS.*started but did not finish/);
  assert.match(again.stderr, /ca ceremony subca clients --resume/, 'the hint names the option that works');
  // Resume naming a wrong issuer card (the sub-CA card, already in use as the subject): it is
  // not found as the issuer, nothing is signed, and the ceremony stays resumable.
  const wrongCard = await ca(h, 'ceremony', 'subca', 'clients', '--resume', '--issuer-card', t.subEmu.serial, '--pin-file', t.pin, '--issuer-pin-file', t.pin, '--yes');
  assert.equal(wrongCard.code, 8, wrongCard.stderr);
  assert.match(wrongCard.stderr, /CARD_NOT_FOUND.*\(root \(issuer\)\)/);
  const done = expectOk(await ca(h, 'ceremony', 'subca', 'clients', '--resume', '--pin-file', t.pin, '--issuer-pin-file', t.pin, '--yes', '--json'), 'resume');
  const rec = JSON.parse(done.stdout) as { steps: { text: string }[]; keys: { keyId: string }[] };
  assert.ok(rec.steps.some((x) => /resumed: key .* is the one bound by the first run/.test(x.text)));
  const list = JSON.parse(expectOk(await ca(h, 'list', '--json'), 'list').stdout) as { issuer?: string; issuerName?: string; subject: string; status: string }[];
  assert.ok(list.length > 0);
  expectOk(await ca(h, 'db', 'check'), 'db check after resume');
  const chain = expectOk(await runCommand('openssl', ['verify', '-CAfile', join(h, 'certs', 'root.crt'), join(h, 'certs', 'clients.crt')]), 'openssl verify');
  assert.match(chain.stdout, /OK/);
  const nothing = await ca(h, 'ceremony', 'subca', 'users', '--resume', '--card', t.subEmu.serial, '--pin-file', t.pin, '--issuer-pin-file', t.pin, '--yes');
  assert.equal(nothing.code, 1, nothing.stderr);
  assert.match(nothing.stderr, /CA_NOTHING_TO_RESUME/);
});

test('re-running a killed ca sign batch finishes the job; outcome_unknown needs --reissue; no stale .tmp files', async () => {
  const h = t.home;
  const out = join(t.dir, 'batch-out');
  const csrs: string[] = [];
  for (const n of [1, 2, 3]) {
    const cn = `batch${n}.example.test`;
    const csr = join(t.dir, `batch${n}.csr`);
    expectOk(await runCommand('openssl', ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', join(t.dir, `batch${n}.key`), '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`, '-out', csr]), 'openssl req');
    csrs.push(csr);
  }
  const sign = (env: Record<string, string> = {}, ...extra: string[]) =>
    runCommand(process.execPath, [BIN, 'sign', ...csrs, '--issuer', 'servers', '--profile', 'tls-server', '--pin-file', t.pin, '--out', out, '--home', h, ...extra], { env });
  // Killed right after the commit that recorded the first certificate, before its file was
  // written. That commit also marked the next group, the second and third, "sent to the card"
  // (groups of 1, 2, 4, …: batch-issuance.ts), so either may have been signed: both
  // outcome_unknown, signed again only with --reissue.
  const killed = await sign({ CA_CRASHPOINT: 'issuance-after-commit' });
  assert.notEqual(killed.code, 0);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, '.batch2.crt.999999.0123456789ab.tmp'), 'half a certificate'); // what a kill mid-write leaves
  const rerun = await sign();
  assert.equal(rerun.code, 5, rerun.stderr);
  assert.match(rerun.stderr, /batch1\.csr: already issued by servers as serial ([0-9A-F]+).*written again/);
  assert.match(rerun.stderr, /batch2\.csr: NOT signed: .*outcome_unknown/);
  assert.match(rerun.stderr, /batch3\.csr: NOT signed: .*outcome_unknown/);
  assert.deepEqual(readdirSync(out).sort(), ['batch1.crt'], 'every certificate signed so far written, no .tmp left');
  expectOk(await sign({}, '--reissue'), 'sign --reissue');
  assert.deepEqual(readdirSync(out).sort(), ['batch1.crt', 'batch2.crt', 'batch3.crt']);
  // Killed after the card signed, before the commit: that serial is outcome_unknown.
  const csr4 = join(t.dir, 'batch4.csr');
  expectOk(await runCommand('openssl', ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', join(t.dir, 'batch4.key'), '-subj', '/CN=batch4.example.test', '-addext', 'subjectAltName=DNS:batch4.example.test', '-out', csr4]), 'openssl req');
  csrs.push(csr4);
  const killed2 = await runCommand(process.execPath, [BIN, 'sign', csr4, '--issuer', 'servers', '--profile', 'tls-server', '--pin-file', t.pin, '--out', out, '--home', h], { env: { CA_CRASHPOINT: 'issuance-after-sign' } });
  assert.notEqual(killed2.code, 0);
  const unknown = await sign();
  assert.equal(unknown.code, 5, unknown.stderr);
  assert.match(unknown.stderr, /CSR_OUTCOME_UNKNOWN.*batch4\.csr \(serial [0-9A-F]+\)/);
  assert.match(unknown.stderr, /--reissue/);
  assert.doesNotMatch(unknown.stderr, /allow key reuse/);
  const reissued = expectOk(await sign({}, '--reissue'), 'sign --reissue');
  assert.match(reissued.stderr, /batch4\.csr → .*batch4\.crt \(serial [0-9A-F]+\)/);
  assert.ok(readdirSync(out).includes('batch4.crt'));
  expectOk(await ca(h, 'db', 'check'), 'db check after the re-runs');
});

test('the issue\'s batch: `ca sign` of 8 CSRs killed when the card has signed the 5th (its sent group 4–7 not recorded), then the identical command, then --reissue', async () => {
  const h = t.home;
  const out = join(t.dir, 'batch8-out');
  const csrs: string[] = [];
  for (let n = 1; n <= 8; n++) {
    const cn = `b8-${n}.example.test`;
    const csr = join(t.dir, `b8-${n}.csr`);
    expectOk(await runCommand('openssl', ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', join(t.dir, `b8-${n}.key`), '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`, '-out', csr]), 'openssl req');
    csrs.push(csr);
  }
  const sign = (env: Record<string, string> = {}, ...extra: string[]) =>
    runCommand(process.execPath, [BIN, 'sign', ...csrs, '--issuer', 'servers', '--profile', 'tls-server', '--pin-file', t.pin, '--out', out, '--home', h, ...extra], { env });
  // SIGKILL when the card has answered SIGN for the 5th certificate. Rows are marked sent in
  // groups 1 | 2–3 | 4–7 | 8 (batch-issuance.ts sentGroupSize): [3/8] was printed, 4 and 5 are
  // signed but not recorded, 6 and 7 marked sent but not yet asked for.
  const killed = await sign({ CA_CRASHPOINT: 'issuance-after-sign@5' });
  assert.notEqual(killed.code, 0);
  assert.match(killed.stderr, /\[3\/8\] b8-3\.csr → /);
  assert.doesNotMatch(killed.stderr, /\[4\/8\]/);
  assert.deepEqual(readdirSync(out).sort(), ['b8-1.crt', 'b8-2.crt', 'b8-3.crt']);
  const serialsBefore = new Map<string, string>();
  const x509Serial = async (n: number) => expectOk(await runCommand('openssl', ['x509', '-in', join(out, `b8-${n}.crt`), '-noout', '-serial']), 'x509').stdout.trim();
  for (let n = 1; n <= 3; n++) serialsBefore.set(`b8-${n}`, await x509Serial(n));

  // The identical command again: 1–3 reported with their certificates (written again), 4–7 named
  // with their outcome_unknown serials and not signed, 8 signed; exit 5 because 4–7 need a decision.
  const rerun = await sign();
  assert.equal(rerun.code, 5, rerun.stderr);
  for (let n = 1; n <= 3; n++) assert.match(rerun.stderr, new RegExp(`\\[${n}/8\\] b8-${n}\\.csr: already issued by servers as serial [0-9A-F]+ .*written again`));
  const unknownSerials: string[] = [];
  for (let n = 4; n <= 7; n++) {
    const serial = new RegExp(`\\[${n}/8\\] b8-${n}\\.csr: NOT signed: .*outcome_unknown \\(serial ([0-9A-F]+)`).exec(rerun.stderr)?.[1];
    assert.ok(serial, rerun.stderr);
    unknownSerials.push(serial);
    assert.match(rerun.stderr, new RegExp(`CSR_OUTCOME_UNKNOWN.*b8-${n}\\.csr \\(serial ${serial}\\)`));
  }
  assert.match(rerun.stderr, /\[8\/8\] b8-8\.csr → .*b8-8\.crt \(serial [0-9A-F]+\)/);
  assert.doesNotMatch(rerun.stderr, /KEY_DUPLICATE/);
  for (const opt of rerun.stderr.match(/--[a-z][a-z-]+/g) ?? []) {
    assert.ok(['--reissue', '--issuer', '--pin-file'].includes(opt), `the hints name only options of ca sign/ca crl: ${opt}`);
  }
  assert.deepEqual(readdirSync(out).sort(), ['b8-1.crt', 'b8-2.crt', 'b8-3.crt', 'b8-8.crt']);
  for (let n = 1; n <= 3; n++) {
    assert.equal(await x509Serial(n), serialsBefore.get(`b8-${n}`), 'the same certificate, not a new one');
  }

  // --reissue: 4–7 get new serials; everything else is reported, nothing signed twice.
  const reissued = expectOk(await sign({}, '--reissue'), 'sign --reissue');
  for (let n = 4; n <= 7; n++) {
    const newSerial = new RegExp(`\\[${n}/8\\] b8-${n}\\.csr → .*b8-${n}\\.crt \\(serial ([0-9A-F]+)\\)`).exec(reissued.stderr)?.[1];
    assert.ok(newSerial && !unknownSerials.includes(newSerial), reissued.stderr);
  }
  assert.equal((reissued.stderr.match(/already issued by servers/g) ?? []).length, 4);
  assert.equal(readdirSync(out).filter((f) => f.endsWith('.crt')).length, 8);
  assert.equal(readdirSync(out).filter((f) => f.endsWith('.tmp')).length, 0);
  const list = JSON.parse(expectOk(await ca(h, 'list', '--json', '--issuer', 'servers'), 'list').stdout) as { serial: string; status: string; subject: string }[];
  const b8 = list.filter((c) => /b8-/.test(c.subject));
  assert.equal(b8.filter((c) => c.status === 'issued').length, 8);
  assert.deepEqual(b8.filter((c) => c.status === 'outcome_unknown').map((c) => c.serial).sort(), [...unknownSerials].sort());
  expectOk(await ca(h, 'db', 'check'), 'db check after the batch');
});

test('a production home refuses an emulated card with CARD_EMULATED, saying which card and how it knows', async () => {
  const prod = join(mkdtempSync(join(tmpdir(), 'cardca-prod-')), 'ca-data');
  expectOk(await ca(prod, 'init'), 'init (production)');
  const r = await ca(prod, 'ceremony', 'root', '--card', t.rootEmu.serial, '--pin-file', t.pin, '--yes');
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, new RegExp(`CARD_EMULATED.*card ${t.rootEmu.serial}.*DETEST(SRCA|DICA)00001.*not CardContact's SRCA`));
  assert.match(r.stderr, /Virtual PCD/);
  assert.match(r.stderr, /ca init --rehearsal/);
  const list = JSON.parse(expectOk(await ca(prod, 'list', '--json'), 'list').stdout) as unknown[];
  assert.equal(list.length, 0, 'nothing was created');
});
