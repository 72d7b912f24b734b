/**
 * The offline ceremony bundle (issue 17): scripts/bundle.sh, scripts/verify-bundle and the
 * bundle's install.sh / install-debs.sh.
 *
 * Builds (the expensive part, so shared by the tests of this file):
 *   A  from a clone of this repository's HEAD at one path, with --no-debs;
 *   C  from a second clone at another path whose HEAD changes one source file (in parallel with A);
 *   B  `scripts/verify-bundle A.tar --rebuild`: a third clone, made by verify-bundle at its own
 *      path, later, under another umask and time zone; it runs in the background while the
 *      installer tests use A, and the reproducibility test waits for it.
 * Each build compiles the native modules from source; they share the user's npm cache only.
 * The .deb step needs the Debian archive (the only test here that uses the network): it fetches
 * the packages with `bundle.sh --debs-only`, checks them and lets apt simulate installing them
 * on a minimal Debian 12 with the installer's own install-debs.sh.
 * `ca card list` from the installed bundle talks to the rig's pcscd; on a shared machine set
 * CARDCA_RIG_LOCK to the rig's lock file and only that step takes it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, expectOk, runCommand, type Run } from '../helpers/run-command.js';

const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const NAME = `cardca-${VERSION}-debian12-x86_64`;
const BUILD_MS = 20 * 60_000;

let work: string;
let cloneA: string;
let tarA: string;
let tarC: string;
let unpackedA: string;
let rebuild: Promise<Run>;
let passed = 0;

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
/** Run a bash script; `args` are its "$1", "$2", ... */
const sh = (script: string, ...args: string[]): Promise<Run> => runCommand('bash', ['-c', script, 'sh', ...args]);

function manifest(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readFileSync(join(dir, 'MANIFEST.sha256'), 'utf8').trim().split('\n')) m.set(line.slice(66), line.slice(0, 64));
  return m;
}

async function unpack(tar: string, into: string): Promise<string> {
  mkdirSync(into, { recursive: true });
  expectOk(await runCommand('tar', ['-xf', tar, '-C', into]), `tar -xf ${tar}`);
  return join(into, NAME);
}

/** Every path under `dir` with its mtime and inode: equal listings = nothing was changed. */
async function listing(dir: string): Promise<string> {
  if (!existsSync(dir)) return '(absent)';
  return expectOk(await sh(`cd "$1" && find . -printf '%p %y %m %T@ %i %l\\n' | LC_ALL=C sort`, dir), 'find').stdout;
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'cardca-bundle-test-'));
  cloneA = join(work, 'a', 'cardca');
  const cloneC = join(work, 'elsewhere', 'deeper', 'cardca-changed');
  const head = expectOk(await runCommand('git', ['-C', REPO, 'rev-parse', 'HEAD']), 'rev-parse HEAD').stdout.trim();
  for (const clone of [cloneA, cloneC]) {
    expectOk(await runCommand('git', ['clone', '-q', '--no-checkout', REPO, clone]), `git clone ${clone}`);
    expectOk(await runCommand('git', ['-C', clone, 'checkout', '-q', '--detach', head]), `checkout in ${clone}`);
  }
  expectOk(
    await sh(`cd "$1" && printf '// a changed source file\\n' >>src/cli/main.ts &&
      git -c user.name=test -c user.email=test@example.invalid commit -qam 'change one source file'`, cloneC),
    'commit a change in C',
  );
  const build = (clone: string, out: string, env: Record<string, string>): Promise<Run> =>
    runCommand('bash', [join(clone, 'scripts', 'bundle.sh'), '--no-debs', '--out', out], { env, timeoutMs: BUILD_MS });
  const [a, c] = await Promise.all([
    build(cloneA, join(work, 'out-a'), { TZ: 'UTC' }),
    build(cloneC, join(work, 'out-c'), { TZ: 'America/Los_Angeles' }),
  ]);
  expectOk(a, 'bundle A');
  expectOk(c, 'bundle C');
  tarA = join(work, 'out-a', `${NAME}.tar`);
  tarC = join(work, 'out-c', `${NAME}.tar`);
  // B: verify-bundle's own fresh clone, later, another umask and time zone; in the background.
  rebuild = runCommand('bash', ['-c', 'umask 077; exec bash "$0" "$@"', join(REPO, 'scripts', 'verify-bundle'), tarA,
    '--rebuild', '--keep', join(work, 'out-b')], { env: { TZ: 'Pacific/Chatham' }, timeoutMs: BUILD_MS });
  unpackedA = await unpack(tarA, join(work, 'unpacked-a'));
});

after(async () => {
  await rebuild?.catch(() => undefined);
  if (passed === 7) rmSync(work, { recursive: true, force: true });
  else process.stderr.write(`bundle test: work directory kept for inspection: ${work}\n`);
});

test('the bundle is the ceremony build: runtime files only, bundled Node, no emulator, no build paths', async () => {
  const top = readdirSync(unpackedA).sort();
  assert.deepEqual(top, ['BUILDINFO', 'MANIFEST.sha256', 'app', 'bin', 'docs', 'install-debs.sh', 'install.sh', 'manifest-check.sh', 'node']);
  const files = [...manifest(unpackedA).keys()];
  assert.ok(files.includes('app/CEREMONY-BUILD'), 'the ceremony-build marker is in the manifest');
  assert.ok(files.includes('app/node_modules/better-sqlite3/build/Release/better_sqlite3.node'));
  assert.ok(files.includes('app/node_modules/pcsclite/build/Release/pcsclite.node'));
  assert.ok(files.includes('docs/air-gapped-box.md'));
  for (const f of files) {
    assert.ok(!f.startsWith('app/dist/src/card/emulator/') && f !== 'app/dist/src/cli/commands/emulator.js' && f !== 'app/dist/src/cli/commands/emulator-run.js', `emulator code in the bundle: ${f}`);
    assert.ok(!/^app\/node_modules\/(typescript|@types)\//.test(f), `dev dependency in the bundle: ${f}`);
    assert.ok(!/^app\/dist\/.*\.map$/.test(f) && !f.startsWith('app/dist/test/'), `not a runtime file of cardca: ${f}`);
    assert.ok(!/\/build\/(Release\/obj|config\.gypi|Makefile)/.test(f), `native build leftover: ${f}`);
  }
  const node = expectOk(await runCommand(join(unpackedA, 'node', 'bin', 'node'), ['-p', 'process.version']), 'bundled node');
  assert.equal(node.stdout.trim(), process.version, 'the bundled Node is the one the build ran with');
  const info = readFileSync(join(unpackedA, 'BUILDINFO'), 'utf8');
  const commit = expectOk(await runCommand('git', ['-C', cloneA, 'rev-parse', 'HEAD']), 'rev-parse').stdout.trim();
  assert.match(info, new RegExp(`^commit: ${commit}$`, 'm'));
  // No path of the build (the clone, bundle.sh's staging dir) in anything that was built here.
  const leaks = await sh('grep -rlF --exclude=node -e "$1" -e /tmp/cardca-bundle. "$2" || true', cloneA, unpackedA);
  assert.equal(leaks.stdout.trim(), '', 'files holding a build path');
  // Fixed owners and mtimes (SOURCE_DATE_EPOCH = commit time) for every entry of the tar.
  const epoch = Number(expectOk(await runCommand('git', ['-C', cloneA, 'log', '-1', '--format=%ct']), 'git log').stdout.trim());
  const want = new Date(epoch * 1000).toISOString().replace('T', ' ').slice(0, 19);
  const entries = expectOk(await runCommand('tar', ['-tv', '--numeric-owner', '--full-time', '-f', tarA], { env: { TZ: 'UTC' } }), 'tar -tv')
    .stdout.trim().split('\n');
  assert.ok(entries.length > 500);
  for (const e of entries) {
    const [mode, owner, , day, time] = e.split(/\s+/);
    assert.equal(owner, '0/0', e);
    assert.equal(`${day} ${time}`, want, e);
    assert.match(mode ?? '', /^(-rw-r--r--|-rwxr-xr-x|drwxr-xr-x)$/, e);
  }
  passed++;
});

test('installer inside `unshare -n` with --prefix and --no-debs; installed `ca --help`, `ca card list`; `ca emulator` refused', async () => {
  const links = expectOk(await runCommand('unshare', ['-n', 'ip', '-brief', 'link']), 'ip link in the namespace').stdout.trim().split('\n');
  assert.deepEqual(links.map((l) => l.split(/\s+/)[0]), ['lo'], 'the namespace has no network interface but lo');
  const prefix = join(work, 'prefix');
  const bundleHash = sha256(join(unpackedA, 'MANIFEST.sha256'));
  const check = expectOk(await runCommand(join(unpackedA, 'install.sh'), ['--check', '--prefix', prefix, '--no-debs']), 'install.sh --check');
  assert.match(check.stderr, /check: would install to .*prefix\/cardca-/);
  assert.ok(!existsSync(prefix), '--check changed nothing');
  const inst = expectOk(await runCommand('unshare', ['-n', join(unpackedA, 'install.sh'), '--prefix', prefix, '--no-debs']), 'install.sh');
  assert.match(inst.stdout, new RegExp(`^bundle hash ${bundleHash}$`, 'm'));
  assert.equal(expectOk(await runCommand('readlink', [join(prefix, 'bin', 'ca')]), 'readlink').stdout.trim(), join(prefix, `cardca-${VERSION}`, 'bin', 'ca'));
  const ca = join(prefix, 'bin', 'ca');
  const help = expectOk(await runCommand('unshare', ['-n', ca, '--help'], { env: { PATH: '/usr/bin:/bin' } }), 'ca --help');
  assert.match(help.stdout, /^ca <command> \[options\]/);
  // On a machine shared by several test runs, CARDCA_RIG_LOCK names the rig's lock file: only
  // this step talks to pcscd, so only it waits for the lock (the builds above take minutes).
  const rigLock = process.env['CARDCA_RIG_LOCK'];
  const cardList = rigLock ? ['flock', '-w', '900', rigLock, 'unshare', '-n', ca, 'card', 'list'] : ['unshare', '-n', ca, 'card', 'list'];
  const list = expectOk(await runCommand(cardList[0]!, cardList.slice(1), { timeoutMs: 1_000_000 }), 'ca card list');
  assert.match(list.stdout, /Virtual PCD 00 00/, 'the installed ca sees the rig readers through pcscd');
  const emu = await runCommand(ca, ['emulator', 'start', '--state', join(work, 'never.json')]);
  assert.equal(emu.code, 2, emu.stderr);
  assert.match(emu.stderr, /error \[USAGE_CEREMONY_BUILD\]: `ca emulator` is not available in the ceremony build/);
  assert.ok(!existsSync(join(work, 'never.json')));
  const rehearsal = await runCommand(ca, ['init', '--rehearsal', '--home', join(work, 'never-home')]);
  assert.equal(rehearsal.code, 2, rehearsal.stderr);
  assert.match(rehearsal.stderr, /error \[USAGE_CEREMONY_BUILD\]: `ca init --rehearsal` is not available in the ceremony build/);
  assert.ok(!existsSync(join(work, 'never-home')), 'nothing created');

  // Re-running changes nothing.
  const before = await listing(prefix);
  const again = expectOk(await runCommand(join(unpackedA, 'install.sh'), ['--prefix', prefix, '--no-debs']), 'install.sh again');
  assert.match(again.stderr, /already this bundle/);
  assert.equal(await listing(prefix), before, 'a second run changed the installation');

  // A newer installed version is not replaced unless told.
  const newer = join(work, 'prefix-newer');
  mkdirSync(join(newer, 'bin'), { recursive: true });
  symlinkSync(join(newer, 'cardca-99.0.0', 'bin', 'ca'), join(newer, 'bin', 'ca'));
  const down = await runCommand(join(unpackedA, 'install.sh'), ['--prefix', newer, '--no-debs']);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /REFUSED: cardca 99\.0\.0 is installed; this bundle is the older/);
  assert.ok(!existsSync(join(newer, `cardca-${VERSION}`)));
  expectOk(await runCommand(join(unpackedA, 'install.sh'), ['--prefix', newer, '--no-debs', '--allow-downgrade']), 'downgrade');
  assert.equal(expectOk(await runCommand('readlink', [join(newer, 'bin', 'ca')]), 'readlink').stdout.trim(), join(newer, `cardca-${VERSION}`, 'bin', 'ca'));
  passed++;
});

test('a tampered bundle: the installer refuses before changing anything, verify-bundle fails', async () => {
  const cases: [string, (dir: string) => void, RegExp][] = [
    ['changed file', (d) => writeFileSync(join(d, 'app/dist/src/cli/main.js'), '\n// x', { flag: 'a' }), /app\/dist\/src\/cli\/main\.js: FAILED/],
    ['added .deb', (d) => { mkdirSync(join(d, 'debs'), { recursive: true }); writeFileSync(join(d, 'debs/evil.deb'), 'x'); }, /not in the manifest: debs\/evil\.deb/],
    ['marker removed', (d) => rmSync(join(d, 'app/CEREMONY-BUILD')), /missing: app\/CEREMONY-BUILD/],
  ];
  for (const [what, tamper, why] of cases) {
    const copy = join(work, `tampered-${what.replace(/\W+/g, '-')}`, NAME);
    cpSync(unpackedA, copy, { recursive: true });
    tamper(copy);
    const prefix = join(work, `prefix-tampered-${what.replace(/\W+/g, '-')}`);
    mkdirSync(prefix);
    const before = await listing(prefix);
    const r = await runCommand('unshare', ['-n', join(copy, 'install.sh'), '--prefix', prefix, '--no-debs']);
    assert.equal(r.code, 1, `${what}: ${r.stderr}`);
    assert.match(r.stderr, why, what);
    assert.match(r.stderr, /REFUSED: the bundle does not match its manifest[\s\S]*Nothing was changed/, what);
    assert.equal(await listing(prefix), before, `${what}: the installer changed ${prefix}`);
  }
  // verify-bundle on a re-packed tampered tar.
  const retar = join(work, 'tampered.tar');
  expectOk(await runCommand('tar', ['-cf', retar, '-C', join(work, 'tampered-changed-file'), NAME]), 'tar');
  const v = await runCommand(join(REPO, 'scripts', 'verify-bundle'), [retar]);
  assert.equal(v.code, 1, v.stderr);
  assert.match(v.stderr, /FAILED: the bundle does not match its manifest/);
  const ok = expectOk(await runCommand(join(REPO, 'scripts', 'verify-bundle'), [tarA]), 'verify-bundle A');
  assert.match(ok.stdout, new RegExp(`^tar sha256 +${sha256(tarA)}$`, 'm'));
  assert.match(ok.stdout, new RegExp(`^bundle hash +${sha256(join(unpackedA, 'MANIFEST.sha256'))}$`, 'm'));
  passed++;
});

test('the .deb step: fetched packages match Debian\'s signed hashes and install on a minimal Debian 12 from local files', async () => {
  const debs = join(work, 'debs');
  // A fresh machine (CI) may have no apt lists yet: then bundle.sh fetches them first.
  const lists = existsSync('/var/lib/apt/lists') && readdirSync('/var/lib/apt/lists').some((f) => f.endsWith('_InRelease'));
  const args = ['--debs-only', debs, ...(lists ? [] : ['--apt-update'])];
  expectOk(await runCommand('bash', [join(REPO, 'scripts', 'bundle.sh'), ...args], { timeoutMs: 10 * 60_000 }), 'bundle.sh --debs-only');
  const sums = readFileSync(join(debs, 'DEBIAN-SHA256SUMS'), 'utf8');
  const pkgs = new Set(sums.trim().split('\n').map((l) => l.split(/\s+/)[2]));
  for (const p of ['pcscd', 'libpcsclite1', 'libccid', 'opensc', 'pcsc-tools', 'openssl', 'sqlite3']) assert.ok(pkgs.has(p), `${p} missing`);
  assert.ok(!pkgs.has('vsmartcard-vpcd'));
  const files = readdirSync(debs).filter((f) => f.endsWith('.deb')).sort();
  assert.equal(files.length, pkgs.size);
  const pcscd = files.find((f) => f.startsWith('pcscd_'))!;
  assert.match(expectOk(await runCommand('dpkg-deb', ['--contents', join(debs, pcscd)]), 'dpkg-deb').stdout, /\/usr\/sbin\/pcscd$/m);

  // apt, no package sources, a minimal Debian 12 as the installed system: the set is complete.
  const archive = join(REPO, 'scripts', 'bundle', 'debian-archive.mjs');
  const status = expectOk(await runCommand(process.execPath, [archive, 'minimal-status'], { timeoutMs: 300_000 }), 'minimal-status').stdout;
  writeFileSync(join(work, 'minimal-status'), status);
  writeFileSync(join(work, 'apt-minimal.conf'),
    `Dir::State::status "${join(work, 'minimal-status')}";\nDir::State::extended_states "${join(work, 'extended_states')}";\nDebug::NoLocking "1";\n`);
  const aptEnv = { APT_CONFIG: join(work, 'apt-minimal.conf') };
  const installDebs = join(REPO, 'scripts', 'bundle', 'install-debs.sh');
  const sim = expectOk(await runCommand('unshare', ['-n', installDebs, '--simulate', ...files.map((f) => join(debs, f))], { env: aptEnv }), 'simulate');
  assert.match(sim.stdout, /^Inst pcscd \(\S+ local-deb/m);
  assert.match(sim.stdout, /^Conf opensc \(/m);
  const withoutLibusb = files.filter((f) => !f.startsWith('libusb-1.0-0_')).map((f) => join(debs, f));
  const missing = await runCommand('unshare', ['-n', installDebs, '--simulate', ...withoutLibusb], { env: aptEnv });
  assert.equal(missing.code, 1, 'a missing dependency must be refused');
  assert.match(missing.stderr, /libusb-1\.0-0/);

  // A .deb whose bytes differ from what Debian signed is refused.
  const bad = join(work, 'debs-bad');
  mkdirSync(bad);
  cpSync(join(debs, pcscd), join(bad, pcscd));
  writeFileSync(join(bad, pcscd), Buffer.alloc(2, 0x0a), { flag: 'a' }); // ar allows trailing padding: dpkg-deb still reads it
  const check = await runCommand(process.execPath, [archive, 'check', bad], { timeoutMs: 300_000 });
  assert.equal(check.code, 1, check.stderr);
  assert.match(check.stderr, /but Debian signed/);
  // Lists whose InRelease does not verify under the keyring are not trusted at all.
  const wrongKey = await runCommand(process.execPath, [archive, 'check', debs],
    { env: { CARDCA_DEBIAN_KEYRING: '/usr/share/keyrings/debian-archive-removed-keys.gpg' }, timeoutMs: 300_000 });
  assert.equal(wrongKey.code, 1, wrongKey.stderr);
  assert.match(wrongKey.stderr, /signature not valid under/);
  passed++;
});

test('two clones at different paths, times, umasks and time zones build a byte-identical bundle', async () => {
  const r = expectOk(await rebuild, 'verify-bundle --rebuild');
  assert.match(r.stdout, /^rebuild +identical$/m);
  assert.equal(sha256(join(work, 'out-b', `${NAME}.tar`)), sha256(tarA));
  passed++;
});

test('a changed source file gives a different bundle, differing exactly in that file and BUILDINFO', async () => {
  assert.notEqual(sha256(tarC), sha256(tarA));
  const c = manifest(await unpack(tarC, join(work, 'unpacked-c')));
  const a = manifest(unpackedA);
  const differ = [...new Set([...a.keys(), ...c.keys()])].filter((f) => a.get(f) !== c.get(f)).sort();
  assert.deepEqual(differ, ['BUILDINFO', 'app/dist/src/cli/main.js']);
  passed++;
});

test('bundle.sh refuses a commit that does not type-check', async () => {
  const clone = join(work, 'broken', 'cardca');
  expectOk(await runCommand('git', ['clone', '-q', REPO, clone]), 'git clone');
  expectOk(
    await sh(`cd "$1" && printf 'export const x: number = "no";\\n' >src/common/type-error.ts && git add -A &&
      git -c user.name=test -c user.email=test@example.invalid commit -qm 'type error'`, clone),
    'commit a type error',
  );
  const r = await runCommand('bash', [join(clone, 'scripts', 'bundle.sh'), '--no-debs', '--out', join(work, 'out-broken')], { timeoutMs: 300_000 });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /tsc reported errors: a bundle is only built from a commit that type-checks/);
  assert.ok(!existsSync(join(work, 'out-broken', `${NAME}.tar`)));
  passed++;
});
