// Issue 10 "Must show" (custody cycle and bad inputs), through pcscd + vpcd with three emulated
// SmartCard-HSMs and the real CLI: two DKEK shares, root card and backup card initialised with
// them (equal KCVs), root ceremony, `ca key backup`, the root card's state destroyed,
// `ca key restore` onto the backup card, `ca crl --issuer root` signed by the backup card and
// accepted by `openssl crl -verify` against the root certificate, `ca key drill`; every bad
// input refused with a specific code and the card unchanged. Shares use a small KDF iteration
// count (hidden --kdf-iterations); the real count is exercised in dkek-sc-hsm-tool.test.ts.
// Ports: 35969/35970 ("Virtual PCD 4 00 00/01") and 35967 ("Virtual PCD 3 00 00").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';
import { BIN, expectOk, runCommand } from '../helpers/run-command.js';

const KDF = ['--kdf-iterations', '1000'];

describe('key custody: backup, restore, drill', { concurrency: false }, () => {
  let dir: string;
  let home: string;
  let pin: string;
  let soPin: string;
  let pw1: string;
  let pw2: string;
  let root: EmulatorProcess;
  let backup: EmulatorProcess;
  let stranger: EmulatorProcess;
  // The share register (duplicate-share check) lives in the state dir: one per test run.
  const ca = (...args: string[]) => runCommand(process.execPath, [BIN, ...args], { timeoutMs: 120_000, env: { XDG_STATE_HOME: join(dir, 'state') } });
  const status = async (e: EmulatorProcess) => JSON.parse(expectOk(await ca('card', 'dkek', 'status', '--json', '--card', e.serial), 'status').stdout) as { shares: number; missing: number; kcv: string };
  const keys = async (e: EmulatorProcess) => JSON.parse(expectOk(await ca('card', 'list', '--reader', e.readerName, '--json'), 'list').stdout)[0].keys as unknown[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'key-custody-'));
    home = join(dir, 'ca-data');
    pin = join(dir, 'pin');
    soPin = join(dir, 'so');
    pw1 = join(dir, 'pw1');
    pw2 = join(dir, 'pw2');
    writeFileSync(pin, '648219\n', { mode: 0o600 });
    writeFileSync(soPin, '3537363231383830\n', { mode: 0o600 });
    writeFileSync(pw1, 'first custodian password\n', { mode: 0o600 });
    writeFileSync(pw2, 'second custodian password\n', { mode: 0o600 });
    root = await startEmulator({ port: 35969 });
    backup = await startEmulator({ port: 35970 });
    stranger = await startEmulator({ port: 35967 });
  });
  after(async () => {
    await root?.stop();
    await backup?.stop();
    await stranger?.stop();
  });

  test('two shares; root and backup cards initialised with --dkek-shares 2 show equal KCVs', async () => {
    for (const e of [root, backup, stranger]) {
      const r = expectOk(await ca('card', 'init', '--card', e.serial, '--label', 'custody', '--so-pin-file', soPin, '--pin-file', pin, '--dkek-shares', '2'), 'init');
      assert.match(r.stdout, /2 DKEK shares to import/);
    }
    const s1 = join(dir, 's1.pbe');
    const s2 = join(dir, 's2.pbe');
    expectOk(await ca('card', 'dkek', 'create-share', s1, '--card', root.serial, '--password-file', pw1, ...KDF), 'share 1');
    expectOk(await ca('card', 'dkek', 'create-share', s2, '--card', root.serial, '--password-file', pw2, ...KDF), 'share 2');
    assert.notDeepEqual(readFileSync(s1), readFileSync(s2));
    for (const e of [root, backup]) {
      expectOk(await ca('card', 'dkek', 'import', s1, '--card', e.serial, '--password-file', pw1, ...KDF), 'import 1');
      expectOk(await ca('card', 'dkek', 'import', s2, '--card', e.serial, '--password-file', pw2, ...KDF), 'import 2');
    }
    // The stranger gets share 1 and a share of its own: a different DKEK.
    const s3 = join(dir, 's3.pbe');
    expectOk(await ca('card', 'dkek', 'create-share', s3, '--card', stranger.serial, '--password-file', pw2, ...KDF), 'share 3');
    expectOk(await ca('card', 'dkek', 'import', s1, '--card', stranger.serial, '--password-file', pw1, ...KDF), 'import 1');
    const kr = await status(root);
    assert.deepEqual(kr, { shares: 2, missing: 0, kcv: kr.kcv });
    assert.deepEqual(await status(backup), kr, 'backup-compatible');
    const ks = await status(stranger);
    assert.equal(ks.missing, 1);
    expectOk(await ca('card', 'dkek', 'import', s3, '--card', stranger.serial, '--password-file', pw2, ...KDF), 'import 3');
    assert.notEqual((await status(stranger)).kcv, kr.kcv);
  });

  test('bad share inputs refused and nothing changes; a pending DKEK stops the ceremony; 2-of-3 threshold share imported with two', async () => {
    const before = await status(backup);
    const short = join(dir, 'short.pbe');
    writeFileSync(short, readFileSync(join(dir, 's1.pbe')).subarray(0, 63));
    const notShare = join(dir, 'zeros.pbe');
    writeFileSync(notShare, Buffer.alloc(64));
    const r1 = await ca('card', 'dkek', 'import', short, '--card', backup.serial, '--password-file', pw1, ...KDF);
    assert.equal(r1.code, 3, r1.stderr);
    assert.match(r1.stderr, /DKEK_SHARE_FILE_INVALID/);
    assert.match(r1.stderr, /63 bytes/);
    const r2 = await ca('card', 'dkek', 'import', notShare, '--card', backup.serial, '--password-file', pw1, ...KDF);
    assert.match(r2.stderr, /DKEK_SHARE_FILE_INVALID.*Salted__|Salted__/s);
    const r3 = await ca('card', 'dkek', 'import', join(dir, 's1.pbe'), '--card', backup.serial, '--password-file', pw1, ...KDF);
    assert.match(r3.stderr, /DKEK_ALREADY_COMPLETE/);
    assert.deepEqual(await status(backup), before);

    // Wrong password: on a card still waiting for a share.
    const fresh = await startEmulator({ port: 35968 });
    try {
      expectOk(await ca('card', 'init', '--card', fresh.serial, '--label', 'x', '--so-pin-file', soPin, '--pin-file', pin, '--dkek-shares', '1'), 'init');
      const r4 = await ca('card', 'dkek', 'import', join(dir, 's1.pbe'), '--card', fresh.serial, '--password-file', pw2, ...KDF);
      assert.equal(r4.code, 3, r4.stderr);
      assert.match(r4.stderr, /DKEK_SHARE_PASSWORD_WRONG/);
      assert.deepEqual(await status(fresh), { shares: 1, missing: 1, kcv: '0000000000000000' });
      // A ceremony on a card whose DKEK is pending refuses to generate (the key could never leave).
      const home2 = join(dir, 'home2');
      expectOk(await ca('init', '--rehearsal', '--home', home2), 'init home2');
      const cer = await ca('ceremony', 'root', '--home', home2, '--card', fresh.serial, '--pin-file', pin, '--yes');
      assert.equal(cer.code, 3, cer.stderr);
      assert.match(cer.stderr, /DKEK_INCOMPLETE/);
      assert.match(cer.stderr, /--no-backup/);
      assert.deepEqual(await keys(fresh), [], 'no key generated');

      // Threshold: a share whose password is split 2-of-3; any two password shares import it.
      const ts = join(dir, 'threshold.pbe');
      const made = expectOk(await ca('card', 'dkek', 'create-share', ts, '--card', fresh.serial, '--threshold', '2', '--shares', '3', ...KDF), 'threshold share');
      assert.match(made.stdout, /any 2 of the 3 password shares/);
      const pws = [1, 2, 3].map((k) => `${ts}.pwd-share-${k}.txt`);
      assert.match(readFileSync(pws[0]!, 'utf8'), /^cardca DKEK password share 1 of 3/);
      const one = await ca('card', 'dkek', 'import', ts, '--card', fresh.serial, '--threshold-shares', pws[2]!, ...KDF);
      assert.notEqual(one.code, 0);
      assert.match(one.stderr, /DKEK_PASSWORD_SHARES_INVALID/);
      expectOk(await ca('card', 'dkek', 'import', ts, '--card', fresh.serial, '--threshold-shares', pws[0]!, pws[2]!, ...KDF), 'import with shares 1 and 3');
      assert.equal((await status(fresh)).missing, 0);
    } finally {
      await fresh.stop();
    }
  });

  test('a share already imported into a card still waiting for shares is refused, the card unchanged', async () => {
    const three = await startEmulator({ port: 35968 });
    try {
      expectOk(await ca('card', 'init', '--card', three.serial, '--label', 'dup', '--so-pin-file', soPin, '--pin-file', pin, '--dkek-shares', '3'), 'init');
      const s1 = join(dir, 's1.pbe');
      const s2 = join(dir, 's2.pbe');
      expectOk(await ca('card', 'dkek', 'import', s1, '--card', three.serial, '--password-file', pw1, ...KDF), 'import 1');
      // One share in: the card's KCV is that share's own check value.
      const one = await status(three);
      const again = await ca('card', 'dkek', 'import', s1, '--card', three.serial, '--password-file', pw1, ...KDF);
      assert.equal(again.code, 3, again.stderr);
      assert.match(again.stderr, /DKEK_SHARE_DUPLICATE/);
      assert.deepEqual(await status(three), one, 'nothing imported');
      expectOk(await ca('card', 'dkek', 'import', s2, '--card', three.serial, '--password-file', pw2, ...KDF), 'import 2');
      // Two shares in: only the register of what cardca imported can tell.
      const two = await status(three);
      for (const [f, pw] of [[s1, pw1], [s2, pw2]] as const) {
        const r = await ca('card', 'dkek', 'import', f, '--card', three.serial, '--password-file', pw, ...KDF);
        assert.equal(r.code, 3, r.stderr);
        assert.match(r.stderr, /DKEK_SHARE_DUPLICATE/);
      }
      assert.deepEqual(await status(three), two, 'nothing imported');
      // Without the register (another machine imported the first two) cardca says it cannot check.
      const s4 = join(dir, 's4.pbe');
      expectOk(await ca('card', 'dkek', 'create-share', s4, '--card', three.serial, '--password-file', pw1, ...KDF), 'share 4');
      const blind = await runCommand(process.execPath, [BIN, 'card', 'dkek', 'import', s4, '--card', three.serial, '--password-file', pw1, ...KDF], { env: { XDG_STATE_HOME: join(dir, 'other-state') } });
      assert.equal(blind.code, 0, blind.stderr);
      assert.match(blind.stderr, /cannot tell whether this share is already in/);
      assert.equal((await status(three)).missing, 0);
    } finally {
      await three.stop();
    }
  });

  test('root ceremony, ca key backup (audited), root card destroyed, ca key restore onto the backup card, CRL by the backup card verifies', async () => {
    expectOk(await ca('init', '--rehearsal', '--home', home), 'ca init');
    expectOk(await ca('ceremony', 'root', '--home', home, '--card', root.serial, '--pin-file', pin, '--yes'), 'ceremony root');
    const wrap = join(dir, 'root.wrap');
    const b = JSON.parse(
      expectOk(await ca('key', 'backup', '--home', home, '--ca', 'root', '--out', wrap, '--pin-file', pin, '--json', '--operator', 'Olga Operator', '--custodian', 'Carl Custodian', '--custodian', 'Cora Custodian', '--witness', 'Walt Witness'), 'backup').stdout,
    );
    assert.equal(b.kcv, (await status(root)).kcv);
    // The "key backup" ceremony transcript: custodians as participants, card, file hash, KCV.
    const md = b.transcript.files.find((f: { fileName: string }) => f.fileName.endsWith('.md'));
    assert.match(md.fileName, /^ceremony-\d{8}T\d{6}Z-key-backup-root\.md$/);
    const text = readFileSync(md.path, 'utf8');
    for (const want of ['# REHEARSAL — Ceremony transcript: CA key backup under the DKEK', '| Olga Operator | operator |', '| Carl Custodian | key-custodian |', '| Cora Custodian | key-custodian |', '| Walt Witness | witness |', 'Carl Custodian (key-custodian): ___', `| root | ${root.serial} |`, b.sha256, b.kcv, 'root.wrap']) {
      assert.ok(text.includes(want), `transcript lacks ${JSON.stringify(want)}:\n${text}`);
    }
    assert.ok(!text.includes('648219'), 'no PIN in the transcript');
    expectOk(await ca('audit', 'verify', '--home', home, '--transcript', md.path, '--pin-file', pin), 'audit verify --transcript');
    assert.equal(readFileSync(wrap)[0], 0x30);
    const audit = expectOk(await ca('audit', 'log', '--home', home, '--json'), 'audit').stdout;
    assert.match(audit, /key\.backup/);
    assert.ok(audit.includes(b.sha256), 'backup hash audited');

    // Lose the root card: stop it and destroy its state file.
    await root.stop();
    rmSync(root.stateFile);

    // Before the real restore, onto the (same-DKEK) backup card: a forged blob and an occupied slot.
    expectOk(await ca('card', 'keygen', '--card', backup.serial, '--label', 'other', '--alg', 'p256', '--pin-file', pin), 'keygen on backup');
    const keysBefore = await keys(backup);
    const forged = Buffer.from(readFileSync(wrap));
    forged[40]! ^= 0x01; // inside the encrypted part of the blob: the card's CMAC check fails
    const forgedFile = join(dir, 'forged.wrap');
    writeFileSync(forgedFile, forged);
    const f = await ca('key', 'restore', forgedFile, '--home', home, '--card', backup.serial, '--pin-file', pin);
    assert.equal(f.code, 3, f.stderr);
    assert.match(f.stderr, /DKEK_BLOB_REJECTED/);
    const inUse = await ca('key', 'restore', wrap, '--home', home, '--card', backup.serial, '--pin-file', pin, '--key-ref', '1');
    assert.equal(inUse.code, 3, inUse.stderr);
    assert.match(inUse.stderr, /DKEK_SLOT_IN_USE/);
    assert.deepEqual(await keys(backup), keysBefore, 'refused restores wrote nothing');

    const r = JSON.parse(expectOk(await ca('key', 'restore', wrap, '--home', home, '--card', backup.serial, '--pin-file', pin, '--json', '--custodian', 'Cora Custodian'), 'restore').stdout);
    assert.equal(r.keyRef, 2, 'first free slot');
    const restoreMd = readFileSync(r.transcript.files.find((f: { fileName: string }) => f.fileName.endsWith('.md')).path, 'utf8');
    assert.match(restoreMd, /CA key restore onto a further card/);
    assert.ok(restoreMd.includes(`card **${backup.serial}** (sc-hsm)`), restoreMd);
    assert.equal(r.card, backup.serial);
    const st = JSON.parse(expectOk(await ca('status', '--home', home, '--json'), 'status').stdout);
    const rootSt = st.cas.find((c: { name: string }) => c.name === 'root');
    assert.equal(rootSt.card.serial, root.serial);
    assert.deepEqual(rootSt.furtherCards.map((f: { serial: string }) => f.serial), [backup.serial], 'ca status shows every card holding the key');
    const crlFile = join(dir, 'root.crl');
    expectOk(await ca('crl', '--home', home, '--issuer', 'root', '--card', backup.serial, '--pin-file', pin, '--out', crlFile), 'crl by the backup card');
    const v = await runCommand('openssl', ['crl', '-in', crlFile, '-noout', '-verify', '-CAfile', join(home, 'certs', 'root.crt')]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout + v.stderr, /verify OK/);
    // The CRL transcript names the card that signed (the backup card), its family and the key iD.
    const rootKeyId = (JSON.parse(expectOk(await ca('status', '--home', home, '--json'), 'status').stdout).cas.find((c: { name: string }) => c.name === 'root').card.keyId) as string;
    const crlTranscript = readdirSync(join(home, 'ceremonies')).filter((n) => /-crl-root(-\d+)?\.md$/.test(n)).sort().at(-1)!;
    const crlMd = readFileSync(join(home, 'ceremonies', crlTranscript), 'utf8');
    assert.match(crlMd, new RegExp(`- root CRL \\\\#\\d+: card \\*\\*${backup.serial}\\*\\* \\(sc-hsm\\), key iD \`${rootKeyId}\`, key reference 2`), crlMd);
    // A sub-CA ceremony signed by the backup card (the root card is gone): its transcript and
    // `ca sign` under the new sub-CA (audited `sign.card`) say which card signed.
    const sub = JSON.parse(
      expectOk(await ca('ceremony', 'subca', 'servers', '--home', home, '--card', stranger.serial, '--issuer-card', backup.serial, '--pin-file', pin, '--issuer-pin-file', pin, '--yes', '--json'), 'subca by the backup card').stdout,
    );
    assert.deepEqual(sub.signatures.map((g: { cardSerial: string; cardFamily: string; keyId: string; keyRef: number }) => [g.cardSerial, g.cardFamily, g.keyId, g.keyRef]), [[backup.serial, 'sc-hsm', rootKeyId, 2]]);
    const subMd = readFileSync(sub.transcript.files.find((f: { fileName: string }) => f.fileName.endsWith('.md')).path, 'utf8');
    assert.ok(subMd.includes(`card **${backup.serial}** (sc-hsm), key iD \`${rootKeyId}\``), subMd);
    const csr = join(dir, 'leaf.csr');
    expectOk(await runCommand('openssl', ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', join(dir, 'leaf.key'), '-subj', '/CN=www.example.test', '-addext', 'subjectAltName=DNS:www.example.test', '-out', csr]), 'openssl req');
    expectOk(await ca('sign', csr, '--home', home, '--issuer', 'servers', '--profile', 'tls-server', '--pin-file', pin, '--out', join(dir, 'leaf.crt')), 'sign');
    const signCard = (JSON.parse(expectOk(await ca('audit', 'log', '--home', home, '--json'), 'audit').stdout) as { event: string; data: Record<string, unknown> }[]).filter((e) => e.event === 'sign.card');
    assert.equal(signCard.length, 1);
    assert.equal(signCard[0]!.data['card'], stranger.serial);
    assert.equal(signCard[0]!.data['cardFamily'], 'sc-hsm');
    const drill = JSON.parse(expectOk(await ca('key', 'drill', '--home', home, '--ca', 'root', '--card', backup.serial, '--pin-file', pin, '--json', '--custodian', 'Carl Custodian'), 'drill').stdout);
    assert.equal(drill.verified, true);
    const drillMd = readFileSync(drill.transcript.files.find((f: { fileName: string }) => f.fileName.endsWith('.md')).path, 'utf8');
    assert.ok(drillMd.includes(`card **${backup.serial}** (sc-hsm), key iD \`${rootKeyId}\`, key reference 2`), drillMd);
    assert.ok(drillMd.includes('| Carl Custodian | key-custodian |'), drillMd);
    assert.match(expectOk(await ca('audit', 'log', '--home', home, '--json'), 'audit').stdout, /key\.drill/);
  });

  test('bad restores: different DKEK, truncated file, card already bound; nothing written', async () => {
    const wrap = readFileSync(join(dir, 'root.wrap'));
    const before = await keys(stranger);
    const r1 = await ca('key', 'restore', join(dir, 'root.wrap'), '--home', home, '--card', stranger.serial, '--pin-file', pin);
    assert.equal(r1.code, 3, r1.stderr);
    assert.match(r1.stderr, /DKEK_MISMATCH/);

    const r2 = await ca('key', 'restore', join(dir, 'root.wrap'), '--home', home, '--card', backup.serial, '--pin-file', pin);
    assert.equal(r2.code, 3, r2.stderr);
    assert.match(r2.stderr, /already holds the key/);
    const backupKeys = await keys(backup);

    const truncated = join(dir, 'trunc.wrap');
    writeFileSync(truncated, wrap.subarray(0, wrap.length - 10));
    const r3 = await ca('key', 'restore', truncated, '--home', home, '--card', stranger.serial, '--pin-file', pin, '--ca', 'root');
    assert.equal(r3.code, 3, r3.stderr);
    assert.match(r3.stderr, /DKEK_BACKUP_FILE_INVALID/);
    assert.deepEqual(await keys(stranger), before);
    assert.deepEqual(await keys(backup), backupKeys);
  });

  test('interop: sc-hsm-tool --unwrap-key imports a ca key backup and OpenSC signs with it; an sc-hsm-tool --wrap-key file restores with ca key restore', async () => {
    const PKCS11 = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
    // sc-hsm-tool unwraps cardca's backup file into slot 10 of the backup card (same DKEK).
    const un = await runCommand('sc-hsm-tool', ['-r', backup.readerName, '--unwrap-key', join(dir, 'root.wrap'), '--key-reference', '10', '--pin', '648219']);
    assert.equal(un.code, 0, un.stdout + un.stderr);
    assert.match(un.stdout, /Key successfully imported/);
    const data = join(dir, 'tbs.bin');
    const sig = join(dir, 'tbs.sig');
    writeFileSync(data, 'signed through OpenSC with the unwrapped root key');
    const rootCert = join(home, 'certs', 'root.crt');
    // The example root profile is P-384 (profiles/root.yaml): the card signs a SHA-384 hash.
    assert.match((await runCommand('openssl', ['x509', '-in', rootCert, '-noout', '-text'])).stdout, /id-ecPublicKey/);
    const hashFile = join(dir, 'tbs.sha384');
    writeFileSync(hashFile, createHash('sha384').update(readFileSync(data)).digest());
    // The unwrapped key carries the root key's iD (slot 2 and slot 10 both hold the root key).
    const id = JSON.parse(expectOk(await ca('status', '--home', home, '--json'), 'status').stdout).cas.find((c: { name: string }) => c.name === 'root').card.keyId as string;
    const p11 = await runCommand('pkcs11-tool', ['--module', PKCS11, '--slot-description', backup.readerName, '--login', '--pin', '648219', '--sign', '--id', id, '--mechanism', 'ECDSA', '--signature-format', 'openssl', '--input-file', hashFile, '--output-file', sig]);
    assert.equal(p11.code, 0, p11.stdout + p11.stderr);
    const pub = join(dir, 'root.pub.pem');
    expectOk(await runCommand('openssl', ['x509', '-in', rootCert, '-noout', '-pubkey', '-out', pub]), 'pubkey');
    const v = await runCommand('openssl', ['dgst', '-sha384', '-verify', pub, '-signature', sig, data]);
    assert.match(v.stdout, /Verified OK/, v.stderr);

    // sc-hsm-tool wraps the restored key on the backup card; ca key restore puts it on the
    // stranger card once that card holds the same shares.
    const toolWrap = join(dir, 'tool.wrap');
    const w = await runCommand('sc-hsm-tool', ['-r', backup.readerName, '--wrap-key', toolWrap, '--key-reference', '2', '--pin', '648219']);
    assert.equal(w.code, 0, w.stdout + w.stderr);
    expectOk(await ca('card', 'init', '--card', stranger.serial, '--label', 'third', '--so-pin-file', soPin, '--pin-file', pin, '--dkek-shares', '2'), 'reinit stranger');
    expectOk(await ca('card', 'dkek', 'import', join(dir, 's1.pbe'), '--card', stranger.serial, '--password-file', pw1, ...KDF), 'import 1');
    expectOk(await ca('card', 'dkek', 'import', join(dir, 's2.pbe'), '--card', stranger.serial, '--password-file', pw2, ...KDF), 'import 2');
    const r = JSON.parse(expectOk(await ca('key', 'restore', toolWrap, '--home', home, '--card', stranger.serial, '--pin-file', pin, '--json'), 'restore tool file').stdout);
    assert.equal(r.ca, 'root');
    expectOk(await ca('key', 'drill', '--home', home, '--ca', 'root', '--card', stranger.serial, '--pin-file', pin), 'drill third card');
  });
});
