/**
 * Issue 13 item 5: the Aventra MyEID wherever cardca uses a card, through pcscd, with OpenSC's
 * and openssl's tools as judges. Three emulated MyEIDs, each personalised only by OpenSC's
 * pkcs15-init (pkcs15+onepin, user PIN auth-id 01 with its PUK, finalised): the root card
 * (vpcd 35968), the `clients` sub-CA card (35969) and a user's token (35970). The ceremonies
 * generate their keys on the MyEIDs; the database records the family `myeid`; `ca crl` signed by
 * the MyEID issuer passes `openssl crl -verify` and `openssl verify -crl_check`; `ca csr` and
 * `ca enroll --ovpn` use the MyEID token (its pkcs11-id is what `openvpn --show-pkcs11-ids`
 * prints); `ca card status`, `ca card pin change|unblock`, wrong-PIN
 * tries left and a blocked PIN go through the CLI and OpenSC agrees; `ca audit verify
 * --pin-file` reads the MyEID issuer's checkpoint.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { BIN, expectOk, runCommand, type Run } from '../helpers/run-command.js';
import { startEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';
import { initHome } from '../helpers/two-card-home.js';
import { MYEID_TEST_PIN, MYEID_TEST_PUK, personaliseMyeid } from '../helpers/myeid-personalise.js';
import { pemCerts, showPkcs11Ids } from '../helpers/pkcs11-ids.js';
import { decodeCheckpoint } from '../../src/ca/checkpoint.js';

const PORTS = { root: 35968, clients: 35969, token: 35970 } as const;
const run = (cmd: string, args: readonly string[], timeout = 180_000): Promise<Run> => runCommand(cmd, args, { timeoutMs: timeout });
const ok = expectOk;

let dir: string;
let home: string;
let pin: string;
let puk: string;
const emus: Record<keyof typeof PORTS, EmulatorProcess | undefined> = { root: undefined, clients: undefined, token: undefined };
const readers: Record<keyof typeof PORTS, string> = { root: '', clients: '', token: '' };
const emu = (k: keyof typeof PORTS): EmulatorProcess => emus[k]!;
const ca = (...args: string[]) => run(process.execPath, [BIN, ...args, '--home', home]);
const caNoHome = (...args: string[]) => run(process.execPath, [BIN, ...args]);
const f = (name: string): string => join(dir, name);

interface Status { driver: string; serial: string; label: string | null; initialized: boolean; firmware: string | null; pin: { state: string; triesLeft: number | null }; soPin: { state: string; triesLeft: number | null } }
const status = async (k: keyof typeof PORTS): Promise<Status> => JSON.parse(ok(await caNoHome('card', 'status', '--card', emu(k).serial, '--json'), 'card status').stdout) as Status;

/** OpenSC's own PIN check: `pkcs15-tool --verify-pin` (exit 0 when the card accepted it). */
const openscVerify = (k: keyof typeof PORTS, value: string): Promise<Run> => run('pkcs15-tool', ['-r', readers[k], '--verify-pin', '--auth-id', '01', '--pin', value]);

describe('the MyEID everywhere a card is used', { timeout: 900_000 }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cardca-myeid-cli-'));
    home = f('ca-data');
    pin = f('myeid.pin');
    puk = f('myeid.puk');
    writeFileSync(pin, `${MYEID_TEST_PIN}\n`, { mode: 0o600 });
    writeFileSync(puk, `${MYEID_TEST_PUK}\n`, { mode: 0o600 });
    for (const k of Object.keys(PORTS) as (keyof typeof PORTS)[]) {
      emus[k] = await startEmulator({ port: PORTS[k], extraArgs: ['--type', 'myeid'] });
      readers[k] = await personaliseMyeid(emus[k].readerName, { label: `${k} card` });
    }
    await initHome(home);
  });

  after(async () => {
    for (const e of Object.values(emus)) await e?.stop();
  });

  test('ca card status: family, serial, label, firmware, user PIN and PUK tries, without spending a try', async () => {
    const s = await status('root');
    assert.equal(s.driver, 'myeid');
    assert.equal(s.serial, emu('root').serial);
    assert.equal(s.label, 'root card');
    assert.equal(s.initialized, true);
    assert.equal(s.firmware, '4.5');
    // myeid.profile: user PIN 3 attempts. Its PUK lives in the PIN's record and has no query
    // that spends no try (OpenSC has none either): set, tries unknown.
    assert.deepEqual(s.pin, { state: 'not-verified', triesLeft: 3 });
    assert.deepEqual(s.soPin, { state: 'not-verified', triesLeft: null });
    const text = ok(await caNoHome('card', 'status', '--card', emu('root').serial), 'card status').stdout;
    assert.match(text, /^card: +myeid, serial [0-9A-F]{20}, firmware 4\.5$/m);
    assert.match(text, /^user PIN: +3 tries left$/m);
    assert.match(text, /^PUK: +set \(the card does not report its tries left\)$/m);
    assert.doesNotMatch(text, /SO-PIN/);
    assert.deepEqual((await status('root')).pin, { state: 'not-verified', triesLeft: 3 }, 'status spent no try');
  });

  test('root and sub-CA ceremonies generating their keys on MyEIDs; the database records the family', async () => {
    ok(await ca('ceremony', 'root', '--card', emu('root').serial, '--pin-file', pin, '--yes'), 'ceremony root');
    ok(await ca('ceremony', 'subca', 'clients', '--card', emu('clients').serial, '--pin-file', pin, '--issuer-pin-file', pin, '--yes'), 'ceremony subca clients');
    const st = JSON.parse(ok(await ca('status', '--json'), 'status').stdout) as { cas: { name: string; card: { serial: string; family: string; keyId: string } }[] };
    const byName = new Map(st.cas.map((c) => [c.name, c.card]));
    assert.equal(byName.get('root')?.family, 'myeid');
    assert.equal(byName.get('root')?.serial, emu('root').serial);
    assert.equal(byName.get('clients')?.family, 'myeid');
    // OpenSC sees both keys with their certificates under the same iD.
    for (const [k, name] of [['root', 'root'], ['clients', 'clients']] as const) {
      const dump = ok(await run('pkcs15-tool', ['-r', readers[k], '-D']), 'pkcs15-tool -D').stdout;
      const id = byName.get(name)!.keyId.toLowerCase();
      assert.match(dump, new RegExp(`Private EC Key \\[[^\\]]*\\][\\s\\S]*?\\n\\tID\\s+: ${id}`), dump);
      const certPem = ok(await run('pkcs15-tool', ['-r', readers[k], '--read-certificate', id]), 'read-certificate').stdout;
      assert.equal(new X509Certificate(certPem).fingerprint256, new X509Certificate(readFileSync(join(home, 'certs', `${name}.crt`))).fingerprint256);
    }
  });

  test('ca crl signed by the MyEID issuer: openssl crl -verify, and openssl verify -crl_check refuses the revoked certificate', async () => {
    ok(await run('openssl', ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', f('dave.key'), '-subj', '/CN=dave', '-out', f('dave.csr')]), 'openssl req');
    ok(await ca('sign', f('dave.csr'), '--issuer', 'clients', '--profile', 'vpn-client', '--pin-file', pin, '--out', f('dave') + '/'), 'sign');
    const dave = join(f('dave'), 'dave.crt');
    const chain = f('clients-chain.pem');
    ok(await ca('export', 'chain', '--issuer', 'clients', '--format', 'pem', '--out', chain), 'export chain');
    const rootCrt = join(home, 'certs', 'root.crt');
    const crl0 = f('clients-0.crl');
    ok(await ca('crl', '--issuer', 'clients', '--pin-file', pin, '--out', crl0), 'crl');
    const v0 = await run('openssl', ['crl', '-in', crl0, '-noout', '-verify', '-CAfile', chain]);
    assert.equal(v0.code, 0, v0.stdout + v0.stderr);
    assert.match(v0.stdout + v0.stderr, /verify OK/);
    const good = await run('openssl', ['verify', '-crl_check', '-CAfile', rootCrt, '-untrusted', chain, '-CRLfile', crl0, dave]);
    assert.equal(good.code, 0, good.stdout + good.stderr);

    const serial = new X509Certificate(readFileSync(dave)).serialNumber;
    ok(await ca('revoke', serial, '--issuer', 'clients', '--reason', 'keyCompromise'), 'revoke');
    const crl1 = f('clients-1.crl');
    ok(await ca('crl', '--issuer', 'clients', '--pin-file', pin, '--out', crl1), 'crl after revoke');
    const v1 = await run('openssl', ['crl', '-in', crl1, '-noout', '-verify', '-CAfile', chain]);
    assert.equal(v1.code, 0, v1.stdout + v1.stderr);
    const bad = await run('openssl', ['verify', '-crl_check', '-CAfile', rootCrt, '-untrusted', chain, '-CRLfile', crl1, dave]);
    assert.notEqual(bad.code, 0, bad.stdout);
    assert.match(bad.stdout + bad.stderr, /certificate revoked/);
    // The root's CRL comes from the root MyEID.
    const rootCrl = f('root.crl');
    ok(await ca('crl', '--issuer', 'root', '--pin-file', pin, '--out', rootCrl), 'crl root');
    const vr = await run('openssl', ['crl', '-in', rootCrl, '-noout', '-verify', '-CAfile', rootCrt]);
    assert.equal(vr.code, 0, vr.stdout + vr.stderr);
  });

  test('ca csr on a MyEID key (openssl req -verify), and ca enroll onto a MyEID token (pkcs15-tool reads the certificate back)', async () => {
    const key = JSON.parse(ok(await caNoHome('card', 'keygen', '--card', emu('token').serial, '--label', 'bob key', '--alg', 'p256', '--pin-file', pin, '--json'), 'card keygen').stdout) as { id: string };
    const csr = f('bob.csr');
    ok(await caNoHome('csr', '--card', emu('token').serial, '--key-id', key.id, '--subject', 'CN=bob,OU=Staff', '--san', 'email:bob@example.test', '--out', csr, '--pin-file', pin), 'csr');
    const v = await run('openssl', ['req', '-in', csr, '-noout', '-verify']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    const pubFromCsr = ok(await run('openssl', ['req', '-in', csr, '-noout', '-pubkey']), 'req -pubkey').stdout;
    const id = key.id.toLowerCase();
    const pubFromCard = ok(await run('pkcs15-tool', ['-r', readers.token, '--read-public-key', id]), 'read-public-key').stdout;
    assert.equal(pubFromCsr.trim(), pubFromCard.trim());

    const out = f('alice');
    const r = ok(
      await ca('enroll', '--issuer', 'clients', '--profile', 'vpn-client', '--card', emu('token').serial, '--subject', 'CN=alice', '--pin-file', pin, '--user-pin-file', pin, '--out', out, '--ovpn', '--ovpn-remote', 'vpn.example.test', '--json'),
      'enroll',
    );
    const [res] = JSON.parse(r.stdout) as { card: string; keyId: string; files: string[] }[];
    assert.ok(res);
    assert.equal(res.card, emu('token').serial);
    const cert = pemCerts(res.files[0]!)[0]!;
    const fromOpensc = ok(await run('pkcs15-tool', ['-r', readers.token, '--read-certificate', res.keyId.toLowerCase()]), 'read-certificate').stdout;
    assert.equal(new X509Certificate(fromOpensc).fingerprint256, new X509Certificate(cert).fingerprint256);
    // ca card cert read agrees with OpenSC.
    const back = ok(await caNoHome('card', 'cert', 'read', '--card', emu('token').serial, '--key-id', res.keyId), 'card cert read').stdout;
    assert.equal(new X509Certificate(back).fingerprint256, new X509Certificate(cert).fingerprint256);
    const vv = await run('openssl', ['verify', '-CAfile', join(home, 'certs', 'root.crt'), '-untrusted', res.files[1]!, res.files[0]!]);
    assert.equal(vv.code, 0, vv.stdout + vv.stderr);
    // The .ovpn names the token's certificate exactly as pkcs11-helper over OpenSC's PKCS#11 does.
    const idLine = /^pkcs11-id '([^']*)'$/m.exec(readFileSync(res.files[2]!, 'utf8'));
    assert.ok(idLine, readFileSync(res.files[2]!, 'utf8'));
    const mine = (await showPkcs11Ids()).filter((x) => /CN=alice/.test(x.dn));
    assert.equal(mine.length, 1, JSON.stringify(mine));
    assert.equal(idLine[1], mine[0]!.id);
  });

  test('ca card pin change: wrong current PIN shows the tries left, a 4-character PIN (MyEID minimum) is accepted, OpenSC verifies it', async () => {
    writeFileSync(f('wrong.pin'), '000000\n', { mode: 0o600 });
    writeFileSync(f('new.pin'), '4321\n', { mode: 0o600 });
    const wrong = await caNoHome('card', 'pin', 'change', '--card', emu('token').serial, '--pin-file', f('wrong.pin'), '--new-pin-file', f('new.pin'));
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /PIN_INCORRECT/);
    assert.match(wrong.stderr, /2 tries left/);
    assert.deepEqual((await status('token')).pin, { state: 'not-verified', triesLeft: 2 });
    ok(await caNoHome('card', 'pin', 'change', '--card', emu('token').serial, '--pin-file', pin, '--new-pin-file', f('new.pin')), 'pin change');
    assert.deepEqual((await status('token')).pin, { state: 'not-verified', triesLeft: 3 });
    assert.equal((await openscVerify('token', '4321')).code, 0, 'OpenSC accepts the new PIN');
    assert.notEqual((await openscVerify('token', MYEID_TEST_PIN)).code, 0, 'the old PIN no longer works');
    // Back to the test PIN (a 9-character PIN is out of the MyEID's range: refused, nothing changes).
    writeFileSync(f('long.pin'), '123456789\n', { mode: 0o600 });
    const long = await caNoHome('card', 'pin', 'change', '--card', emu('token').serial, '--pin-file', f('new.pin'), '--new-pin-file', f('long.pin'));
    assert.notEqual(long.code, 0);
    assert.match(long.stderr, /4 to 8 characters/);
    ok(await caNoHome('card', 'pin', 'change', '--card', emu('token').serial, '--pin-file', f('new.pin'), '--new-pin-file', pin), 'pin change back');
  });

  test('a blocked user PIN: PIN_BLOCKED through the CLI, status says so, ca card pin unblock with the PUK restores it', async () => {
    const serial = emu('token').serial;
    for (const left of [2, 1]) {
      const r = await caNoHome('card', 'keygen', '--card', serial, '--label', 'x', '--alg', 'p256', '--pin-file', f('wrong.pin'), '--allow-last-pin-try');
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`PIN_INCORRECT[\\s\\S]*${left} tr(y|ies) left`));
    }
    const guarded = await caNoHome('card', 'keygen', '--card', serial, '--label', 'x', '--alg', 'p256', '--pin-file', f('wrong.pin'));
    assert.notEqual(guarded.code, 0);
    assert.match(guarded.stderr, /PIN_LAST_TRY/);
    const last = await caNoHome('card', 'keygen', '--card', serial, '--label', 'x', '--alg', 'p256', '--pin-file', f('wrong.pin'), '--allow-last-pin-try');
    assert.match(last.stderr, /PIN_INCORRECT|PIN_BLOCKED/);
    assert.deepEqual((await status('token')).pin, { state: 'blocked', triesLeft: 0 });
    const blocked = await caNoHome('card', 'keygen', '--card', serial, '--label', 'x', '--alg', 'p256', '--pin-file', pin);
    assert.notEqual(blocked.code, 0);
    assert.match(blocked.stderr, /PIN_BLOCKED/);
    assert.match(ok(await caNoHome('card', 'status', '--card', serial), 'status').stdout, /^user PIN: +BLOCKED/m);
    assert.notEqual((await openscVerify('token', MYEID_TEST_PIN)).code, 0, 'OpenSC also finds it blocked');

    // A wrong PUK costs a PUK try and changes nothing.
    const badPuk = await caNoHome('card', 'pin', 'unblock', '--card', serial, '--so-pin-file', f('wrong.pin'), '--new-pin-file', pin);
    assert.notEqual(badPuk.code, 0);
    assert.match(badPuk.stderr, /PIN_INCORRECT/);
    assert.deepEqual((await status('token')).pin, { state: 'blocked', triesLeft: 0 }, 'a wrong PUK unblocks nothing');
    ok(await caNoHome('card', 'pin', 'unblock', '--card', serial, '--so-pin-file', puk, '--new-pin-file', pin), 'pin unblock');
    const s = await status('token');
    assert.deepEqual(s.pin, { state: 'not-verified', triesLeft: 3 });
    assert.equal((await openscVerify('token', MYEID_TEST_PIN)).code, 0, 'OpenSC accepts the PIN set by unblock');
    // The keys are untouched: the enrolled certificate is still readable and the key signs.
    ok(await caNoHome('card', 'list', '--card', serial), 'card list');
  });

  test('the audit checkpoint on a MyEID is a PKCS#15 private data object: pkcs15-tool -D lists it, --read-data-object reads it, ca audit verify --pin-file compares it', async () => {
    for (const k of ['root', 'clients'] as const) {
      const dump = ok(await run('pkcs15-tool', ['-r', readers[k], '-D']), 'pkcs15-tool -D').stdout;
      assert.match(dump, /Data object 'cardca checkpoint'\n\tapplicationName: cardca\n\tPath: +3f00501545[0-9a-f]{2}\n\tAuth ID: +01/, dump);
      const out = f(`${k}.checkpoint`);
      ok(await run('pkcs15-tool', ['-r', readers[k], '--read-data-object', 'cardca checkpoint', '--verify-pin', '--pin', MYEID_TEST_PIN, '-o', out]), 'read-data-object');
      const onCard = decodeCheckpoint(readFileSync(out), out);
      const copy = JSON.parse(readFileSync(join(home, 'checkpoints', `checkpoint-${emu(k).serial}.json`), 'utf8')) as { auditSeq: number; auditHead: string };
      assert.equal(onCard.card, emu(k).serial);
      assert.deepEqual([onCard.auditSeq, onCard.auditHead], [copy.auditSeq, copy.auditHead], 'the card holds the newest checkpoint, the same as the file copy');
    }
    const r = await ca('audit', 'verify', '--pin-file', pin);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const k of ['root', 'clients'] as const) assert.match(r.stdout, new RegExp(`matches the checkpoint from card ${emu(k).serial}`), r.stdout + r.stderr);
    assert.doesNotMatch(r.stderr, /no checkpoint|could not be written/);
  });
});
