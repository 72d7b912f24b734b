/**
 * Issue #15 "Must show", openssl ca: a CA built the way the guides do it (key generated on an
 * emulated SmartCard-HSM by `pkcs11-tool --keypairgen`, CA certificate by `openssl req -x509
 * -engine pkcs11`, three certificates issued and one revoked by `openssl ca -engine pkcs11`, a
 * CRL by `openssl ca -gencrl`) is adopted by `ca adopt`; `ca list` shows the three with their
 * statuses, the next `ca crl` (signed by the same card through cardca's own stack) lists the old
 * revocation with a higher CRL number, and `openssl verify -crl_check` refuses the revoked old
 * certificate and accepts the others. Then the bad inputs of the issue, each refused with the
 * line or file named and nothing written. Port 35970 ("Virtual PCD 4 00 01").
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';
import { initHome } from '../helpers/two-card-home.js';
import { expectOk } from '../helpers/run-command.js';
import { buildOpensslCa, ca, cardWithOpenscKey, KEY_ID, run, writePinFiles, type LegacyOpensslCa, type PinFiles } from '../helpers/legacy-ca.js';

let dir: string;
let emu: EmulatorProcess;
let pins: PinFiles;
let legacy: LegacyOpensslCa;
let home: string;
let passed = false;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cardca-adopt-openssl-'));
  pins = writePinFiles(dir);
  emu = await startEmulator({ port: 35970 });
  await cardWithOpenscKey(emu, pins);
  legacy = await buildOpensslCa(join(dir, 'legacy-ca'));
  home = join(dir, 'home');
  await initHome(home);
});

after(async () => {
  await emu?.stop();
  if (passed) rmSync(dir, { recursive: true, force: true });
});

/** `ca profiles accept` with the typed confirmation read from its own refusal. */
export async function acceptProfiles(h: string): Promise<void> {
  const first = await ca('profiles', 'accept', '--home', h);
  const code = /new profile set SHA-256 ([0-9a-f]{8})/.exec(first.stdout + first.stderr)?.[1];
  assert.ok(code, `profiles accept shows the new hash:\n${first.stdout}${first.stderr}`);
  expectOk(await ca('profiles', 'accept', '--home', h, '--confirm', code), 'profiles accept');
}

const sql = async (h: string, q: string): Promise<string> => expectOk(await run('sqlite3', [join(h, 'ca.db'), q]), 'sqlite3').stdout.trim();

test('an openssl ca CA with its key on a card is adopted: list, next CRL and openssl verify -crl_check continue its history', async () => {
  const oldCrlNumber = expectOk(await run('openssl', ['crl', '-in', join(legacy.dir, 'crl.pem'), '-noout', '-crlnumber']), 'old crl number').stdout.trim();
  assert.equal(oldCrlNumber, 'crlNumber=0x01');
  const adopt = await ca('adopt', 'legacy', '--home', home, '--cert', legacy.caCert, '--card', emu.serial, '--root', '--openssl-dir', legacy.dir, '--config', legacy.config, '--pin-file', pins.pin);
  expectOk(adopt, 'ca adopt');
  assert.match(adopt.stdout, /adopted legacy: O=Legacy Example, CN=Legacy Example CA \(card \S+, key 4C01\)/);
  assert.match(adopt.stdout, /imported 3 certificate\(s\), 1 revocation\(s\), 0 serial\(s\) without a certificate file, 1 CRL\(s\)/);
  assert.match(adopt.stdout, /the next CRL number is above 1 /);

  // The derived profile is for review: every command refuses until it is accepted.
  const profiles = readdirSync(join(home, 'profiles'));
  assert.ok(profiles.includes('legacy.yaml') && profiles.includes('legacy-leaf.yaml'), profiles.join(' '));
  const caProfile = readFileSync(join(home, 'profiles', 'legacy.yaml'), 'utf8');
  assert.match(caProfile, /key: p256/);
  assert.match(caProfile, /crlDistributionPoints: \["http:\/\/pki\.legacy\.test\/legacy\.crl"\]/);
  assert.match(caProfile, /crl: \{ validity: P30D/);
  const leafProfile = readFileSync(join(home, 'profiles', 'legacy-leaf.yaml'), 'utf8');
  assert.match(leafProfile, /extendedKeyUsage: \{ values: \["serverAuth"\]/);
  assert.match(leafProfile, /validity: P397D/);
  assert.match(leafProfile, /dns: \[".legacy.test", "legacy.test"\]/);
  const refused = await ca('list', '--home', home);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /PROFILES_CHANGED|differ from the set pinned/);
  await acceptProfiles(home);

  const listed = JSON.parse(expectOk(await ca('list', '--home', home, '--issuer', 'legacy', '--json'), 'ca list').stdout) as Array<{ serial: string; status: string; subject: string }>;
  assert.deepEqual(
    listed.map((c) => [c.serial.replace(/:/g, ''), c.status, c.subject]),
    [
      ['01', 'issued', 'O=Legacy Example, CN=www.legacy.test'],
      ['02', 'revoked', 'O=Legacy Example, CN=mail.legacy.test'],
      ['03', 'issued', 'O=Legacy Example, CN=vpn.legacy.test'],
    ],
  );
  const status = expectOk(await ca('status', '--home', home), 'ca status').stdout;
  assert.match(status, /legacy/);

  // The next CRL, signed by the same card through cardca's stack.
  const crlFile = join(dir, 'legacy-next.crl');
  expectOk(await ca('crl', '--home', home, '--issuer', 'legacy', '--pin-file', pins.pin, '--out', crlFile), 'ca crl');
  const text = expectOk(await run('openssl', ['crl', '-in', crlFile, '-noout', '-text']), 'openssl crl -text').stdout;
  const n = /X509v3 CRL Number:\s*\n\s*(\d+)/.exec(text)?.[1];
  assert.equal(n, '2', `CRL number above the old 1:\n${text}`);
  assert.match(text, /Serial Number: 02\s*\n\s*Revocation Date: [^\n]+\n\s*CRL entry extensions:\s*\n\s*X509v3 CRL Reason Code:\s*\n\s*Key Compromise/);
  const oldDate = /Serial Number: 02\s*\n\s*Revocation Date: ([^\n]+)/.exec(expectOk(await run('openssl', ['crl', '-in', join(legacy.dir, 'crl.pem'), '-noout', '-text']), 'old crl').stdout)?.[1];
  assert.ok(oldDate && text.includes(`Revocation Date: ${oldDate}`), `the old revocation date ${oldDate} is kept`);
  expectOk(await run('openssl', ['crl', '-in', crlFile, '-noout', '-CAfile', legacy.caCert, '-verify']), 'the new CRL verifies with the old CA certificate');

  const verify = (cert: string) => run('openssl', ['verify', '-crl_check', '-CAfile', legacy.caCert, '-CRLfile', crlFile, cert]);
  expectOk(await verify(legacy.certs[0]!), 'verify www');
  expectOk(await verify(legacy.certs[2]!), 'verify vpn');
  const revoked = await verify(legacy.certs[1]!);
  assert.notEqual(revoked.code, 0, 'the revoked certificate is refused');
  assert.match(revoked.stdout + revoked.stderr, /certificate revoked/);

  // One audit record for the import, with the SHA-256 of every source file.
  const audit = JSON.parse(await sql(home, "SELECT data FROM audit_log WHERE event = 'ca.adopted'")) as { sourceFiles: { path: string; sha256: string }[]; testSignature: { algorithm: string } };
  const paths = audit.sourceFiles.map((f) => f.path);
  for (const f of [legacy.caCert, join(legacy.dir, 'index.txt'), join(legacy.dir, 'serial'), join(legacy.dir, 'crlnumber'), join(legacy.dir, 'crl.pem'), legacy.config, ...legacy.certs]) {
    assert.ok(paths.includes(f), `${f} is in the audit record`);
  }
  assert.equal(audit.testSignature.algorithm, 'ecdsa-sha256');
  passed = true;
});

/** A copy of the legacy CA directory (its config pointing at the copy) to break in one way. */
function copyCa(name: string): { dir: string; config: string } {
  const d = join(dir, name);
  cpSync(legacy.dir, d, { recursive: true });
  const config = join(d, 'openssl.cnf');
  writeFileSync(config, readFileSync(legacy.config, 'utf8').replace(legacy.dir, d));
  return { dir: d, config };
}

test('bad input is refused with the line or file named, and nothing is written', async () => {
  passed = false;
  const fresh = join(dir, 'home-refusals');
  await initHome(fresh);
  const profilesBefore = readdirSync(join(fresh, 'profiles')).sort().join(' ');
  const adopt = (d: { dir: string; config: string }, ...extra: string[]) =>
    ca('adopt', 'legacy', '--home', fresh, '--cert', legacy.caCert, '--card', emu.serial, '--root', '--openssl-dir', d.dir, '--config', d.config, '--pin-file', pins.pin, ...extra);
  const refusedWith = async (r: Awaited<ReturnType<typeof adopt>>, code: string, where: RegExp): Promise<void> => {
    assert.notEqual(r.code, 0, `refused: ${r.stdout}`);
    assert.match(r.stderr, new RegExp(code), r.stderr);
    assert.match(r.stderr, where, r.stderr);
    assert.equal(await sql(fresh, 'SELECT count(*) FROM cas'), '0', 'no CA written');
    assert.equal(await sql(fresh, 'SELECT count(*) FROM certificates'), '0', 'no certificate written');
    assert.equal(readdirSync(join(fresh, 'profiles')).sort().join(' '), profilesBefore, 'no profile written');
  };

  const badStatus = copyCa('bad-status');
  appendFileSync(join(badStatus.dir, 'index.txt'), 'X\t301231235959Z\t\t04\tunknown\t/CN=x\n');
  await refusedWith(await adopt(badStatus), 'ADOPT_INDEX_MALFORMED', /index\.txt:4: unknown status letter "X"/);

  const badSerial = copyCa('bad-serial');
  appendFileSync(join(badSerial.dir, 'index.txt'), 'V\t301231235959Z\t\tZZ\tunknown\t/CN=x\n');
  await refusedWith(await adopt(badSerial), 'ADOPT_INDEX_MALFORMED', /index\.txt:4: serial "ZZ" is not hexadecimal/);

  const badLine = copyCa('bad-line');
  appendFileSync(join(badLine.dir, 'index.txt'), 'V\t301231235959Z\t04\n');
  await refusedWith(await adopt(badLine), 'ADOPT_INDEX_MALFORMED', /index\.txt:4: 3 TAB-separated fields/);

  const backwards = copyCa('crlnumber-backwards');
  writeFileSync(join(backwards.dir, 'crlnumber'), '01\n');
  await refusedWith(await adopt(backwards), 'ADOPT_CRL_NUMBER_BACKWARDS', /crlnumber-backwards\/crlnumber: the CRL number file went backwards: it holds 1 but/);

  const missing = copyCa('missing-file');
  rmSync(join(missing.dir, 'newcerts', '03.pem'));
  await refusedWith(await adopt(missing), 'ADOPT_DISCREPANCIES', /index\.txt:3: missing-file: no certificate file for serial 03/);

  // A certificate that does not match the card key (a software CA with no history).
  const other = join(dir, 'other-ca');
  cpSync(legacy.dir, other, { recursive: true });
  writeFileSync(join(other, 'index.txt'), '');
  rmSync(join(other, 'newcerts'), { recursive: true });
  rmSync(join(other, 'crl.pem'));
  const otherCert = join(other, 'other.pem');
  expectOk(await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(other, 'other.key'), '-subj', '/CN=Other CA', '-days', '30', '-out', otherCert, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']), 'software CA');
  const mismatch = await ca('adopt', 'other', '--home', fresh, '--cert', otherCert, '--card', emu.serial, '--key-id', KEY_ID, '--root', '--openssl-dir', other, '--pin-file', pins.pin);
  await refusedWith(mismatch, 'ADOPT_KEY_MISMATCH', /key 4C01 on card \S+ is not the key of the CA certificate/);

  // A chain that does not reach a known parent.
  const noParent = await ca('adopt', 'other', '--home', home, '--cert', otherCert, '--card', emu.serial, '--parent', 'legacy', '--openssl-dir', other, '--pin-file', pins.pin);
  assert.notEqual(noParent.code, 0);
  assert.match(noParent.stderr, /ADOPT_CHAIN_BROKEN|was not issued by legacy/);
  assert.match(noParent.stderr, /other\.pem/);
  assert.equal(await sql(home, "SELECT count(*) FROM cas WHERE name = 'other'"), '0');
  passed = true;
});
