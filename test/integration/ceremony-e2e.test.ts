/**
 * Issue 4 "Must show", through pcscd with two virtual SmartCard-HSMs (vpcd ports 35967 and
 * 35968, readers "Virtual PCD 3 00 00" / "… 00 01") and the real CLI (`node dist/src/cli/bin.js`,
 * PINs via --pin-file): init, root ceremony, sub-CAs servers and clients, `ca sign` of CSRs
 * made by `openssl req` (EC and RSA), revoke one, `ca crl`; then `openssl verify -x509_strict
 * -crl_check_all` accepts the valid leaf and rejects the revoked one; `ca audit verify` and
 * `ca db check` pass. Bad input is refused with stable codes and changes nothing but the audit log.
 */
import { BIN, expectOk, runCommand, type Run } from '../helpers/run-command.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';


const run = (cmd: string, args: readonly string[], timeout = 120_000, env: Record<string, string> = {}): Promise<Run> =>
  runCommand(cmd, args, { timeoutMs: timeout, env });

let dir: string;
let home: string;
let pin: string;
let so: string;
let rootEmu: EmulatorProcess;
let subEmu: EmulatorProcess;
const ca = (...args: string[]): Promise<Run> => run(process.execPath, [BIN, ...args, '--home', home]);
const caNoHome = (...args: string[]): Promise<Run> => run(process.execPath, [BIN, ...args]);
const ok = expectOk;

async function opensslCsr(name: string, key: string[], cn: string): Promise<string> {
  const out = join(dir, `${name}.csr`);
  ok(await run('openssl', ['req', '-new', '-nodes', ...key, '-keyout', join(dir, `${name}.key`), '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`, '-out', out]), 'openssl req');
  return out;
}

function auditCount(): number {
  const db = new Database(join(home, 'ca.db'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cardca-e2e-'));
  home = join(dir, 'ca-data');
  pin = join(dir, 'user.pin');
  so = join(dir, 'so.pin');
  writeFileSync(pin, '648219\n', { mode: 0o600 });
  writeFileSync(so, '3537363231383830\n', { mode: 0o600 });
  rootEmu = await startEmulator({ port: 35967 });
  subEmu = await startEmulator({ port: 35968 });
  for (const [emu, label] of [[rootEmu, 'Root CA card'], [subEmu, 'Sub-CA card']] as const) {
    ok(await caNoHome('card', 'init', '--reader', emu.readerName, '--label', label, '--so-pin-file', so, '--pin-file', pin), 'card init');
  }
});

after(async () => {
  await rootEmu?.stop();
  await subEmu?.stop();
});

test('init, ceremonies, sign, revoke, CRL; openssl accepts the valid leaf and rejects the revoked one', async () => {
  ok(await ca('init', '--rehearsal'), 'init');
  const again = await ca('init');
  assert.equal(again.code, 7);
  assert.match(again.stderr, /HOME_EXISTS/);

  // Non-interactive without --yes: refused before any card is touched.
  const noYes = await ca('ceremony', 'root', '--card', rootEmu.serial, '--pin-file', pin);
  assert.equal(noYes.code, 2, noYes.stderr);

  ok(await ca('ceremony', 'root', '--card', rootEmu.serial, '--pin-file', pin, '--yes'), 'ceremony root');
  const subca = ok(await ca('ceremony', 'subca', 'servers', '--card', subEmu.serial, '--pin-file', pin, '--issuer-pin-file', pin, '--yes', '--json'), 'ceremony subca servers');
  const record = JSON.parse(subca.stdout) as { kind: string; cards: { serial: string }[]; steps: unknown[]; certificates: { sha256: string }[] };
  assert.equal(record.kind, 'subca');
  assert.deepEqual(record.cards.map((c) => c.serial), [subEmu.serial, rootEmu.serial]);
  assert.ok(record.steps.length >= 6);
  // One card holds the keys of both sub-CAs.
  ok(await ca('ceremony', 'subca', 'clients', '--card', subEmu.serial, '--pin-file', pin, '--issuer-pin-file', pin, '--yes'), 'ceremony subca clients');

  const ec = await opensslCsr('web', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'web.example.test');
  const rsa = await opensslCsr('vpn', ['-newkey', 'rsa:2048'], 'vpn.example.test');
  const out = join(dir, 'issued');
  const signed = ok(await ca('sign', ec, rsa, '--issuer', 'servers', '--profile', 'tls-server', '--pin-file', pin, '--out', out + '/'), 'sign');
  assert.match(signed.stderr, /\[1\/2\].*\[2\/2\]/s, 'progress on stderr');
  const webCrt = join(out, 'web.crt');
  const vpnCrt = join(out, 'vpn.crt');
  assert.ok(existsSync(webCrt) && existsSync(vpnCrt));

  const list = JSON.parse(ok(await ca('list', '--issuer', 'servers', '--json'), 'list').stdout) as { serial: string; subject: string; status: string }[];
  assert.equal(list.length, 2);
  const vpn = list.find((c) => c.subject.includes('vpn.example.test'))!;
  ok(await ca('revoke', vpn.serial, '--reason', 'keyCompromise'), 'revoke');
  const revokedAgain = await ca('revoke', vpnCrt, '--reason', 'keyCompromise');
  assert.equal(revokedAgain.code, 5, revokedAgain.stderr);
  assert.match(revokedAgain.stderr, /REVOKE_ALREADY/);

  ok(await ca('crl', '--issuer', 'servers', '--pin-file', pin), 'crl servers');
  ok(await ca('crl', '--issuer', 'root', '--pin-file', pin), 'crl root');
  const chain = join(dir, 'chain.pem');
  const crls = join(dir, 'crls.pem');
  ok(await ca('export', 'chain', '--issuer', 'servers', '--format', 'pem', '--out', chain), 'export chain');
  ok(await ca('export', 'crl', '--all', '--format', 'pem', '--out', crls), 'export crl');
  const rootCrt = join(home, 'certs', 'root.crt');
  const verify = (leaf: string) =>
    run('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-crl_check_all', '-CAfile', rootCrt, '-untrusted', chain, '-CRLfile', crls, leaf]);
  const good = await verify(webCrt);
  assert.equal(good.code, 0, good.stdout + good.stderr);
  const bad = await verify(vpnCrt);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stdout + bad.stderr, /certificate revoked/);

  const crlText = ok(await run('openssl', ['crl', '-in', join(home, 'crl', 'servers.crl'), '-noout', '-text']), 'openssl crl');
  assert.match(crlText.stdout, /Version 2/);
  assert.match(crlText.stdout, /X509v3 CRL Number: \s*1/);
  assert.match(crlText.stdout, /Authority Key Identifier/);
  assert.match(crlText.stdout, /Key Compromise/);

  const show = JSON.parse(ok(await ca('show', vpn.serial, '--json'), 'show').stdout) as { status: string; revocation: { reason: string } };
  assert.equal(show.status, 'revoked');
  assert.equal(show.revocation.reason, 'keyCompromise');
  ok(await ca('audit', 'verify', '--pin-file', pin), 'audit verify');
  ok(await ca('db', 'check'), 'db check');
});

test('bad input is refused with a stable code; only the refusal is audited', async () => {
  const hostile = join(dir, 'hostile.csr');
  writeFileSync(hostile, '-----BEGIN CERTIFICATE REQUEST-----\nMIIBAAAA\n-----END CERTIFICATE REQUEST-----\n');
  const certsBefore = JSON.parse(ok(await ca('list', '--json'), 'list').stdout).length as number;
  const audit0 = auditCount();
  const r = await ca('sign', hostile, '--issuer', 'servers', '--profile', 'tls-server', '--pin-file', pin);
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /error \[CSR_/);
  assert.equal(auditCount(), audit0 + 1);

  const unknown = await ca('sign', await opensslCsr('u', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'u.example.test'), '--issuer', 'nosuch', '--pin-file', pin);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /PROFILE_NOT_FOUND|UNKNOWN_ISSUER/);

  const outside = await opensslCsr('evil', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'www.evil.test');
  const policy = await ca('sign', outside, '--issuer', 'servers', '--profile', 'tls-server', '--pin-file', pin);
  assert.equal(policy.code, 5, policy.stderr);
  assert.match(policy.stderr, /POLICY_/);

  // The wanted card is not inserted: non-interactive run names the serial.
  const wrongCard = await ca('crl', '--issuer', 'servers', '--card', 'DENOSUCHCARD', '--pin-file', pin);
  assert.notEqual(wrongCard.code, 0);
  assert.match(wrongCard.stderr, /CARD_WRONG|CARD_NOT_FOUND/);

  // The clock is before the last recorded activity: refused before any card is touched.
  const late = await run(process.execPath, [BIN, 'crl', '--issuer', 'servers', '--pin-file', pin, '--home', home], 60_000, { CA_FAKE_NOW: '2020-01-01T00:00:00Z' });
  assert.equal(late.code, 10, late.stderr);
  assert.match(late.stderr, /CLOCK_BEHIND/);

  // A batch with one bad CSR signs nothing.
  const good = await opensslCsr('good', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'good.example.test');
  const mixed = await ca('sign', good, outside, '--issuer', 'servers', '--profile', 'tls-server', '--pin-file', pin, '--out', join(dir, 'mixed') + '/');
  assert.equal(mixed.code, 5, mixed.stderr);
  assert.ok(!existsSync(join(dir, 'mixed', 'good.crt')));

  const certsAfter = JSON.parse(ok(await ca('list', '--json'), 'list').stdout).length as number;
  assert.equal(certsAfter, certsBefore, 'no certificate row for refused input');
  ok(await ca('audit', 'verify', '--pin-file', pin), 'audit verify');
  ok(await ca('db', 'check'), 'db check');
});

test('a tampered audit record makes `ca audit verify` and `ca db check` fail', async () => {
  const db = new Database(join(home, 'ca.db'));
  try {
    db.exec('DROP TRIGGER audit_no_update');
    db.prepare("UPDATE audit_log SET event = 'certificate.forged' WHERE seq = 3").run();
  } finally {
    db.close();
  }
  const v = await ca('audit', 'verify');
  assert.equal(v.code, 11, v.stderr);
  assert.match(v.stderr, /AUDIT_CHAIN_BROKEN.*audit #3/);
  const c = await ca('db', 'check');
  assert.equal(c.code, 11);
});
