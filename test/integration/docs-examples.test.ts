/**
 * The operator documentation's examples are run (issue 5 item 4).
 *
 * Every ```sh block marked `<!-- doc-test: NAME -->` in docs/*.md (docs/operator-guide.md
 * first, then the others alphabetically) runs in document order in one temporary CA home, with
 * two factory-fresh virtual SmartCard-HSMs on vpcd ports 35965/35966 ("Virtual PCD 2 00 00" /
 * "… 2 00 01") whose serials are in $ROOT_CARD / $SUB_CARD (plus a blank user token on 35967,
 * $USER_CARD, for docs/user-tokens.md, and a factory-fresh emulated PIV token on 35963, $PIV_CARD,
 * for docs/piv.md, a factory-fresh emulated MyEID on 35964, $MYEID_CARD / $MYEID_READER, for
 * docs/card-setup.md, and two more SmartCard-HSMs on 35969/35970, $KEY_CARD / $BACKUP_CARD, for the
 * backup walkthrough of docs/key-custody.md, which runs in a CA home of its own), and a
 * non-interactive `ca` on the
 * PATH that answers the PIN prompts with files made by this test (test/helpers/doc-examples.ts).
 * Each block must exit as documented and print the output the doc shows. Independently, every
 * `--flag` shown with a `ca` command in a ```sh block of the operator docs must exist in that
 * command's `--help`, so a renamed flag fails here even in an example that is not run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';
import {
  DocMarkupError,
  commandFlags,
  extractDocExamples,
  missingOutputLine,
  runDocExample,
  shellBlocks,
  writeNonInteractiveCa,
  type DocExample,
} from '../helpers/doc-examples.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = join(REPO, 'dist', 'src', 'cli', 'bin.js');
const DOCS = join(REPO, 'docs');
const PORTS = { root: 35965, sub: 35966, user: 35967, piv: 35963, myeid: 35964, key: 35969, backup: 35970 } as const;
/** Documents whose examples run in a CA home of their own (walkthroughs that start a new root). */
const OWN_HOME: readonly string[] = ['docs/key-custody.md'];
/** Docs whose ```sh blocks are flag-checked even when their examples are not run. */
const FLAG_CHECKED = ['operator-guide.md', 'air-gapped-box.md', 'ceremony-guide.md', 'card-setup.md', 'key-custody.md', 'piv.md', 'migrating.md'];

let dir: string;
let rootEmu: EmulatorProcess | undefined;
let subEmu: EmulatorProcess | undefined;
/** A factory-fresh user token for docs/user-tokens.md ($USER_CARD). */
let userEmu: EmulatorProcess | undefined;
let pivEmu: EmulatorProcess | undefined;
/** A factory-fresh emulated MyEID for the MyEID section of docs/card-setup.md ($MYEID_CARD). */
let myeidEmu: EmulatorProcess | undefined;
/** docs/key-custody.md: the card the root key is made on ($KEY_CARD) and its backup ($BACKUP_CARD). */
let keyEmu: EmulatorProcess | undefined;
let backupEmu: EmulatorProcess | undefined;
/** The temp dir is kept for inspection when the examples failed. */
let examplesPassed = false;

/** Chapters whose examples need a fixture of their own and run in their own test file. */
const OWN_RUNNER: Readonly<Record<string, string>> = { 'migrating.md': 'test/integration/adopt-docs.test.ts (an old openssl ca CA on a card)' };

function docFiles(): string[] {
  const rest = readdirSync(DOCS)
    .filter((f) => f.endsWith('.md') && f !== 'operator-guide.md' && OWN_RUNNER[f] === undefined)
    .sort();
  return ['operator-guide.md', ...rest];
}

function allExamples(): DocExample[] {
  return docFiles().flatMap((f) => extractDocExamples(readFileSync(join(DOCS, f), 'utf8'), `docs/${f}`));
}

function help(words: readonly string[]): Promise<{ code: number; text: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, ...words, '--help'], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      res({ code, text: String(stdout) + String(stderr) });
    });
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cardca-docs-'));
});

after(async () => {
  await rootEmu?.stop();
  await subEmu?.stop();
  await userEmu?.stop();
  await pivEmu?.stop();
  await myeidEmu?.stop();
  await keyEmu?.stop();
  await backupEmu?.stop();
  if (examplesPassed) rmSync(dir, { recursive: true, force: true });
});

test('doc-test markup: examples are found, and broken markers are errors, not skips', () => {
  const md = [
    '<!-- doc-test: one -->',
    '```sh',
    'ca list',
    '```',
    '<!-- doc-test-output: one -->',
    '```text',
    'root … issued',
    '```',
    '<!-- doc-test: two exit=2 -->',
    '',
    '```sh',
    'ca nosuch',
    '```',
  ].join('\n');
  const ex = extractDocExamples(md, 'x.md');
  assert.deepEqual(
    ex.map((e) => [e.name, e.line, e.script, e.expectExit, e.expectOutput]),
    [
      ['one', 1, 'ca list', 0, ['root … issued']],
      ['two', 9, 'ca nosuch', 2, []],
    ],
  );
  assert.equal(missingOutputLine(['root … issued'], 'x\nroot   ABC  issued  2046\n'), undefined);
  assert.equal(missingOutputLine(['b', 'a'], 'a\nb\n'), 'a', 'order matters');
  assert.throws(() => extractDocExamples('<!-- doc-test: a -->\n```text\nx\n```', 'x.md'), DocMarkupError);
  assert.throws(() => extractDocExamples('<!-- doc-test: a -->\nca list', 'x.md'), DocMarkupError);
  assert.throws(() => extractDocExamples('<!-- doc-test a -->\n```sh\nx\n```', 'x.md'), DocMarkupError);
  assert.throws(() => extractDocExamples('<!-- doc-test-output: a -->\n```\nx\n```', 'x.md'), DocMarkupError);
  assert.throws(() => extractDocExamples('<!-- doc-test: a -->\n```sh\nx\n```\n<!-- doc-test: a -->\n```sh\ny\n```', 'x.md'), DocMarkupError);
  assert.deepEqual(commandFlags('ca sign a.csr --issuer servers \\\n  --out x/   # note --nothing\nsqlite3 ca.db ".backup b"'), [
    { words: ['sign', 'a.csr'], flags: ['--issuer', '--out'] },
  ]);
});

test('every --flag shown with a `ca` command in the operator docs exists in its --help', async () => {
  const uses = new Map<string, { words: string[]; flags: Set<string>; where: string }>();
  for (const f of FLAG_CHECKED) {
    for (const block of shellBlocks(readFileSync(join(DOCS, f), 'utf8'))) {
      for (const c of commandFlags(block.body)) {
        const key = c.words.join(' ');
        const u = uses.get(key) ?? { words: c.words, flags: new Set<string>(), where: `docs/${f}:${block.line}` };
        c.flags.forEach((x) => u.flags.add(x));
        uses.set(key, u);
      }
    }
  }
  assert.ok(uses.size >= 15, `only ${uses.size} distinct \`ca\` commands found in ${FLAG_CHECKED.join(', ')}`);
  const problems: string[] = [];
  // A few at a time: ~50 concurrent `node` start-ups on a loaded 2-core box overrun the timeout.
  const queue = [...uses.values()];
  const worker = async (): Promise<void> => {
    for (let u = queue.shift(); u !== undefined; u = queue.shift()) await checkOne(u);
  };
  const checkOne = async (u: { words: string[]; flags: Set<string>; where: string }): Promise<void> => {
    const h = await help(u.words);
    // An unknown command prints the top-level help ("ca <command> [options]") and exits 0.
    if (h.code !== 0 || !h.text.startsWith(`ca ${u.words[0]}`)) {
      problems.push(`${u.where}: \`ca ${u.words.join(' ')}\` is not a command (--help exit ${h.code})`);
      return;
    }
    for (const flag of u.flags) {
      if (flag === '--help') continue;
      if (!new RegExp(`(^|\\s)${flag.replace(/[-]/g, '\\-')}(\\s|$)`, 'm').test(h.text)) {
        problems.push(`${u.where}: \`ca ${u.words.join(' ')}\` has no ${flag}`);
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  assert.deepEqual(problems.sort(), []);
});

test('the marked examples run in order on two virtual cards and print what the docs show', async () => {
  const examples = allExamples();
  assert.ok(examples.length >= 12, `only ${examples.length} doc-test examples found`);
  assert.ok(examples[0]!.file === 'docs/operator-guide.md', 'the operator guide comes first');

  const pinFile = join(dir, 'user.pin');
  const soPinFile = join(dir, 'so.pin');
  // Test PINs of the virtual cards only (the documented rehearsal values, docs/emulator.md).
  writeFileSync(pinFile, '648219\n', { mode: 0o600 });
  writeFileSync(soPinFile, '3537363231383830\n', { mode: 0o600 });
  const binDir = join(dir, 'bin');
  const pukFile = join(dir, 'piv.puk');
  writeFileSync(pukFile, '97531086\n', { mode: 0o600 });
  const sharePasswordFile = join(dir, 'share.pw');
  writeFileSync(sharePasswordFile, 'custodian share password\n', { mode: 0o600 });
  writeNonInteractiveCa({ binDir, cliPath: BIN, pinFile, soPinFile, pukFile, sharePasswordFile, logFile: join(dir, 'commands.log') });
  const work = join(dir, 'work');
  mkdirSync(work);

  rootEmu = await startEmulator({ port: PORTS.root });
  subEmu = await startEmulator({ port: PORTS.sub });
  userEmu = await startEmulator({ port: PORTS.user });
  pivEmu = await startEmulator({ port: PORTS.piv, extraArgs: ['--type', 'piv'] });
  myeidEmu = await startEmulator({ port: PORTS.myeid, extraArgs: ['--type', 'myeid'] });
  keyEmu = await startEmulator({ port: PORTS.key });
  backupEmu = await startEmulator({ port: PORTS.backup });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${binDir}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
    CA_HOME: join(dir, 'ca-data'),
    ROOT_CARD: rootEmu.serial,
    SUB_CARD: subEmu.serial,
    USER_CARD: userEmu.serial,
    PIV_CARD: pivEmu.serial,
    MYEID_CARD: myeidEmu.serial,
    MYEID_READER: myeidEmu.readerName,
    // The MyEID's PINs as the docs pass them to pkcs15-init (env:NAME); the user PIN is the one
    // the non-interactive `ca` answers with.
    MYEID_PIN: '648219',
    MYEID_PUK: '12345678',
    KEY_CARD: keyEmu.serial,
    BACKUP_CARD: backupEmu.serial,
    // The DKEK share register (ca card dkek import) of this run only.
    XDG_STATE_HOME: join(dir, 'state'),
    OPENSC_CONF: process.env['OPENSC_CONF'] ?? join(REPO, 'test', 'rig', 'opensc.conf'),
    NO_COLOR: '1',
  };

  const homes = new Map<string, string>();
  const envFor = async (file: string): Promise<NodeJS.ProcessEnv> => {
    if (!OWN_HOME.includes(file)) return env;
    let home = homes.get(file);
    if (!home) {
      home = join(dir, `home-${file.replace(/\W+/g, '-')}`);
      const init = await runDocExample({ name: 'own-home', file, line: 0, script: `ca init --home ${JSON.stringify(home)}`, expectExit: 0, expectOutput: [] }, work, env);
      assert.equal(init.code, 0, `ca init for ${file}: ${init.output}`);
      homes.set(file, home);
    }
    return { ...env, CA_HOME: home };
  };

  for (const ex of examples) {
    const r = await runDocExample(ex, work, await envFor(ex.file));
    const at = `${ex.file}:${ex.line} (doc-test ${ex.name}; work dir ${work})`;
    assert.equal(r.code, ex.expectExit, `${at} exited ${r.code}, the doc says ${ex.expectExit}:\n$ ${ex.script}\n${r.output}`);
    const missing = missingOutputLine(ex.expectOutput, r.output);
    assert.equal(missing, undefined, `${at}: the doc shows "${missing}", the command printed:\n${r.output}`);
  }
  examplesPassed = true;
});
