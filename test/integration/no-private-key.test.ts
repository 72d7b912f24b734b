/**
 * No private key in the CA process (ca-invariants.md §4.2), end to end: a small ceremony on two
 * emulated SmartCard-HSMs (vpcd ports 35969/35970: root + sub-CA "servers"), a leaf from an
 * openssl CSR, both CRLs and every export format; then everything the CA wrote (home incl. every
 * database row, exports, issued certificates, transcripts) and everything it printed is scanned
 * for PEM "PRIVATE KEY" labels, PKCS#8 / RSAPrivateKey / ECPrivateKey DER structures, encrypted
 * key / PKCS#12 key-bag OIDs, and for the emulator's own private-key bytes (read from its state
 * files). The scanner is shown to find each of these where they really are (openssl's key files,
 * the emulator state). Plus a static check of src/: outside src/card/emulator/ no code can create,
 * load or use a private key.
 */
import { filesUnder } from '../helpers/files-under.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';
import { lockRigPorts } from '../helpers/tty.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = join(REPO, 'dist', 'src', 'cli', 'bin.js');

// ---------------------------------------------------------------- scanner

/** OIDs (DER content bytes) of private-key algorithms as they appear in PKCS#8 (RFC 5958 §2). */
const KEY_ALG_OIDS: ReadonlyArray<readonly [string, string]> = [
  ['rsaEncryption', '2a864886f70d010101'],
  ['id-RSASSA-PSS', '2a864886f70d01010a'],
  ['id-ecPublicKey', '2a8648ce3d0201'],
  ['id-dsa', '2a8648ce380401'],
  ['id-Ed25519', '2b6570'],
  ['id-Ed448', '2b6571'],
  ['id-X25519', '2b656e'],
];

/** OIDs that occur only around (encrypted) private keys: PBES2 (RFC 8018), PKCS#12 key bags (RFC 7292 §4.2). */
const PRIVATE_ONLY_OIDS: ReadonlyArray<readonly [string, string]> = [
  ['PBES2 (EncryptedPrivateKeyInfo)', '06092a864886f70d01050d'],
  ['pkcs-12 keyBag', '060b2a864886f70d010c0a0101'],
  ['pkcs-12 pkcs8ShroudedKeyBag', '060b2a864886f70d010c0a0102'],
];

/** DER TLV at `i`: tag, start of content, end; undefined if the length does not parse or overruns. */
function tlv(b: Buffer, i: number, end = b.length): { tag: number; start: number; end: number } | undefined {
  if (i + 2 > end) return undefined;
  const tag = b[i]!;
  let len = b[i + 1]!;
  let start = i + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || start + n > end) return undefined;
    len = 0;
    for (let k = 0; k < n; k++) len = (len << 8) | b[start + k]!;
    start += n;
  }
  if (start + len > end) return undefined;
  return { tag, start, end: start + len };
}

/** SEQUENCE { INTEGER 0|1, AlgorithmIdentifier { key OID … }, OCTET STRING … } (PKCS#8 / RFC 5958). */
function pkcs8At(b: Buffer, i: number): string | undefined {
  const seq = tlv(b, i);
  if (!seq || seq.tag !== 0x30) return undefined;
  const ver = tlv(b, seq.start, seq.end);
  if (!ver || ver.tag !== 0x02 || ver.end - ver.start !== 1 || b[ver.start]! > 1) return undefined;
  const alg = tlv(b, ver.end, seq.end);
  if (!alg || alg.tag !== 0x30) return undefined;
  const oid = tlv(b, alg.start, alg.end);
  if (!oid || oid.tag !== 0x06) return undefined;
  const hex = b.subarray(oid.start, oid.end).toString('hex');
  const name = KEY_ALG_OIDS.find(([, h]) => h === hex)?.[0];
  if (!name) return undefined;
  const key = tlv(b, alg.end, seq.end);
  return key && key.tag === 0x04 ? `PKCS#8 PrivateKeyInfo (${name})` : undefined;
}

/** RSAPrivateKey (RFC 8017 A.1.2): SEQUENCE { version 0, n, e, d, p, q, dP, dQ, qInv }. */
function rsaPrivateKeyAt(b: Buffer, i: number): string | undefined {
  const seq = tlv(b, i);
  if (!seq || seq.tag !== 0x30) return undefined;
  let p = seq.start;
  const ints: number[] = [];
  while (p < seq.end && ints.length < 9) {
    const t = tlv(b, p, seq.end);
    if (!t || t.tag !== 0x02) break;
    ints.push(t.end - t.start);
    p = t.end;
  }
  if (ints.length < 9 || ints[0] !== 1 || b[seq.start + 2] !== 0) return undefined;
  return ints[1]! >= 64 ? 'RSAPrivateKey' : undefined;
}

/** ECPrivateKey (RFC 5915 §3): SEQUENCE { version 1, OCTET STRING d, [0] params OPT, [1] pub OPT }. */
function ecPrivateKeyAt(b: Buffer, i: number): string | undefined {
  const seq = tlv(b, i);
  if (!seq || seq.tag !== 0x30) return undefined;
  const ver = tlv(b, seq.start, seq.end);
  if (!ver || ver.tag !== 0x02 || ver.end - ver.start !== 1 || b[ver.start] !== 1) return undefined;
  const d = tlv(b, ver.end, seq.end);
  if (!d || d.tag !== 0x04 || d.end - d.start < 20 || d.end - d.start > 72) return undefined;
  let p = d.end;
  for (const want of [0xa0, 0xa1]) {
    const t = p < seq.end ? tlv(b, p, seq.end) : undefined;
    if (t && t.tag === want) p = t.end;
  }
  return p === seq.end ? 'ECPrivateKey' : undefined;
}

/** Private-key DER structures and key-only OIDs in raw bytes. */
function derKeyFindings(b: Buffer): string[] {
  const found = new Set<string>();
  for (let i = b.indexOf(0x30); i >= 0; i = b.indexOf(0x30, i + 1)) {
    const f = pkcs8At(b, i) ?? rsaPrivateKeyAt(b, i) ?? ecPrivateKeyAt(b, i);
    if (f) found.add(f);
  }
  for (const [name, hex] of PRIVATE_ONLY_OIDS) if (b.includes(Buffer.from(hex, 'hex'))) found.add(`OID ${name}`);
  return [...found];
}

/** Byte strings hidden in text: PEM bodies, long base64 runs (JSON, HTML), long hex runs. */
function decodedBlobs(text: string): Buffer[] {
  const out: Buffer[] = [];
  for (const m of text.matchAll(/-----BEGIN [^-]+-----([\s\S]*?)-----END [^-]+-----/g)) out.push(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
  for (const m of text.matchAll(/[A-Za-z0-9+/_-]{64,}={0,2}/g)) out.push(Buffer.from(m[0].replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
  for (const m of text.matchAll(/(?:[0-9a-fA-F]{2}[ :]?){48,}/g)) out.push(Buffer.from(m[0].replace(/[ :]/g, ''), 'hex'));
  return out;
}

/** Everything suspicious about one artefact: PEM labels, DER structures (raw and decoded). */
function keyFindings(label: string, data: Buffer): string[] {
  const text = data.toString('latin1');
  const found = new Set<string>();
  for (const m of text.matchAll(/-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----/g)) found.add(`PEM label "${m[1]}"`);
  for (const f of derKeyFindings(data)) found.add(f);
  for (const blob of decodedBlobs(text)) for (const f of derKeyFindings(blob)) found.add(`${f} (encoded)`);
  return [...found].map((f) => `${f} in ${label}`);
}

interface Needle {
  what: string;
  bytes: Buffer;
}

/** The emulator's private keys: PKCS#8 DER and the secret scalars, in the encodings that could leak. */
function emulatorKeyNeedles(stateFile: string): Needle[] {
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { device: { keyPkcs8: string }; keys: Record<string, { pkcs8: string }> };
  const keys: Array<[string, string]> = [['device key', state.device.keyPkcs8], ...Object.entries(state.keys).map(([id, k]): [string, string] => [`key ${id}`, k.pkcs8])];
  const out: Needle[] = [];
  for (const [name, b64] of keys) {
    const der = Buffer.from(b64, 'base64');
    const jwk = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
    const secrets: Array<[string, Buffer]> = [['PKCS#8', der]];
    for (const f of ['d', 'p', 'q'] as const) if (typeof jwk[f] === 'string') secrets.push([f, Buffer.from(jwk[f], 'base64url')]);
    for (const [part, bytes] of secrets) {
      const w = `${stateFile.split('/').at(-2)} ${name} ${part}`;
      out.push(
        { what: `${w} (binary)`, bytes },
        { what: `${w} (hex)`, bytes: Buffer.from(bytes.toString('hex')) },
        { what: `${w} (HEX)`, bytes: Buffer.from(bytes.toString('hex').toUpperCase()) },
        // A base64 substring that does not depend on the alignment of surrounding data.
        { what: `${w} (base64)`, bytes: Buffer.from(bytes.toString('base64').slice(0, 40)) },
        { what: `${w} (base64url)`, bytes: Buffer.from(bytes.toString('base64url').slice(0, 40)) },
      );
    }
  }
  return out;
}

const needleHits = (label: string, data: Buffer, needles: readonly Needle[]): string[] =>
  needles.filter((n) => data.includes(n.bytes)).map((n) => `${n.what} in ${label}`);

/** Every value of every row of every table of an SQLite file (blobs as stored, text as UTF-8). */
function sqliteValues(file: string): Array<[string, Buffer]> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const out: Array<[string, Buffer]> = [];
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>;
    for (const { name } of tables) {
      for (const row of db.prepare(`SELECT * FROM "${name.replace(/"/g, '""')}"`).all() as Array<Record<string, unknown>>) {
        for (const [col, v] of Object.entries(row)) {
          if (Buffer.isBuffer(v)) out.push([`${name}.${col}`, v]);
          else if (typeof v === 'string') out.push([`${name}.${col}`, Buffer.from(v)]);
        }
      }
    }
    return out;
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------- the ceremony

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const outputs: string[] = [];

function run(cmd: string, args: readonly string[], record: boolean): Promise<Run> {
  return new Promise((res) => {
    execFile(cmd, args, { timeout: 120_000, maxBuffer: 8 << 20, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      if (record) outputs.push(String(stdout), String(stderr));
      res({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const ok = (r: Run, what: string): Run => {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
  return r;
};

let release: () => void;
let rootEmu: EmulatorProcess;
let subEmu: EmulatorProcess;
let dir: string;
let home: string;
let exportsDir: string;
let issuedDir: string;
let csrDir: string;
let pin: string;
const ca = (...args: string[]): Promise<Run> => run(process.execPath, [BIN, ...args, '--home', home], true);

before(async () => {
  release = await lockRigPorts([35969, 35970]);
  dir = mkdtempSync(join(tmpdir(), 'cardca-no-private-key-'));
  home = join(dir, 'ca-data');
  exportsDir = join(dir, 'exports');
  issuedDir = join(dir, 'issued');
  csrDir = join(dir, 'csr');
  for (const d of [exportsDir, issuedDir, csrDir]) mkdirSync(d);
  pin = join(dir, 'user.pin');
  const so = join(dir, 'so.pin');
  writeFileSync(pin, '648219\n', { mode: 0o600 });
  writeFileSync(so, '3537363231383830\n', { mode: 0o600 });
  rootEmu = await startEmulator({ port: 35969 });
  subEmu = await startEmulator({ port: 35970 });
  for (const [emu, label] of [[rootEmu, 'Root card'], [subEmu, 'Sub-CA card']] as const) {
    ok(await run(process.execPath, [BIN, 'card', 'init', '--reader', emu.readerName, '--label', label, '--so-pin-file', so, '--pin-file', pin], true), 'card init');
  }
});

after(async () => {
  await rootEmu?.stop();
  await subEmu?.stop();
  release?.();
});

test('small ceremony: root, sub-CA, leaf, CRLs, every export format', async () => {
  ok(await ca('init', '--rehearsal'), 'init');
  ok(await ca('ceremony', 'root', '--card', rootEmu.serial, '--pin-file', pin, '--yes', '--json'), 'ceremony root');
  ok(await ca('ceremony', 'subca', 'servers', '--card', subEmu.serial, '--pin-file', pin, '--issuer-pin-file', pin, '--yes', '--json'), 'ceremony subca');
  const csr = join(csrDir, 'web.csr');
  ok(
    await run('openssl', ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', join(csrDir, 'web.key'), '-subj', '/CN=web.example.test', '-addext', 'subjectAltName=DNS:web.example.test', '-out', csr], false),
    'openssl req',
  );
  ok(await ca('sign', csr, '--issuer', 'servers', '--profile', 'tls-server', '--pin-file', pin, '--out', issuedDir + '/'), 'sign');
  ok(await ca('crl', '--issuer', 'servers', '--pin-file', pin), 'crl servers');
  ok(await ca('crl', '--issuer', 'root', '--pin-file', pin), 'crl root');
  const [leaf] = JSON.parse(ok(await ca('list', '--issuer', 'servers', '--json'), 'list').stdout) as Array<{ serial: string }>;
  assert.ok(leaf);

  const out = (name: string, isDir = false): string => {
    const p = join(exportsDir, name);
    if (isDir) mkdirSync(p);
    return isDir ? p + '/' : p;
  };
  ok(await ca('export', 'chain', '--issuer', 'servers', '--format', 'pem', '--out', out('chain.pem')), 'chain pem');
  ok(await ca('export', 'chain', '--issuer', 'servers', '--format', 'der', '--out', out('chain-der', true)), 'chain der');
  ok(await ca('export', 'chain', '--issuer', 'servers', '--format', 'p7b', '--out', out('chain.p7b')), 'chain p7b');
  ok(await ca('export', 'chain', '--issuer', 'servers', '--format', 'openvpn', '--out', out('openvpn', true)), 'chain openvpn');
  ok(await ca('export', 'chain', '--issuer', 'servers', '--format', 'strongswan', '--out', out('strongswan', true)), 'chain strongswan');
  ok(await ca('export', 'cert', leaf.serial, '--format', 'pem', '--out', out('leaf.pem')), 'cert pem');
  ok(await ca('export', 'cert', leaf.serial, '--chain', '--format', 'pem', '--out', out('fullchain.pem')), 'cert chain pem');
  ok(await ca('export', 'cert', leaf.serial, '--format', 'der', '--out', out('leaf.der')), 'cert der');
  ok(await ca('export', 'cert', leaf.serial, '--chain', '--format', 'der', '--out', out('leaf-chain-der', true)), 'cert chain der');
  ok(await ca('export', 'cert', leaf.serial, '--chain', '--format', 'p7b', '--out', out('leaf.p7b')), 'cert p7b');
  ok(await ca('export', 'crl', '--all', '--format', 'pem', '--out', out('crls.pem')), 'crl pem');
  ok(await ca('export', 'crl', '--all', '--format', 'der', '--out', out('crl-der', true)), 'crl der');
  for (const cmd of [['status'], ['show', leaf.serial], ['audit', 'verify', '--pin-file', pin], ['db', 'check']]) ok(await ca(...cmd), cmd.join(' '));

  const exported = filesUnder(exportsDir);
  assert.ok(exported.length >= 15, exported.join('\n'));
  assert.ok(filesUnder(join(home, 'ceremonies')).length >= 4, 'transcripts of both ceremonies');
});

/** Every CA artefact: [label, bytes]. */
function caArtefacts(): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  for (const root of [home, exportsDir, issuedDir]) {
    for (const f of filesUnder(root)) {
      const data = readFileSync(f);
      out.push([relative(dir, f), data]);
      if (data.subarray(0, 16).toString('latin1') === 'SQLite format 3\0') {
        for (const [col, v] of sqliteValues(f)) out.push([`${relative(dir, f)} ${col}`, v]);
      }
    }
  }
  out.push(['stdout/stderr of every ca run', Buffer.from(outputs.join('\n'))]);
  return out;
}

test('the scanner finds real private keys (openssl key files, emulator state) — so its silence means something', async () => {
  const key = join(csrDir, 'web.key');
  const rsa = join(csrDir, 'rsa.key');
  ok(await run('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', rsa], false), 'genpkey');
  let n = 0;
  const conv = async (args: string[]): Promise<Buffer> => {
    const o = join(csrDir, `conv-${n++}.bin`);
    ok(await run('openssl', [...args, '-out', o], false), `openssl ${args.join(' ')}`);
    return readFileSync(o);
  };
  assert.match(keyFindings('k', readFileSync(key)).join(), /PEM label "PRIVATE KEY".*PKCS#8 PrivateKeyInfo \(id-ecPublicKey\) \(encoded\)/);
  assert.match(keyFindings('k', await conv(['pkcs8', '-topk8', '-nocrypt', '-in', key, '-outform', 'DER'])).join(), /PKCS#8 PrivateKeyInfo \(id-ecPublicKey\) in/);
  assert.match(keyFindings('k', await conv(['pkey', '-in', key, '-outform', 'DER', '-traditional'])).join(), /ECPrivateKey in/);
  assert.match(keyFindings('k', await conv(['pkey', '-in', rsa, '-outform', 'DER', '-traditional'])).join(), /RSAPrivateKey in/);
  assert.match(keyFindings('k', await conv(['pkcs8', '-topk8', '-nocrypt', '-in', rsa, '-outform', 'DER'])).join(), /PKCS#8 PrivateKeyInfo \(rsaEncryption\) in/);
  assert.match(keyFindings('k', await conv(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', rsa, '-passout', 'pass:x'])).join(), /ENCRYPTED PRIVATE KEY.*OID PBES2/);
  // Public material (SPKI, certificates) is not mistaken for a private key.
  assert.deepEqual(keyFindings('k', await conv(['pkey', '-in', rsa, '-pubout', '-outform', 'DER'])), []);
  assert.deepEqual(keyFindings('k', readFileSync(join(exportsDir, 'fullchain.pem'))), []);

  for (const emu of [rootEmu, subEmu]) {
    const state = readFileSync(emu.stateFile);
    const needles = emulatorKeyNeedles(emu.stateFile);
    assert.ok(needleHits('state', state, needles).some((h) => /PKCS#8 \(base64\)/.test(h)), 'needles match the state file they come from');
    assert.match(keyFindings('state', state).join(), /PKCS#8 PrivateKeyInfo \(id-ecPublicKey\) \(encoded\)/);
  }
  const keysOnCards = [rootEmu, subEmu].map((e) => Object.keys((JSON.parse(readFileSync(e.stateFile, 'utf8')) as { keys: object }).keys).length);
  assert.ok(keysOnCards[0]! >= 1 && keysOnCards[1]! >= 1, `CA keys generated on both cards: ${keysOnCards.join(', ')}`);
});

test('no private-key label, structure or emulator key byte in any CA artefact or output', () => {
  const artefacts = caArtefacts();
  assert.ok(artefacts.some(([l]) => l.includes('ca.db ')), 'database rows were scanned');
  const needles = [...emulatorKeyNeedles(rootEmu.stateFile), ...emulatorKeyNeedles(subEmu.stateFile)];
  assert.ok(needles.length >= 4 * 5);
  const hits: string[] = [];
  for (const [label, data] of artefacts) hits.push(...keyFindings(label, data), ...needleHits(label, data, needles));
  assert.deepEqual(hits, []);
});

// ---------------------------------------------------------------- static check of src/

/** node:crypto members that create, load or use a private (or shared-secret) key. */
const CRYPTO_FORBIDDEN = new Set([
  'generateKeyPair',
  'generateKeyPairSync',
  'createPrivateKey',
  'privateEncrypt',
  'privateDecrypt',
  'createSign',
  'sign',
  'createECDH',
  'createDiffieHellman',
  'getDiffieHellman',
  'diffieHellman',
  'webcrypto',
  'subtle',
]);

/** Methods of @noble/curves objects (p256, ed25519, …) that need a secret key. */
const NOBLE_FORBIDDEN = /\.(sign|keygen|getPublicKey|getSharedSecret|randomSecretKey|randomPrivateKey)\s*\(/;

/** Findings for one source text (exported logic kept here: it is test-only). */
function privateKeyCodeFindings(file: string, src: string): string[] {
  const found: string[] = [];
  const code = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  for (const m of code.matchAll(/import\s+([\s\S]*?)\s+from\s+['"](node:)?crypto['"]/g)) {
    const clause = m[1]!;
    const named = /\{([\s\S]*)\}/.exec(clause)?.[1] ?? '';
    for (const part of named.split(',')) {
      const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]!;
      if (CRYPTO_FORBIDDEN.has(name)) found.push(`${file}: imports ${name} from node:crypto`);
    }
    const ns = /^(?:\*\s+as\s+)?([A-Za-z_$][\w$]*)/.exec(clause.replace(/\{[\s\S]*\}/, '').replace(/,\s*$/, '').trim())?.[1];
    if (ns) {
      for (const u of code.matchAll(new RegExp(`\\b${ns}\\.(\\w+)`, 'g'))) if (CRYPTO_FORBIDDEN.has(u[1]!)) found.push(`${file}: uses ${ns}.${u[1]}`);
    }
  }
  if (/\brequire\(\s*['"](node:)?crypto['"]\s*\)/.test(code)) found.push(`${file}: require('crypto')`);
  if (/\bcrypto\.subtle\b|\bsubtle\.(generateKey|importKey|sign|deriveBits|deriveKey|unwrapKey)\s*\(/.test(code)) found.push(`${file}: WebCrypto private-key operation`);
  if (/from\s+['"]@noble\//.test(code) && NOBLE_FORBIDDEN.test(code)) found.push(`${file}: @noble secret-key operation ${NOBLE_FORBIDDEN.exec(code)![0]}`);
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(code)) found.push(`${file}: PEM private key literal`);
  if (/from\s+['"](node:)?child_process['"]/.test(code) && /\b(openssl|sc-hsm-tool|pkcs11-tool|pkcs15-init|certtool|p11tool)\b/.test(code)) {
    found.push(`${file}: shells out to a key-capable tool`);
  }
  return found;
}

function tsFiles(root: string): string[] {
  return filesUnder(root).filter((f) => f.endsWith('.ts'));
}

test('static: outside src/card/emulator/ no source creates, loads or uses a private key', () => {
  const src = join(REPO, 'src');
  const files = tsFiles(src);
  assert.ok(files.length > 50, `found the sources (${files.length})`);
  const outside = files.filter((f) => !relative(src, f).startsWith('card/emulator/'));
  const findings = outside.flatMap((f) => privateKeyCodeFindings(relative(REPO, f), readFileSync(f, 'utf8')));
  assert.deepEqual(findings, []);

  // The checker does flag what it is meant to: the emulator (the card) really does all of this…
  const emulator = files.filter((f) => relative(src, f).startsWith('card/emulator/')).flatMap((f) => privateKeyCodeFindings(f, readFileSync(f, 'utf8')));
  assert.ok(emulator.some((f) => /imports generateKeyPair\b/.test(f)) && emulator.some((f) => /imports createPrivateKey\b/.test(f)), emulator.join('\n'));
  // …and each way of writing it.
  const probes: Array<[string, RegExp]> = [
    ["import { sign as s, createHash } from 'node:crypto';", /imports sign/],
    ["import {\n  createHash,\n  type KeyObject,\n  privateDecrypt,\n} from 'crypto';", /imports privateDecrypt/],
    ["import * as c from 'node:crypto';\nc.generateKeyPairSync('ec');", /uses c\.generateKeyPairSync/],
    ["import nc, { createHash } from 'node:crypto';\nnc.createSign('sha256');", /uses nc\.createSign/],
    ['await crypto.subtle.generateKey(alg, false, ["sign"]);', /WebCrypto/],
    ["import { p256 } from '@noble/curves/nist.js';\np256.sign(h, d);", /@noble secret-key/],
    ["import { execFile } from 'node:child_process';\nexecFile('openssl', ['genpkey']);", /shells out/],
  ];
  for (const [probe, want] of probes) assert.match(privateKeyCodeFindings('probe.ts', probe).join(), want, probe);
  // Verifying and hashing are fine.
  assert.deepEqual(privateKeyCodeFindings('ok.ts', "import { createHash, createPublicKey, verify as v } from 'node:crypto';\nimport { p256 } from '@noble/curves/nist.js';\np256.verify(s, h, q);"), []);
});
