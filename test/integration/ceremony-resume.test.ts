/**
 * Ceremonies that can be finished (issue #8 item 5), through the real CLI, pcscd and vpcd: the
 * card itself fails (the emulator's `--fault sw-ins=…`, i.e. the card answers an error status to
 * every SIGN or every UPDATE BINARY), after the first run has bound the key. Each failure ends in
 * a state that `--resume` completes, and the hints printed name commands that work:
 *   - root: SIGN refused (bound, no certificate) → resume, the write-back refused (certificate
 *     signed and committed, not on the card) → resume attaches that certificate; one root
 *     certificate in the end, openssl accepts it;
 *   - sub-CA: the write-back to the sub-CA card refused (the root already signed) → a plain
 *     re-run answers CA_EXISTS naming --resume → resume writes the signed certificate, no
 *     second signature by the root.
 * Cards are re-plugged (the emulator restarted on its state file) between runs, as an operator
 * would swap a faulty reader.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';
import { BIN, expectOk, runCommand, type Run } from '../helpers/run-command.js';
import { initTwoCardHome, type TwoCardHome } from '../helpers/two-card-home.js';

const ROOT_PORT = 35963;
const SUB_PORT = 35964;
let t: TwoCardHome;
let rootEmu: EmulatorProcess;
let subEmu: EmulatorProcess;
let rootKey: string;
let subKey: string;
const ca = (...args: string[]): Promise<Run> => runCommand(process.execPath, [BIN, ...args, '--home', t.home]);

/** Pull the card and plug it back with other faults (same state file, same serial). */
async function replug(which: 'root' | 'sub', faults: string[] = []): Promise<EmulatorProcess> {
  const cur = which === 'root' ? rootEmu : subEmu;
  await cur.stop();
  const next = await startEmulator({ port: which === 'root' ? ROOT_PORT : SUB_PORT, stateFile: cur.stateFile, faults });
  assert.equal(next.serial, cur.serial);
  if (which === 'root') rootEmu = next;
  else subEmu = next;
  return next;
}

interface ListedCert { serial: string; issuer: string; subject: string; status: string }
async function certs(): Promise<ListedCert[]> {
  return JSON.parse(expectOk(await ca('list', '--json'), 'list').stdout) as ListedCert[];
}
/** APDUs with this INS the emulator answered since it was plugged in. */
function apdus(e: EmulatorProcess, ins: number): number {
  const lines = readFileSync(e.apduLogFile, 'utf8').split('\n').filter((l) => l.trim() !== '');
  return lines.filter((l) => parseInt((JSON.parse(l) as { command: string }).command.slice(2, 4), 16) === ins).length;
}

before(async () => {
  t = await initTwoCardHome('cardca-resume-', [ROOT_PORT, SUB_PORT]);
  rootEmu = t.rootEmu;
  subEmu = t.subEmu;
  const kg = (e: EmulatorProcess, alg: string) => runCommand(process.execPath, [BIN, 'card', 'keygen', '--reader', e.readerName, '--label', `k-${alg}`, '--alg', alg, '--pin-file', t.pin, '--json']);
  rootKey = (JSON.parse(expectOk(await kg(rootEmu, 'p384'), 'keygen root').stdout) as { id: string }).id;
  subKey = (JSON.parse(expectOk(await kg(subEmu, 'p256'), 'keygen sub').stdout) as { id: string }).id;
});

after(async () => {
  await rootEmu?.stop();
  await subEmu?.stop();
});

test('root ceremony: SIGN refused, then the write-back refused; each time --resume finishes it with one root certificate', async () => {
  // 1. The card refuses SIGN (INS 68): the key is bound, nothing is signed.
  await replug('root', ['sw-ins=68:6581']);
  const first = await ca('ceremony', 'root', '--card', rootEmu.serial, '--key-id', rootKey, '--pin-file', t.pin, '--yes');
  assert.equal(first.code, 3, first.stderr);
  assert.match(first.stderr, /6581/);
  assert.match(first.stderr, /finish it with `ca ceremony root --resume`/, 'the failed run itself says how to finish');
  const plain = await ca('ceremony', 'root', '--card', rootEmu.serial, '--key-id', rootKey, '--pin-file', t.pin, '--yes');
  assert.equal(plain.code, 1, plain.stderr);
  assert.match(plain.stderr, /CA_EXISTS.*started but did not finish/);
  assert.match(plain.stderr, /`ca ceremony root --resume`/);
  assert.equal((await certs()).filter((c) => c.status === 'issued').length, 0, 'nothing issued by the failed run');

  // 2. Resume; now the card refuses UPDATE BINARY (INS D7): the certificate is signed and
  //    committed, but not on the card.
  await replug('root', ['sw-ins=D7:6581']);
  const second = await ca('ceremony', 'root', '--resume', '--card', rootEmu.serial, '--pin-file', t.pin, '--yes');
  assert.notEqual(second.code, 0, second.stderr);
  assert.match(second.stderr, /6581/);
  assert.match(second.stderr, /finish it with `ca ceremony root --resume`/);
  const afterSecond = (await certs()).filter((c) => c.status === 'issued');
  assert.equal(afterSecond.length, 1, 'the resumed run signed the root certificate');

  // 3. Resume on a working card: the signed certificate is attached, not signed again.
  await replug('root');
  const done = expectOk(await ca('ceremony', 'root', '--resume', '--card', rootEmu.serial, '--pin-file', t.pin, '--yes', '--json'), 'resume root');
  const rec = JSON.parse(done.stdout) as { steps: { text: string }[] };
  assert.ok(rec.steps.some((s) => /resumed: key .* is the one bound by the first run/.test(s.text)), JSON.stringify(rec.steps));
  assert.ok(rec.steps.some((s) => new RegExp(`attached the certificate the interrupted run signed and verified \\(serial ${afterSecond[0]!.serial}\\)`).test(s.text)), JSON.stringify(rec.steps));
  assert.equal(apdus(rootEmu, 0x68), 0, 'no SIGN on the resume that attached');
  const all = await certs();
  assert.deepEqual(all.filter((c) => c.status === 'issued').map((c) => c.serial), [afterSecond[0]!.serial], 'exactly one root certificate');
  const v = expectOk(await runCommand('openssl', ['verify', '-CAfile', join(t.home, 'certs', 'root.crt'), join(t.home, 'certs', 'root.crt')]), 'openssl verify root');
  assert.match(v.stdout, /OK/);
  // The card holds it now (ca card list shows the key with its certificate).
  const list = JSON.parse(expectOk(await runCommand(process.execPath, [BIN, 'card', 'list', '--reader', rootEmu.readerName, '--json']), 'card list').stdout) as unknown;
  assert.match(JSON.stringify(list), new RegExp(rootKey));
  expectOk(await ca('db', 'check'), 'db check');
  expectOk(await ca('audit', 'verify', '--pin-file', t.pin), 'audit verify with the cards');
  const again = await ca('ceremony', 'root', '--resume', '--card', rootEmu.serial, '--pin-file', t.pin, '--yes');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /CA_EXISTS.*its ceremony completed/);
});

test('sub-CA ceremony: the write-back to the sub-CA card refused; the hint works; --resume writes the signed certificate without a second signature', async () => {
  await replug('sub', ['sw-ins=D7:6581']);
  const first = await ca('ceremony', 'subca', 'servers', '--card', subEmu.serial, '--key-id', subKey, '--pin-file', t.pin, '--issuer-pin-file', t.pin, '--yes');
  assert.notEqual(first.code, 0, first.stderr);
  assert.match(first.stderr, /6581/);
  assert.match(first.stderr, /finish it with `ca ceremony subca servers --resume`/, 'the failed run itself says how to finish');
  const signed = (await certs()).filter((c) => c.status === 'issued' && c.issuer === 'root');
  const sub = signed.filter((c) => /servers/i.test(c.subject));
  assert.equal(sub.length, 1, `the root signed the servers certificate before the write-back failed: ${JSON.stringify(signed)}`);
  const plain = await ca('ceremony', 'subca', 'servers', '--card', subEmu.serial, '--key-id', subKey, '--pin-file', t.pin, '--issuer-pin-file', t.pin, '--yes');
  assert.equal(plain.code, 1, plain.stderr);
  assert.match(plain.stderr, /CA_EXISTS.*started but did not finish/);
  assert.match(plain.stderr, /`ca ceremony subca servers --resume`/);

  await replug('sub');
  const rootSignsBefore = apdus(rootEmu, 0x68);
  const done = expectOk(await ca('ceremony', 'subca', 'servers', '--resume', '--card', subEmu.serial, '--pin-file', t.pin, '--issuer-pin-file', t.pin, '--yes', '--json'), 'resume servers');
  const rec = JSON.parse(done.stdout) as { steps: { text: string }[] };
  assert.ok(rec.steps.some((s) => new RegExp(`attached the certificate the interrupted run signed and verified \\(serial ${sub[0]!.serial}\\)`).test(s.text)), JSON.stringify(rec.steps));
  assert.equal(apdus(rootEmu, 0x68), rootSignsBefore, 'the root card signed nothing on resume');
  assert.deepEqual((await certs()).filter((c) => c.status === 'issued' && /servers/i.test(c.subject)).map((c) => c.serial), [sub[0]!.serial]);
  const chain = expectOk(await runCommand('openssl', ['verify', '-CAfile', join(t.home, 'certs', 'root.crt'), join(t.home, 'certs', 'servers.crt')]), 'openssl verify servers');
  assert.match(chain.stdout, /OK/);
  expectOk(await ca('db', 'check'), 'db check');
  expectOk(await ca('audit', 'verify', '--pin-file', t.pin), 'audit verify with the cards');
  // The sub-CA card signs: the ceremony's result is usable.
  expectOk(await ca('crl', '--issuer', 'servers', '--pin-file', t.pin), 'crl servers');
});

test('ca ceremony subca --issuer-reader: the issuer card is taken from that reader only; the wrong reader is refused, the right one finishes by --resume', async () => {
  const rootSigns = apdus(rootEmu, 0x68);
  // The sub-CA card's reader named as the issuer's: the root card is not there.
  const wrong = await ca('ceremony', 'subca', 'clients', '--card', subEmu.serial, '--reader', subEmu.readerName, '--issuer-reader', subEmu.readerName, '--pin-file', t.pin, '--issuer-pin-file', t.pin, '--yes');
  assert.notEqual(wrong.code, 0, wrong.stderr);
  assert.match(wrong.stderr, new RegExp(`CARD_(WRONG|NOT_FOUND|BUSY).*${rootEmu.serial}|${rootEmu.serial}.*CARD_(WRONG|NOT_FOUND|BUSY)`));
  assert.match(wrong.stderr, /ca ceremony subca clients --resume/);
  assert.equal(apdus(rootEmu, 0x68), rootSigns, 'the root card was not used');
  const done = expectOk(
    await ca('ceremony', 'subca', 'clients', '--resume', '--reader', subEmu.readerName, '--issuer-reader', rootEmu.readerName, '--pin-file', t.pin, '--issuer-pin-file', t.pin, '--yes', '--json'),
    'resume with the right --issuer-reader',
  );
  const rec = JSON.parse(done.stdout) as { cards: { role: string; serial: string; reader?: string }[] };
  const issuerCard = rec.cards.find((c) => c.serial === rootEmu.serial);
  assert.ok(issuerCard, JSON.stringify(rec.cards));
  assert.equal(issuerCard.reader, rootEmu.readerName);
  assert.equal(apdus(rootEmu, 0x68), rootSigns + 1, 'the root card signed the clients certificate once');
  const chain = expectOk(await runCommand('openssl', ['verify', '-CAfile', join(t.home, 'certs', 'root.crt'), join(t.home, 'certs', 'clients.crt')]), 'openssl verify clients');
  assert.match(chain.stdout, /OK/);
});
