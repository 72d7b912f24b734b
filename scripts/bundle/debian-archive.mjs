#!/usr/bin/env node
// The Debian side of the offline bundle (docs/air-gapped-box.md, "What is taken as published"):
// cardca does not rebuild Debian's packages, it carries the .deb files Debian published and checks
// each one against the SHA-256 that Debian's archive signed. The chain is
//   InRelease (OpenPGP clear-signed by the Debian archive keys, checked with gpgv against
//   /usr/share/keyrings/debian-archive-keyring.gpg)  →  SHA256 of main/binary-amd64/Packages
//   →  SHA256 of every .deb listed in it.
// apt already checks this chain when it downloads; we check it again, independently of apt, so the
// bundle script fails loudly instead of trusting whatever sits in a directory.
//
// Usage (all read the apt lists of this machine, as `apt-get update` left them):
//   debian-archive.mjs minimal-status          dpkg status file of a minimal Debian 12 (below)
//   debian-archive.mjs resolve PKG...          name=version of every package PKG... needs that a
//                                              minimal Debian 12 lacks (apt's own resolver)
//   debian-archive.mjs check DIR               check every DIR/*.deb against the signed hashes;
//                                              prints "sha256  file  package version suite" lines
//   debian-archive.mjs releases                the signed release files used (suite, version, date)
//
// "Minimal Debian 12" = the packages of Priority required (plus any Essential: yes) at the version
// of the bookworm point release in the lists: what `debootstrap --variant=minbase` installs and
// what any Debian 12 installation has. Their security updates are NOT assumed installed, so a
// bundled package that needs a newer required library brings that library along.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const KEYRING = process.env.CARDCA_DEBIAN_KEYRING ?? '/usr/share/keyrings/debian-archive-keyring.gpg';
const ARCH = 'amd64';
const BASE_SUITE = 'bookworm';

function die(msg) {
  process.stderr.write(`[debian-archive] ERROR: ${msg}\n`);
  process.exit(1);
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

/** Parse RFC 822-style control paragraphs (Packages, status, Release) into objects. */
function paragraphs(text) {
  const out = [];
  for (const block of text.split(/\n\n+/)) {
    if (!block.trim()) continue;
    const p = {};
    let key = null;
    for (const line of block.split('\n')) {
      if (/^[ \t]/.test(line) && key) p[key] += '\n' + line;
      else {
        const i = line.indexOf(':');
        if (i < 0) continue;
        key = line.slice(0, i);
        p[key] = line.slice(i + 1).trim();
      }
    }
    out.push(p);
  }
  return out;
}

/** The fields we use of every stanza of a Packages list (a regex scan: the lists are ~50 MB). */
function packageIndex(text) {
  const out = [];
  for (const block of text.split('\n\n')) {
    const f = (k) => block.match(new RegExp(`^${k}: (.*)$`, 'm'))?.[1];
    const pkg = f('Package');
    if (pkg) out.push({ Package: pkg, Version: f('Version'), Architecture: f('Architecture'), SHA256: f('SHA256'),
      Priority: f('Priority'), Essential: f('Essential') });
  }
  return out;
}

/** Text that gpgv verified (the clear-signed body only: nothing outside the signature counts). */
function verifiedInRelease(path) {
  const r = spawnSync('gpgv', ['--keyring', KEYRING, '--output', '-', path], { maxBuffer: 64 << 20 });
  if (r.status !== 0) die(`${path}: signature not valid under ${KEYRING}:\n${r.stderr}`);
  return r.stdout.toString('utf8');
}

/** The Debian binary-amd64 Packages lists of this machine, each checked against its signed InRelease. */
function signedLists() {
  const out = execFileSync('apt-get', ['indextargets', '--format',
    '$(FILENAME)\t$(COMPONENT)\t$(CODENAME)\t$(ARCHITECTURE)\t$(IDENTIFIER)'], { encoding: 'utf8' });
  const lists = [];
  for (const line of out.trim().split('\n')) {
    const [file, component, codename, arch, id] = line.split('\t');
    if (id !== 'Packages' || arch !== ARCH || !file) continue;
    const metaKey = `${component}/binary-${arch}/Packages`;
    const flat = metaKey.replaceAll('/', '_');
    const at = file.lastIndexOf(`_${flat}`);
    if (at < 0) continue;
    const inRelease = `${file.slice(0, at)}_InRelease`;
    let body;
    try {
      readFileSync(inRelease);
      body = verifiedInRelease(inRelease);
    } catch (e) {
      if (e && e.code === 'ENOENT') continue; // a list without InRelease is not one we can trust
      throw e;
    }
    const release = paragraphs(body)[0];
    if (release.Origin !== 'Debian') continue; // third-party lists (e.g. NodeSource) never count
    const want = release.SHA256.split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[2] === metaKey);
    if (!want) die(`${inRelease} does not list ${metaKey}`);
    const packages = execFileSync('/usr/lib/apt/apt-helper', ['cat-file', file], { maxBuffer: 256 << 20 });
    if (sha256(packages) !== want[0]) die(`${file} does not match the SHA-256 signed in ${inRelease}: run apt-get update`);
    lists.push({ file, inRelease, suite: release.Suite, codename, version: release.Version ?? '', date: release.Date,
      packages: packageIndex(packages.toString('utf8')) });
  }
  if (!lists.some((l) => l.codename === BASE_SUITE)) die(`no signed Debian ${BASE_SUITE} Packages list for ${ARCH}: run apt-get update`);
  return lists;
}

/** Run apt-get with a given dpkg status file, resolving only (never changing this machine). */
function aptSimulate(statusText, extra, pkgs) {
  const dir = mkdtempSync(join(tmpdir(), 'cardca-apt-'));
  try {
    const status = join(dir, 'status');
    writeFileSync(status, statusText);
    const r = spawnSync('apt-get', ['-s', '-q', '-o', `Dir::State::status=${status}`,
      '-o', `Dir::State::extended_states=${join(dir, 'extended_states')}`, '-o', 'Debug::NoLocking=1',
      '-o', 'APT::Install-Recommends=false', '-o', 'APT::Install-Suggests=false', ...extra, 'install', ...pkgs],
    { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) die(`apt cannot resolve ${pkgs.join(' ')}:\n${r.stdout}${r.stderr}`);
    return [...r.stdout.matchAll(/^Inst (\S+) (?:\[\S+\] )?\((\S+) /gm)].map((m) => `${m[1]}=${m[2]}`).sort();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The status file of a minimal Debian 12: apt resolves the Priority required / Essential packages
 * (with their dependencies) on an empty system, preferring the point release's versions.
 */
function minimalStatus(lists) {
  const required = new Set();
  for (const l of lists.filter((x) => x.codename === BASE_SUITE)) {
    for (const p of l.packages) if (p.Priority === 'required' || p.Essential === 'yes') required.add(p.Package);
  }
  const base = aptSimulate('', ['-o', `APT::Default-Release=${BASE_SUITE}`], [...required].sort());
  const shown = execFileSync('apt-cache', ['show', ...base], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const seen = new Set();
  const stanzas = [];
  for (const p of paragraphs(shown)) {
    if (seen.has(p.Package)) continue; // apt-cache shows one stanza per list holding that version
    seen.add(p.Package);
    const lines = [`Package: ${p.Package}`, 'Status: install ok installed'];
    for (const k of ['Essential', 'Priority', 'Architecture', 'Multi-Arch', 'Source', 'Version', 'Replaces',
      'Provides', 'Depends', 'Pre-Depends', 'Breaks', 'Conflicts']) if (p[k] !== undefined) lines.push(`${k}: ${p[k]}`);
    lines.push('Description: part of a minimal Debian 12, as the cardca bundle assumes it');
    stanzas.push(lines.join('\n'));
  }
  return stanzas.join('\n\n') + '\n';
}

function resolve(lists, pkgs) {
  return aptSimulate(minimalStatus(lists), [], pkgs);
}

function check(lists, dir) {
  const index = new Map();
  for (const l of lists) {
    for (const p of l.packages) {
      const key = `${p.Package} ${p.Version} ${p.Architecture}`;
      if (!index.has(key)) index.set(key, { sha256: p.SHA256, suite: l.suite });
    }
  }
  const debs = readdirSync(dir).filter((f) => f.endsWith('.deb')).sort();
  if (debs.length === 0) die(`no .deb files in ${dir}`);
  const lines = [];
  let bad = 0;
  for (const f of debs) {
    const path = join(dir, f);
    const [pkg, version, arch] = execFileSync('dpkg-deb', ['--showformat=${Package}\t${Version}\t${Architecture}', '-W', path],
      { encoding: 'utf8' }).trim().split('\t');
    const got = sha256(readFileSync(path));
    const want = index.get(`${pkg} ${version} ${arch}`);
    if (!want) {
      process.stderr.write(`[debian-archive] ${f}: ${pkg} ${version} ${arch} is in no signed Debian list\n`);
      bad++;
    } else if (want.sha256 !== got) {
      process.stderr.write(`[debian-archive] ${f}: SHA-256 ${got} but Debian signed ${want.sha256}\n`);
      bad++;
    } else lines.push(`${got}  ${f}  ${pkg} ${version} ${want.suite}`);
  }
  if (bad > 0) die(`${bad} of ${debs.length} .deb files do not match Debian's signed hashes`);
  return lines;
}

const [cmd, ...args] = process.argv.slice(2);
const lists = signedLists();
if (cmd === 'minimal-status') process.stdout.write(minimalStatus(lists));
else if (cmd === 'resolve' && args.length > 0) process.stdout.write(resolve(lists, args).join('\n') + '\n');
else if (cmd === 'check' && args.length === 1) process.stdout.write(check(lists, args[0]).join('\n') + '\n');
else if (cmd === 'releases') {
  const seen = new Set();
  for (const l of lists) {
    if (seen.has(l.inRelease)) continue;
    seen.add(l.inRelease);
    process.stdout.write(`${l.suite}\t${l.version}\t${l.date}\n`);
  }
} else die('usage: debian-archive.mjs minimal-status | resolve PKG... | check DIR | releases');
