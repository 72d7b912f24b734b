/**
 * Benchmark (not a test): certificate issuance with cardca against the named peer, which is
 * what operators run today: `openssl x509 -req -engine pkcs11` (libp11's engine from Debian's
 * libengine-pkcs11-openssl, loading OpenSC's opensc-pkcs11.so), one process per certificate,
 * signing with a key on the same virtual SmartCard-HSM through the same pcscd.
 *
 * Setup (untimed): a root card on vpcd port 35963 and an issuing card on 35964, both emulated
 * by `ca emulator start`; the root and sub-CA ceremonies (src/ca/ceremony.ts, driver API) put a
 * P-256 and an RSA-2048 issuing key on the one issuing card, each with its CA certificate.
 * EC P-256 CSRs are made with `openssl req` (one fresh set of N per cardca row).
 *
 * Timed, per key type, N certificates per row (docs/benchmarks.md has the table):
 *   (a) cardca engine: the code path of bench/issuance.ts — parseCsr + key policy +
 *       issueCertificate (TX1, lint, card SIGN, assemble + verify, TX2 into SQLite) — in this
 *       process, with session open + PIN verify + key lookup once per batch, or once per
 *       certificate;
 *   (b) the real `ca sign` CLI, one process for the batch, or one process per certificate;
 *   (c) peer: `openssl x509 -req -engine pkcs11 -CAkeyform engine -CAkey "pkcs11:…" -CA ca.pem`
 *       spawned once per certificate (engine load, C_Initialize, token bind, login, sign).
 * Printed: ms/cert, APDUs/cert (lines added to the issuing card's APDU log) and the ratios
 * peer/row for both.
 *
 *   npx tsc -p . && OPENSC_CONF=$PWD/test/rig/opensc.conf node dist/bench/issuance-vs-openssl.js [N] [port]
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { benchMain } from './helpers/bench-main.js';
import { PIN, PIN_TEXT, withBenchCards, type BenchCards } from './helpers/bench-cards.js';
import { openscConfForOneReader } from './helpers/opensc-one-reader.js';
import { addSummaryRow } from './helpers/summary.js';
import type { PcscCardService } from '../src/card/pcsc-card-service.js';
import type { DriverCardSession } from '../src/card/card-session-impl.js';
import { openDatabase } from '../src/db/database.js';
import { SqliteStore } from '../src/db/sqlite-store.js';
import { rootCeremony, subCaCeremony } from '../src/ca/ceremony.js';
import { issueCertificate } from '../src/ca/issuance.js';
import { issuerInfoFromCertificate } from '../src/ca/issuance-issuer.js';
import { systemClock } from '../src/ca/clock.js';
import { checkCsrKeyPolicy, loadProfiles, parseCsr } from '../src/ca/index.js';

const execFileP = promisify(execFile);

const PROFILES = new URL('../../profiles', import.meta.url).pathname;
const ENGINE = '/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so';
const OPENSC_PKCS11 = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
const DEFAULT_N = 20;
const DEFAULT_PORT = 35963;

export type KeyKind = 'p256' | 'rsa2048';

export interface IssuingCa {
  readonly kind: KeyKind;
  readonly store: SqliteStore;
  readonly profiles: ReturnType<typeof loadProfiles>;
  readonly keyId: string;
  readonly caPem: string;
}

export interface Figures {
  readonly ms: number;
  /** Lines added to the issuing card's APDU log. */
  readonly apdus: number;
}

function logLines(file: string): number {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).length;
  } catch {
    return 0;
  }
}

function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** A copy of the shipped profiles, with the `servers` sub-CA switched to RSA-2048 when asked. */
function profilesFor(kind: KeyKind, dir: string): string {
  const out = join(dir, `profiles-${kind}`);
  cpSync(PROFILES, out, { recursive: true });
  if (kind === 'rsa2048') {
    const file = join(out, 'servers.yaml');
    const text = readFileSync(file, 'utf8')
      .replace(/^key: .*$/m, 'key: rsa2048')
      .replace(/^signatureAlgorithm: .*$/m, 'signatureAlgorithm: rsa-pkcs1-sha256');
    writeFileSync(file, text);
  }
  return out;
}

/** CSRs made by `openssl req` (EC P-256, fresh keys), outside the timed part; DER for cardca, files for openssl. */
export function makeCsrs(n: number, dir: string, tag: string): { der: Uint8Array[]; files: string[] } {
  const der: Uint8Array[] = [];
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const cn = `${tag}${i}.example.test`;
    const file = join(dir, `${tag}${i}.csr`);
    execFileSync('openssl', ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', join(dir, `${tag}${i}.key`),
      '-subj', `/C=DE/O=Example VPN/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`, '-outform', 'DER', '-out', file], { stdio: 'ignore' });
    der.push(new Uint8Array(readFileSync(file)));
    files.push(file);
  }
  return { der, files };
}

export async function ceremonies(kind: KeyKind, dir: string, root: DriverCardSession, sub: DriverCardSession): Promise<IssuingCa> {
  const store = new SqliteStore(openDatabase(join(dir, `ca-${kind}.db`), { create: true }));
  const profiles = loadProfiles(profilesFor(kind, dir));
  await rootCeremony({ store, clock: systemClock, profiles }, { card: root });
  await subCaCeremony({ store, clock: systemClock, profiles }, { caName: 'servers', subjectCard: async () => sub, issuerCard: async () => root });
  const ca = store.getCa('servers')!;
  return { kind, store, profiles, keyId: ca.keyId, caPem: pem('CERTIFICATE', ca.certificate!) };
}

/**
 * (a) cardca's issuance engine. Batch mode: open the PC/SC session, verify the PIN, find the
 * key, issue all N, close — all timed, so the setup is amortised over N as in `ca sign` with N
 * CSRs. Per-certificate mode: the same open/verify/find/close around every single issuance (what
 * one `ca sign` per CSR costs on the card side, without node's process start).
 */
async function cardcaIssue(
  ca: IssuingCa,
  service: PcscCardService,
  reader: string,
  csrs: readonly Uint8Array[],
  apduLog: string,
  sessionPerCert: boolean,
): Promise<Figures> {
  const cert = ca.store.getCa('servers')!.certificate!;
  const info = issuerInfoFromCertificate(cert, ca.profiles.caProfile('servers'));
  const leaf = ca.profiles.leafProfile('tls-server');
  const groups = sessionPerCert ? csrs.map((c) => [c]) : [csrs];
  const before = logLines(apduLog);
  const t0 = performance.now();
  for (const group of groups) {
    const session = await service.open({ reader });
    await session.verifyPin(PIN);
    const signer = await session.signer(ca.keyId);
    for (const der of group) {
      const csr = parseCsr(der);
      checkCsrKeyPolicy(csr);
      await issueCertificate(
        { store: ca.store, clock: systemClock, signer, issuerName: 'servers', issuer: info },
        { profile: leaf, spki: csr.spki, subject: csr.subject, csrSans: csr.sans, csrDer: csr.der },
      );
    }
    await session.close();
  }
  return figures(performance.now() - t0, before, logLines(apduLog));
}

function figures(ms: number, before: number, after: number): Figures {
  return { ms, apdus: after - before };
}

/**
 * The extensions an operator would give `openssl x509 -req` to match the tls-server profile
 * (RFC 5280 §4.2: SKI/AKI, KU, EKU, basicConstraints, SAN copied from the CSR, CDP, AIA).
 */
function extFile(dir: string): string {
  const file = join(dir, 'tls-server.ext');
  writeFileSync(
    file,
    [
      '[v3]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = serverAuth',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      'crlDistributionPoints = URI:http://pki.example.test/crl/servers.crl',
      'authorityInfoAccess = caIssuers;URI:http://pki.example.test/ca/servers.crt',
      '',
    ].join('\n'),
  );
  return file;
}

/** Percent-encode a hex CKA_ID for a PKCS#11 URI (RFC 7512 §2.3: `id` is a pct-encoded byte string). */
function uriId(hex: string): string {
  return hex.replace(/(..)/g, '%$1');
}

/** (b) the peer: one `openssl x509 -req -engine pkcs11` process per certificate. */
export async function opensslPerCert(ca: IssuingCa, serial: string, reader: string, csrFiles: readonly string[], dir: string, apduLog: string): Promise<Figures> {
  const caFile = join(dir, `ca-${ca.kind}.pem`);
  writeFileSync(caFile, ca.caPem);
  const ext = extFile(dir);
  // OpenSC sees only the issuing card's reader (helpers/opensc-one-reader.ts, as on an
  // operator's one-reader machine); `serial` (the token serial) pins the key to that card anyway.
  const key = `pkcs11:serial=${serial};id=${uriId(ca.keyId)};type=private;pin-value=${PIN_TEXT}`;
  const env = { ...process.env, OPENSSL_CONF: opensslConf(dir), OPENSC_CONF: openscConfForOneReader(dir, reader) };
  const before = logLines(apduLog);
  const t0 = performance.now();
  for (let i = 0; i < csrFiles.length; i++) {
    await execFileP(
      'openssl',
      ['x509', '-req', '-engine', 'pkcs11', '-CAkeyform', 'engine', '-CAkey', key, '-CA', caFile, '-in', csrFiles[i]!, '-inform', 'DER',
        '-set_serial', '0x' + randomBytes(16).toString('hex').replace(/^[89a-f]/, '1'), '-days', '397', '-sha256',
        '-copy_extensions', 'copy', '-extfile', ext, '-extensions', 'v3', '-out', join(dir, `peer-${ca.kind}-${i}.pem`)],
      { env, timeout: 60_000 },
    );
  }
  const ms = performance.now() - t0;
  const after = logLines(apduLog);
  // Outside the timing: the peer's certificates really chain to the card key.
  execFileSync('openssl', ['verify', '-partial_chain', '-CAfile', caFile, join(dir, `peer-${ca.kind}-0.pem`)], { stdio: 'pipe' });
  return figures(ms, before, after);
}

/** OpenSSL config loading libp11's engine with OpenSC's module, as operators configure it. */
function opensslConf(dir: string): string {
  const file = join(dir, 'openssl-pkcs11.cnf');
  if (!existsSync(file)) {
    writeFileSync(
      file,
      [
        'openssl_conf = openssl_init',
        '[openssl_init]',
        'engines = engine_section',
        '[engine_section]',
        'pkcs11 = pkcs11_section',
        '[pkcs11_section]',
        'engine_id = pkcs11',
        `dynamic_path = ${ENGINE}`,
        `MODULE_PATH = ${OPENSC_PKCS11}`,
        'init = 0',
        '',
      ].join('\n'),
    );
  }
  return file;
}

export const CA_BIN = new URL('../src/cli/bin.js', import.meta.url).pathname;

/**
 * A `ca` home for the real CLI: `ca init`, then `ca ceremony root` on the root card and
 * `ca ceremony subca servers` on the issuing card (new keys next to the API-made ones), with
 * the `servers` profile switched to RSA-2048 for that key type. Untimed.
 */
export function cliHome(kind: KeyKind, dir: string, rootReader: string, subReader: string, pinFile: string): string {
  const home = join(dir, `home-${kind}`);
  const ca = (...args: string[]): void => {
    execFileSync(process.execPath, [CA_BIN, ...args, '--home', home], { stdio: 'pipe', timeout: 120_000 });
  };
  // The RSA variant's profiles are given to `ca init`, which pins them (copying them in afterwards
  // is refused by the next command as PROFILES_CHANGED).
  ca('init', '--rehearsal', ...(kind === 'rsa2048' ? ['--profiles', profilesFor(kind, dir)] : []));
  ca('ceremony', 'root', '--yes', '--reader', rootReader, '--pin-file', pinFile);
  ca('ceremony', 'subca', 'servers', '--yes', '--reader', subReader, '--pin-file', pinFile, '--issuer-pin-file', pinFile);
  return home;
}

/**
 * (c) the real `ca sign` CLI: either one process for the whole batch of N CSRs, or one process
 * per CSR (node start-up, module loading, database open, card session, PIN — what the peer pays
 * per process too).
 */
async function cliSign(home: string, reader: string, pinFile: string, csrFiles: readonly string[], outDir: string, apduLog: string, perCert: boolean): Promise<Figures> {
  const groups = perCert ? csrFiles.map((f) => [f]) : [csrFiles];
  mkdirSync(outDir, { recursive: true });
  const before = logLines(apduLog);
  const t0 = performance.now();
  for (const group of groups) {
    await execFileP(process.execPath, [CA_BIN, 'sign', ...group, '--issuer', 'servers', '--profile', 'tls-server', '--home', home, '--reader', reader, '--pin-file', pinFile, '--out', outDir], {
      timeout: 120_000,
    });
  }
  return figures(performance.now() - t0, before, logLines(apduLog));
}

function line(kind: KeyKind, n: number, r: Record<'batch' | 'perCert' | 'cliBatch' | 'cliPerCert' | 'peer', Figures>): void {
  const f = (x: Figures): string => `${(x.ms / n).toFixed(1).padStart(6)} ms/cert ${(x.apdus / n).toFixed(1).padStart(5)} APDUs/cert   ratio peer/this: time ${(r.peer.ms / x.ms).toFixed(2)}, APDUs ${(r.peer.apdus / x.apdus).toFixed(2)}`;
  console.log(`  ${kind} (n=${n}):`);
  console.log(`    cardca engine, 1 session for the batch          ${f(r.batch)}`);
  console.log(`    cardca engine, 1 session per certificate        ${f(r.perCert)}`);
  console.log(`    \`ca sign\` CLI, 1 process for the batch         ${f(r.cliBatch)}`);
  console.log(`    \`ca sign\` CLI, 1 process per certificate       ${f(r.cliPerCert)}`);
  console.log(`    peer: openssl x509 -req -engine pkcs11, 1 process per certificate  ${(r.peer.ms / n).toFixed(1)} ms/cert ${(r.peer.apdus / n).toFixed(1)} APDUs/cert`);
}

export async function run(n = DEFAULT_N, port = DEFAULT_PORT): Promise<void> {
  for (const f of [ENGINE, OPENSC_PKCS11]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run scripts/setup.sh (Debian packages libengine-pkcs11-openssl, opensc)`);
  }
  // Work files (CSRs with their test keys, CA homes, configs) live here and are removed at the end.
  const dir = mkdtempSync(join(tmpdir(), 'cardca-bench-peer-'));
  // One CSR set per cardca run: a CA refuses to certify a public key twice (KEY_DUPLICATE).
  const csrs = makeCsrs(n, dir, 'batch');
  const csrs2 = makeCsrs(n, dir, 'single');
  const csrs3 = makeCsrs(n, dir, 'clibatch');
  const csrs4 = makeCsrs(n, dir, 'clisingle');
  try {
    await withBenchCards(port, (cards) => measure(cards, dir, n, [csrs, csrs2, csrs3, csrs4]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Csrs = ReturnType<typeof makeCsrs>;

async function measure({ emuRoot, emuSub, root, sub, service, closeSessions }: BenchCards, dir: string, n: number, [csrs, csrs2, csrs3, csrs4]: readonly [Csrs, Csrs, Csrs, Csrs]): Promise<void> {
  const cas: IssuingCa[] = [];
  for (const kind of ['p256', 'rsa2048'] as const) cas.push(await ceremonies(kind, dir, root, sub));
  await closeSessions();
  // cardca runs first and closes its session each time, so the peer finds the card free.
  const batch = new Map<KeyKind, Figures>();
  const perCert = new Map<KeyKind, Figures>();
  for (const ca of cas) {
    batch.set(ca.kind, await cardcaIssue(ca, service, emuSub.readerName, csrs.der, emuSub.apduLogFile, false));
    perCert.set(ca.kind, await cardcaIssue(ca, service, emuSub.readerName, csrs2.der, emuSub.apduLogFile, true));
  }
  await service.close();
  console.log(
    `  issuing card ${emuSub.serial} in "${emuSub.readerName}", root card in "${emuRoot.readerName}"; cardca engine = issuance path of bench/issuance.ts ` +
      'in this process (session open + PIN verify + key lookup timed); APDUs = lines in the issuing card\'s APDU log',
  );
  const pinFile = join(dir, 'user-pin');
  writeFileSync(pinFile, PIN_TEXT + '\n', { mode: 0o600 });
  // The peer runs before the CLI ceremonies add keys: OpenSC reads every object on the card
  // at each start, so its APDU count grows with the number of keys (2 here, as for cardca's
  // engine rows; the CLI rows see 3 and 4).
  const peer = new Map<KeyKind, Figures>();
  for (const ca of cas) {
    peer.set(ca.kind, await opensslPerCert(ca, emuSub.serial, emuSub.readerName, csrs.files, dir, emuSub.apduLogFile));
    ca.store.db.close();
  }
  for (const ca of cas) {
    const home = cliHome(ca.kind, dir, emuRoot.readerName, emuSub.readerName, pinFile);
    const cliBatch = await cliSign(home, emuSub.readerName, pinFile, csrs3.files, join(dir, `cli-${ca.kind}-batch`), emuSub.apduLogFile, false);
    const cliPerCert = await cliSign(home, emuSub.readerName, pinFile, csrs4.files, join(dir, `cli-${ca.kind}-single`), emuSub.apduLogFile, true);
    const p = peer.get(ca.kind)!;
    line(ca.kind, n, { batch: batch.get(ca.kind)!, perCert: perCert.get(ca.kind)!, cliBatch, cliPerCert, peer: p });
    const perCertMs = (f: Figures): string => `${(f.ms / n).toFixed(1)} ms`;
    addSummaryRow({ figure: `\`ca sign\` CLI, ${n} CSRs in one process, per cert (${ca.kind})`, cardca: perCertMs(cliBatch), peer: `openssl x509 -req -engine pkcs11: ${perCertMs(p)}`, ratio: `peer/this ${(p.ms / cliBatch.ms).toFixed(2)}`, goal: '—' });
  }
}

benchMain(import.meta.url, run);
