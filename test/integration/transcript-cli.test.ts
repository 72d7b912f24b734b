/**
 * Ceremony transcripts through the real CLI and pcscd (vpcd ports 35963/35964, readers
 * "Virtual PCD 00 00" / "Virtual PCD 00 01"): `ca ceremony root|subca` write a Markdown and an
 * HTML transcript into HOME/ceremonies/ with card serials, PIN tries, fingerprints and the
 * commands (no PIN); their SHA-256 is in a `transcript.written` audit record; `ca audit verify
 * --transcript` accepts the original and refuses a tampered or unknown copy with stable codes.
 */
import { BIN, expectOk, runCommand, type Run } from '../helpers/run-command.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmulatorProcess } from '../helpers/emulator-process.js';
import { initTwoCardHome, TEST_PIN } from '../helpers/two-card-home.js';

const PIN = TEST_PIN;

const run = (cmd: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> =>
  runCommand(cmd, args, { env: { TZ: 'Europe/Berlin', ...env } });

let dir: string;
let home: string;
let pin: string;
let rootEmu: EmulatorProcess;
let subEmu: EmulatorProcess;
const ca = (...args: string[]): Promise<Run> => run(process.execPath, [BIN, ...args, '--home', home]);
const ok = expectOk;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

interface CeremonyJson {
  ceremonyId: string;
  cards: { serial: string; triesLeftBefore: number | null; triesLeftAfter: number | null }[];
  keys: { spkiSha256: string; keyId: string }[];
  certificates: { sha256: string; serialHex: string }[];
  transcript: { files: { path: string; fileName: string; sha256: string }[]; auditSeq: number };
}

before(async () => {
  ({ dir, home, pin, rootEmu, subEmu } = await initTwoCardHome('cardca-transcript-', [35963, 35964]));
});

after(async () => {
  await rootEmu?.stop();
  await subEmu?.stop();
});

let rootRecord: CeremonyJson;
let subRecord: CeremonyJson;

test('ceremonies write Markdown + HTML transcripts whose hashes are in the audit log', async () => {
  const root = ok(
    await ca('ceremony', 'root', '--card', rootEmu.serial, '--pin-file', pin, '--yes', '--json', '--operator', 'Alice Admin', '--witness', 'Bob Witness'),
    'ceremony root',
  );
  rootRecord = JSON.parse(root.stdout) as CeremonyJson;
  const sub = ok(await ca('ceremony', 'subca', 'servers', '--card', subEmu.serial, '--pin-file', pin, '--issuer-pin-file', pin, '--yes', '--json', '--operator', 'Alice Admin'), 'ceremony subca');
  subRecord = JSON.parse(sub.stdout) as CeremonyJson;

  const files = readdirSync(join(home, 'ceremonies')).sort();
  assert.equal(files.length, 4, files.join(', '));
  assert.ok(files.some((f) => /^ceremony-\d{8}T\d{6}Z-root-root\.md$/.test(f)), files.join(', '));
  assert.ok(files.some((f) => /^ceremony-\d{8}T\d{6}Z-subca-servers\.html$/.test(f)), files.join(', '));

  // Tries left are read from the cards: before the VERIFY and after the last one.
  // (`card init` default: 3 tries; a successful VERIFY leaves the counter at its limit.)
  assert.deepEqual(rootRecord.cards.map((c) => [c.serial, c.triesLeftBefore, c.triesLeftAfter]), [[rootEmu.serial, 3, 3]]);
  assert.deepEqual(subRecord.cards.map((c) => [c.serial, c.triesLeftBefore, c.triesLeftAfter]), [[subEmu.serial, 3, 3], [rootEmu.serial, 3, 3]]);

  const [mdFile, htmlFile] = rootRecord.transcript.files;
  const md = readFileSync(mdFile!.path, 'utf8');
  const html = readFileSync(htmlFile!.path, 'utf8');
  assert.equal(sha256(readFileSync(mdFile!.path)), mdFile!.sha256);
  assert.equal(sha256(readFileSync(htmlFile!.path)), htmlFile!.sha256);
  for (const text of [md, html]) {
    assert.ok(text.includes(rootEmu.serial), 'card serial');
    assert.match(text, /UTC/);
    assert.match(text, /\+01:00|\+02:00/, 'local time in the operator zone (TZ=Europe/Berlin)');
    assert.ok(text.includes('Alice Admin') && text.includes('Bob Witness'), 'participants');
    assert.ok(text.includes('ca ceremony root'), 'command run');
    assert.ok(text.includes("--operator 'Alice Admin'") || text.includes('--operator &#x27;Alice Admin&#x27;'), 'operator quoted in the command');
    assert.ok(text.includes('--pin-file …'), 'PIN file path elided');
    assert.ok(!text.includes(PIN), 'no PIN in the transcript');
    assert.ok(!text.includes(pin), 'no PIN file path in the transcript');
  }
  // Fingerprints are shown colon-separated upper case.
  const colon = (h: string): string => h.toUpperCase().match(/../g)!.join(':');
  assert.ok(md.includes(colon(rootRecord.keys[0]!.spkiSha256)), 'key SPKI SHA-256');
  assert.ok(md.includes(colon(rootRecord.certificates[0]!.sha256)), 'certificate SHA-256');
  assert.match(md, /generated .* key .* on card/);

  const log = JSON.parse(ok(await ca('audit', 'log', '--json'), 'audit log').stdout) as { seq: number; event: string; data: { files?: { name: string; sha256: string }[] } }[];
  const written = log.filter((r) => r.event === 'transcript.written');
  assert.equal(written.length, 2);
  assert.equal(written[0]!.seq, rootRecord.transcript.auditSeq);
  assert.deepEqual(written[0]!.data.files, rootRecord.transcript.files.map((f) => ({ name: f.fileName, sha256: f.sha256 })));
  assert.ok(!JSON.stringify(log).includes(PIN), 'no PIN in the audit log');
});

test('`ca audit verify --transcript` accepts the binder copy and refuses a tampered or unknown one', async () => {
  assert.ok(subRecord, 'needs the ceremony test');
  const original = subRecord.transcript.files[1]!; // the HTML
  const copy = join(dir, original.fileName);
  copyFileSync(original.path, copy);
  const good = ok(await ca('audit', 'verify', '--pin-file', pin, '--transcript', copy), 'verify transcript');
  assert.match(good.stdout, new RegExp(`matches audit record #${subRecord.transcript.auditSeq}\\b`));

  // One changed character: same file name, other hash.
  const tamperedDir = join(dir, 'tampered');
  mkdirSync(tamperedDir);
  const tampered = join(tamperedDir, original.fileName);
  const text = readFileSync(original.path, 'utf8');
  writeFileSync(tampered, text.replace(subEmu.serial, subEmu.serial.slice(0, -1) + (subEmu.serial.endsWith('9') ? '8' : '9')));
  const bad = await ca('audit', 'verify', '--pin-file', pin, '--transcript', tampered);
  assert.equal(bad.code, 11, bad.stderr);
  assert.match(bad.stderr, /AUDIT_TRANSCRIPT_MISMATCH/);
  assert.match(bad.stderr, new RegExp(`audit record #${subRecord.transcript.auditSeq}\\b`));

  const stranger = join(dir, 'notes.md');
  writeFileSync(stranger, '# not a transcript\n');
  const unknown = await ca('audit', 'verify', '--pin-file', pin, '--transcript', stranger);
  assert.equal(unknown.code, 11, unknown.stderr);
  assert.match(unknown.stderr, /AUDIT_TRANSCRIPT_UNKNOWN/);
});

test('`ca crl` writes a "crl" transcript per CRL, never overwriting an earlier one', async () => {
  assert.ok(subRecord, 'needs the ceremony test');
  const before = new Set(readdirSync(join(home, 'ceremonies')));
  ok(await ca('crl', '--issuer', 'servers', '--pin-file', pin, '--operator', 'Carol Ops'), 'crl 1');
  ok(await ca('crl', '--issuer', 'servers', '--pin-file', pin, '--operator', 'Carol Ops'), 'crl 2');
  const added = readdirSync(join(home, 'ceremonies')).filter((f) => !before.has(f)).sort();
  assert.equal(added.length, 4, added.join(', '));
  assert.ok(added.every((f) => /-crl-servers(-\d+)?\.(md|html)$/.test(f)), added.join(', '));
  const md = added.filter((f) => f.endsWith('.md')).map((f) => readFileSync(join(home, 'ceremonies', f), 'utf8'));
  assert.ok(md.some((t) => /CRL number 1\b/.test(t)) && md.some((t) => /CRL number 2\b/.test(t)), 'one transcript per CRL number');
  for (const t of md) {
    assert.ok(t.includes('Carol Ops') && t.includes(subEmu.serial) && t.includes('--pin-file …'));
    assert.ok(!t.includes(PIN));
  }
  for (const f of added) ok(await ca('audit', 'verify', '--pin-file', pin, '--transcript', join(home, 'ceremonies', f)), `verify ${f}`);
});

test('a ceremony that fails after it started still gets a "failed" transcript', async () => {
  assert.ok(subRecord, 'needs the ceremony test');
  const before = new Set(readdirSync(join(home, 'ceremonies')));
  // The issuer card is in no reader: the sub-CA key is generated and bound, then the ceremony stops.
  const r = await ca('ceremony', 'subca', 'users', '--card', subEmu.serial, '--issuer-card', 'DENOSUCHCARD', '--pin-file', pin, '--issuer-pin-file', pin, '--yes');
  assert.equal(r.code, 8, r.stderr);
  assert.match(r.stderr, /CARD_NOT_FOUND/);
  assert.match(r.stderr, /transcript of the failed ceremony/);
  const added = readdirSync(join(home, 'ceremonies')).filter((f) => !before.has(f)).sort();
  assert.deepEqual(added.map((f) => f.replace(/^ceremony-\d{8}T\d{6}Z-/, '')), ['subca-users.html', 'subca-users.md']);
  const md = readFileSync(join(home, 'ceremonies', added[1]!), 'utf8');
  assert.match(md, /\*\*failed\*\*: CARD\\_NOT\\_FOUND/);
  assert.match(md, /generated .* key .* on card/);
  assert.match(md, /\| failed \|/);
  assert.ok(md.includes(subEmu.serial));
  assert.ok(!md.includes(PIN));
  ok(await ca('audit', 'verify', '--pin-file', pin, '--transcript', join(home, 'ceremonies', added[0]!)), 'verify failed-ceremony transcript');
});
