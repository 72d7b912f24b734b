/**
 * Validator harness: runs the five independent validators of ca-invariants.md §2.3 (OpenSSL,
 * GnuTLS certtool, NSS vfychain/certutil, strongSwan pki, a real OpenVPN handshake) on given
 * files and returns a structured result. Used by test/integration/validators-*.test.ts, first on
 * an openssl-made test PKI (to test the harness), then on cardca's own output for every leaf
 * profile × key type (G7/G8).
 *
 * Inputs are file paths; certificates and CRLs may be PEM or DER (a PEM file may hold several
 * objects). Every call works in its own temp directory, so calls can run in parallel. Every
 * child process has a timeout and is killed (its whole process group) when the call ends.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect as tcpConnect } from 'node:net';
import { randomInt } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { looksLikePem, pemDecodeAll, pemEncode } from '../../src/ca/export/pem.js';

// ---------------------------------------------------------------------------------------------
// Running tools

export interface ToolResult {
  ok: boolean;
  exitCode: number | null;
  /** stdout and stderr interleaved in arrival order. */
  output: string;
  command: string[];
  timedOut: boolean;
}

export interface RunToolOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Default 30 s; on expiry the process group is killed and `timedOut` is set. */
  timeoutMs?: number;
  input?: string | Uint8Array;
  /** Run under `faketime -f SPEC` (Debian faketime; see {@link faketimeSpec}). */
  faketime?: string | Date;
}

/** `faketime -f` spec: a Date becomes "@YYYY-MM-DD HH:MM:SS" (start there, clock keeps running), UTC. */
export function faketimeSpec(t: string | Date): string {
  if (typeof t === 'string') return t;
  return `@${t.toISOString().slice(0, 19).replace('T', ' ')}`;
}

function withFaketime(cmd: string, args: string[], faketime: string | Date | undefined): [string, string[]] {
  return faketime === undefined ? [cmd, args] : ['faketime', ['-f', faketimeSpec(faketime), cmd, ...args]];
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

export function runTool(cmd: string, args: string[], opts: RunToolOptions = {}): Promise<ToolResult> {
  const [c, a] = withFaketime(cmd, args, opts.faketime);
  const env = opts.faketime === undefined ? (opts.env ?? process.env) : { ...(opts.env ?? process.env), TZ: 'UTC' };
  return new Promise((resolve) => {
    const child = spawn(c, a, { cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const chunks: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGKILL');
    }, opts.timeoutMs ?? 30_000);
    child.stdout.on('data', (ch: Buffer) => chunks.push(ch));
    child.stderr.on('data', (ch: Buffer) => chunks.push(ch));
    child.on('error', (e) => chunks.push(Buffer.from(`spawn error: ${String(e)}\n`)));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        ok: code === 0 && !timedOut,
        exitCode: code,
        output: Buffer.concat(chunks).toString('utf8'),
        command: [c, ...a],
        timedOut,
      });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

// ---------------------------------------------------------------------------------------------
// Common shapes

export type ValidatorName = 'openssl' | 'gnutls' | 'nss' | 'strongswan' | 'openvpn';

/**
 * What the leaf is checked for. `server`/`client`: TLS server/client certificate
 * (OpenSSL sslserver/sslclient, EKU 1.3.6.1.5.5.7.3.1/.2, NSS usage 1/0).
 * `email`: S/MIME signing certificate (OpenSSL smimesign, EKU 1.3.6.1.5.5.7.3.4, NSS usage 4 /
 * certutil S = certUsageEmailSigner).
 * `ca`: the "leaf" is itself a CA certificate (e.g. checking a sub-CA or a root on its own).
 */
export type Purpose = 'server' | 'client' | 'email' | 'ca';

/** Why a validator refused, classified from its output (best effort, for assertions). */
export type FailureReason =
  | 'revoked'
  | 'crl-expired'
  | 'crl-missing'
  | 'purpose'
  | 'hostname'
  | 'cert-expired'
  | 'untrusted'
  | 'timeout'
  | 'other';

export interface ValidatorResult {
  validator: ValidatorName;
  ok: boolean;
  exitCode: number | null;
  output: string;
  /** Commands run, in order (argv). */
  commands: string[][];
  /** Set when ok is false. */
  reason?: FailureReason;
}

export interface ChainCheckInput {
  /** The certificate under test. */
  leaf: string;
  /** Intermediate CA certificates, issuing CA first (may be empty; files may be bundles). */
  chain: string[];
  /** The trust anchor (self-signed root). */
  root: string;
  /** CRL files (PEM or DER; PEM may hold several). Empty = no revocation checking. */
  crls: string[];
  purpose: Purpose;
  /** Verify as of this time (OpenSSL -attime, NSS -b, others via faketime). */
  attime?: Date;
  /** Also check the leaf against this DNS name (OpenSSL, GnuTLS; ignored by NSS/strongSwan). */
  hostname?: string;
  /** Per-tool timeout, default 20 s. */
  timeoutMs?: number;
}

interface Materials {
  dir: string;
  leafDer: Uint8Array;
  chainDer: Uint8Array[];
  rootDer: Uint8Array;
  crlDer: Uint8Array[];
}

async function readObjects(path: string, label: string): Promise<Uint8Array[]> {
  const bytes = new Uint8Array(await readFile(path));
  if (!looksLikePem(bytes)) return [bytes];
  const blocks = pemDecodeAll(Buffer.from(bytes).toString('utf8')).filter((b) => b.label === label);
  if (blocks.length === 0) throw new Error(`${path}: no "${label}" PEM block`);
  return blocks.map((b) => b.der);
}

async function materials(input: ChainCheckInput, tag: string): Promise<Materials> {
  const [leaf, chains, root, crls] = await Promise.all([
    readObjects(input.leaf, 'CERTIFICATE'),
    Promise.all(input.chain.map((c) => readObjects(c, 'CERTIFICATE'))),
    readObjects(input.root, 'CERTIFICATE'),
    Promise.all(input.crls.map((c) => readObjects(c, 'X509 CRL'))),
  ]);
  // Created only after the inputs parsed, so a bad input path leaves no temp dir behind.
  const dir = await mkdtemp(join(tmpdir(), `cardca-val-${tag}-`));
  return { dir, leafDer: leaf[0]!, chainDer: chains.flat(), rootDer: root[0]!, crlDer: crls.flat() };
}

async function writePem(dir: string, name: string, label: 'CERTIFICATE' | 'X509 CRL', ders: Uint8Array[]): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, ders.map((d) => pemEncode(label, d)).join(''));
  return p;
}

async function writeDer(dir: string, name: string, der: Uint8Array): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, der);
  return p;
}

/** Drops strongSwan's plugin-loading chatter so outputs stay readable in assertion messages. */
function cleanOutput(s: string): string {
  return s
    .split('\n')
    .filter((l) => !/^plugin '[^']+': failed to load/.test(l))
    .join('\n');
}

function classify(output: string, patterns: [RegExp, FailureReason][]): FailureReason {
  for (const [re, reason] of patterns) if (re.test(output)) return reason;
  return 'other';
}

function finish(
  validator: ValidatorName,
  runs: ToolResult[],
  ok: boolean,
  patterns: [RegExp, FailureReason][],
): ValidatorResult {
  const output = cleanOutput(runs.map((r) => `$ ${r.command.join(' ')}\n${r.output}`).join('\n'));
  // The exit code that explains the verdict: the first failing run's, else the last run's.
  const decisive = runs.find((r) => !r.ok) ?? runs[runs.length - 1]!;
  const result: ValidatorResult = {
    validator,
    ok,
    exitCode: decisive.exitCode,
    output,
    commands: runs.map((r) => r.command),
  };
  if (!ok) result.reason = runs.some((r) => r.timedOut) ? 'timeout' : classify(output, patterns);
  return result;
}

// ---------------------------------------------------------------------------------------------
// OpenSSL

const OPENSSL_PURPOSE: Record<Purpose, string> = { server: 'sslserver', client: 'sslclient', email: 'smimesign', ca: 'any' };

/**
 * `openssl verify -x509_strict -purpose P -CAfile root -untrusted chain -crl_check_all
 * -CRLfile … [-attime] [-verify_hostname] leaf`. Without CRLs the CRL flags are left out.
 */
export async function opensslVerify(input: ChainCheckInput): Promise<ValidatorResult> {
  const m = await materials(input, 'openssl');
  try {
    const root = await writePem(m.dir, 'root.pem', 'CERTIFICATE', [m.rootDer]);
    const leaf = await writePem(m.dir, 'leaf.pem', 'CERTIFICATE', [m.leafDer]);
    const args = ['verify', '-x509_strict', '-purpose', OPENSSL_PURPOSE[input.purpose], '-CAfile', root];
    if (m.chainDer.length > 0) args.push('-untrusted', await writePem(m.dir, 'chain.pem', 'CERTIFICATE', m.chainDer));
    if (m.crlDer.length > 0) {
      args.push('-crl_check_all');
      for (let i = 0; i < m.crlDer.length; i++) {
        args.push('-CRLfile', await writePem(m.dir, `crl${i}.pem`, 'X509 CRL', [m.crlDer[i]!]));
      }
    }
    if (input.attime) args.push('-attime', String(Math.floor(input.attime.getTime() / 1000)));
    if (input.hostname) args.push('-verify_hostname', input.hostname);
    args.push(leaf);
    const r = await runTool('openssl', args, { timeoutMs: input.timeoutMs ?? 20_000 });
    // openssl verify exits 0 only when every certificate verified; "OK" confirms it.
    return finish('openssl', [r], r.ok && /: OK\s*$/m.test(r.output), [
      [/certificate revoked/, 'revoked'],
      [/CRL has expired/, 'crl-expired'],
      [/unable to get certificate CRL/, 'crl-missing'],
      [/unsupported certificate purpose|unsuitable certificate purpose/, 'purpose'],
      [/hostname mismatch/, 'hostname'],
      [/certificate has expired|certificate is not yet valid/, 'cert-expired'],
      [/unable to get (local )?issuer|self.signed certificate in certificate chain|certificate signature failure/, 'untrusted'],
    ]);
  } finally {
    await rm(m.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// GnuTLS

const GNUTLS_PURPOSE: Record<Purpose, string | undefined> = {
  server: '1.3.6.1.5.5.7.3.1',
  client: '1.3.6.1.5.5.7.3.2',
  email: '1.3.6.1.5.5.7.3.4',
  ca: undefined,
};

/**
 * `certtool --verify --load-ca-certificate root --load-crl crls --verify-purpose OID
 * [--verify-hostname] --infile leaf+chain`. GnuTLS has no -attime: `attime` runs it under
 * faketime. Known limit (gnutls #1003): it does not check CRL thisUpdate/nextUpdate.
 */
export async function gnutlsVerify(input: ChainCheckInput): Promise<ValidatorResult> {
  const m = await materials(input, 'gnutls');
  try {
    const root = await writePem(m.dir, 'root.pem', 'CERTIFICATE', [m.rootDer]);
    const infile = await writePem(m.dir, 'leaf-chain.pem', 'CERTIFICATE', [m.leafDer, ...m.chainDer]);
    const args = ['--verify', '--load-ca-certificate', root];
    if (m.crlDer.length > 0) args.push('--load-crl', await writePem(m.dir, 'crls.pem', 'X509 CRL', m.crlDer));
    const oid = GNUTLS_PURPOSE[input.purpose];
    if (oid) args.push('--verify-purpose', oid);
    if (input.hostname) args.push('--verify-hostname', input.hostname);
    args.push('--infile', infile);
    const r = await runTool('certtool', args, { timeoutMs: input.timeoutMs ?? 20_000, faketime: input.attime });
    return finish('gnutls', [r], r.ok && /Chain verification output: Verified/.test(r.output), [
      [/revoked/i, 'revoked'],
      [/purpose/i, 'purpose'],
      [/hostname/i, 'hostname'],
      [/expired|not activated/i, 'cert-expired'],
      [/signer not found|not trusted|signer.*not.*CA/i, 'untrusted'],
    ]);
  } finally {
    await rm(m.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// NSS

const NSS_VFY_USAGE: Record<Purpose, string> = { server: '1', client: '0', email: '4', ca: '3' };
const NSS_CERTUTIL_USAGE: Record<Purpose, string> = { server: 'V', client: 'C', email: 'S', ca: 'L' };

/**
 * Revocation flags for `vfychain -pp` (CERT_PKIXVerifyCert) that make NSS really use the CRLs
 * imported into its database, measured on NSS 3.87 (see validators-harness.test.ts):
 *   -g leaf  -h requireFreshInfo -m crl -s failIfNoInfo     leaf checked against its issuer's CRL
 *   -g chain -h requireFreshInfo -m crl -s failIfNoInfo     every CA checked against its issuer's CRL
 * Without `-h requireFreshInfo` a missing CRL passes silently; `-g chain` alone does not test
 * the leaf. NSS does not refuse an expired (stale) CRL with these flags.
 */
export const NSS_REVOCATION_FLAGS: readonly string[] = [
  '-g', 'leaf', '-h', 'requireFreshInfo', '-m', 'crl', '-s', 'failIfNoInfo',
  '-g', 'chain', '-h', 'requireFreshInfo', '-m', 'crl', '-s', 'failIfNoInfo',
];

/** NSS time format for vfychain -b / certutil -b: YYMMDDHHMMSSZ (UTC). */
function nssTime(d: Date, withSeconds: boolean): string {
  const iso = d.toISOString();
  const s = iso.slice(2, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16);
  return withSeconds ? `${s}${iso.slice(17, 19)}Z` : `${s}Z`;
}

/**
 * NSS: a fresh cert DB in a temp dir; the root imported as trusted CA (`-t CT,C,C`),
 * intermediates untrusted (`-t ,,`), CRLs imported with `crlutil -I -t 1` (signature checked
 * against the DB's CA certificates), then
 *   1. `vfychain -pp -u U [-b time] <NSS_REVOCATION_FLAGS> -r leaf.der -r ca0.der…` (libpkix), and
 *   2. `certutil -V -u V|C|L [-b time] -n leaf` (classic path; it checks imported CRLs, but does
 *      not require one to exist).
 * ok = both succeed. NSS reports a missing/unusable CRL with the same code as a revocation
 * (-8180 SEC_ERROR_REVOKED_CERTIFICATE), so `reason: 'revoked'` from NSS can also mean "no CRL".
 */
export async function nssVerify(input: ChainCheckInput): Promise<ValidatorResult> {
  const m = await materials(input, 'nss');
  const runs: ToolResult[] = [];
  const t = { timeoutMs: input.timeoutMs ?? 20_000 };
  const db = `sql:${join(m.dir, 'db')}`;
  try {
    await mkdir(join(m.dir, 'db'));
    const step = async (cmd: string, args: string[]): Promise<ToolResult> => {
      const r = await runTool(cmd, args, t);
      runs.push(r);
      return r;
    };
    // A root checked on its own is already in the DB under "root".
    const isRoot = Buffer.compare(Buffer.from(m.leafDer), Buffer.from(m.rootDer)) === 0;
    const leafFile = await writeDer(m.dir, 'leaf.der', m.leafDer);
    const setup = async (): Promise<boolean> => {
      if (!(await step('certutil', ['-N', '-d', db, '--empty-password'])).ok) return false;
      const root = await writeDer(m.dir, 'root.der', m.rootDer);
      if (!(await step('certutil', ['-A', '-d', db, '-n', 'root', '-t', 'CT,C,C', '-i', root])).ok) return false;
      for (let i = 0; i < m.chainDer.length; i++) {
        const f = await writeDer(m.dir, `ca${i}.der`, m.chainDer[i]!);
        if (!(await step('certutil', ['-A', '-d', db, '-n', `ca${i}`, '-t', ',,', '-i', f])).ok) return false;
      }
      // The leaf goes in before the CRLs: when it is a CA itself, a CRL it issued must find it.
      if (!isRoot && !(await step('certutil', ['-A', '-d', db, '-n', 'leaf', '-t', ',,', '-i', leafFile])).ok) {
        return false;
      }
      for (let i = 0; i < m.crlDer.length; i++) {
        const f = await writeDer(m.dir, `crl${i}.der`, m.crlDer[i]!);
        // -t 1 = full CRL (not a deferred/"URL" entry).
        if (!(await step('crlutil', ['-I', '-d', db, '-t', '1', '-i', f])).ok) return false;
      }
      return true;
    };
    if (!(await setup())) {
      return finish('nss', runs, false, [[/.*/, 'other']]);
    }
    const vfyArgs = ['-d', db, '-pp', '-u', NSS_VFY_USAGE[input.purpose]];
    if (input.attime) vfyArgs.push('-b', nssTime(input.attime, false));
    if (m.crlDer.length > 0) vfyArgs.push(...NSS_REVOCATION_FLAGS);
    vfyArgs.push('-r', leafFile);
    for (let i = 0; i < m.chainDer.length; i++) vfyArgs.push('-r', join(m.dir, `ca${i}.der`));
    const vfy = await step('vfychain', vfyArgs);
    const vfyOk = vfy.ok && /Chain is good!/.test(vfy.output);

    const cuArgs = ['-V', '-d', db, '-n', isRoot ? 'root' : 'leaf', '-u', NSS_CERTUTIL_USAGE[input.purpose]];
    if (input.attime) cuArgs.push('-b', nssTime(input.attime, true));
    const cu = await step('certutil', cuArgs);
    const cuOk = cu.ok && /certificate is valid/.test(cu.output);
    return finish('nss', runs, vfyOk && cuOk, [
      [/-8180|has been revoked/, 'revoked'],
      [/-8101|-8102|usage|not approved/i, 'purpose'],
      [/-8181|expired/i, 'cert-expired'],
      [/-8179|-8172|issuer/i, 'untrusted'],
    ]);
  } finally {
    await rm(m.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// strongSwan

/**
 * `pki --verify --in leaf --cacert chain… --cacert root --crl …` (strongSwan 5.9.8). Measured
 * exit codes here: 0 trusted, 1 untrusted *and* revoked (the man page's 3 was not seen), 2
 * lifetimes invalid. A stale CRL still exits 0 ("revocation information stale"), so with CRLs
 * ok also requires the final line to say "certificate not revoked". `attime` → faketime.
 */
export async function strongswanVerify(input: ChainCheckInput): Promise<ValidatorResult> {
  const m = await materials(input, 'strongswan');
  try {
    const leaf = await writePem(m.dir, 'leaf.pem', 'CERTIFICATE', [m.leafDer]);
    const args = ['--verify', '--in', leaf];
    for (let i = 0; i < m.chainDer.length; i++) {
      args.push('--cacert', await writePem(m.dir, `ca${i}.pem`, 'CERTIFICATE', [m.chainDer[i]!]));
    }
    args.push('--cacert', await writePem(m.dir, 'root.pem', 'CERTIFICATE', [m.rootDer]));
    for (let i = 0; i < m.crlDer.length; i++) args.push('--crl', await writeDer(m.dir, `crl${i}.crl`, m.crlDer[i]!));
    const r = await runTool('pki', args, { timeoutMs: input.timeoutMs ?? 20_000, faketime: input.attime });
    // A root checked on its own has no issuer CRL to consult: trust is the whole answer.
    const isRoot = Buffer.compare(Buffer.from(m.leafDer), Buffer.from(m.rootDer)) === 0;
    const summaryOk =
      m.crlDer.length === 0 || isRoot ? /certificate trusted/.test(r.output) : /certificate not revoked/.test(r.output);
    return finish('strongswan', [r], r.ok && summaryOk, [
      [/certificate was revoked/, 'revoked'],
      [/crl is stale|revocation information stale/, 'crl-expired'],
      [/no revocation information|revocation checking failed/, 'crl-missing'],
      [/lifetimes invalid|not valid (before|after)/, 'cert-expired'],
      [/certificate untrusted|no issuer certificate found/, 'untrusted'],
    ]);
  } finally {
    await rm(m.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// All file-based validators at once

export type ChainValidatorName = Exclude<ValidatorName, 'openvpn'>;
export const CHAIN_VALIDATORS: Readonly<Record<ChainValidatorName, (i: ChainCheckInput) => Promise<ValidatorResult>>> = {
  openssl: opensslVerify,
  gnutls: gnutlsVerify,
  nss: nssVerify,
  strongswan: strongswanVerify,
};

/** Runs the four file-based validators in parallel (each in its own temp dir). */
export async function verifyWithAll(
  input: ChainCheckInput,
  which: readonly ChainValidatorName[] = ['openssl', 'gnutls', 'nss', 'strongswan'],
): Promise<Record<ChainValidatorName, ValidatorResult | undefined>> {
  const results = await Promise.all(which.map((w) => CHAIN_VALIDATORS[w](input)));
  const out: Record<ChainValidatorName, ValidatorResult | undefined> = {
    openssl: undefined,
    gnutls: undefined,
    nss: undefined,
    strongswan: undefined,
  };
  which.forEach((w, i) => (out[w] = results[i]));
  return out;
}

/** One-line summary per validator, for assertion messages. */
export function summarize(results: Record<string, ValidatorResult | undefined>): string {
  return Object.values(results)
    .filter((r): r is ValidatorResult => r !== undefined)
    .map((r) => `${r.validator}: ${r.ok ? 'ok' : `REFUSED (${r.reason}, exit ${r.exitCode})`}`)
    .join('; ');
}

// ---------------------------------------------------------------------------------------------
// CRL signature checks (G10)

export interface CrlCheckInput {
  /** The CRL (PEM or DER). */
  crl: string;
  /** The certificate of the CA that signed it (PEM or DER). */
  issuer: string;
  timeoutMs?: number;
}

/**
 * Verifies a CRL's signature with its issuer's certificate in two implementations:
 * `openssl crl -verify -CAfile issuer` and `certtool --verify-crl --load-ca-certificate issuer`.
 * Neither checks thisUpdate/nextUpdate (use opensslVerify with `attime` for that).
 */
export async function verifyCrl(input: CrlCheckInput): Promise<{ openssl: ValidatorResult; gnutls: ValidatorResult }> {
  const dir = await mkdtemp(join(tmpdir(), 'cardca-val-crl-'));
  try {
    const [crl, issuer] = await Promise.all([readObjects(input.crl, 'X509 CRL'), readObjects(input.issuer, 'CERTIFICATE')]);
    const crlPem = await writePem(dir, 'crl.pem', 'X509 CRL', [crl[0]!]);
    const caPem = await writePem(dir, 'issuer.pem', 'CERTIFICATE', [issuer[0]!]);
    const t = { timeoutMs: input.timeoutMs ?? 20_000 };
    const [o, g] = await Promise.all([
      runTool('openssl', ['crl', '-in', crlPem, '-CAfile', caPem, '-verify', '-noout'], t),
      runTool('certtool', ['--verify-crl', '--load-ca-certificate', caPem, '--infile', crlPem], t),
    ]);
    const patterns: [RegExp, FailureReason][] = [[/issuer|not trusted|verify failure|signature/i, 'untrusted']];
    return {
      openssl: finish('openssl', [o], o.ok && /verify OK/.test(o.output), patterns),
      gnutls: finish('gnutls', [g], g.ok && /Verification output: Verified/.test(g.output), patterns),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// OpenVPN loopback handshake

export interface OpenvpnHandshakeInput {
  serverCert: string;
  serverKeyFile: string;
  clientCert: string;
  clientKeyFile: string;
  /** `ca` file of both sides (the CA chain, PEM). */
  caFile: string;
  /** `crl-verify` file of the server (all CA levels' CRLs, PEM). Omit to run without. */
  crlFile?: string;
  /** `crl-verify` for the client side too (default: same as crlFile; null = none). */
  clientCrlFile?: string | null;
  /** Intermediates each side sends (`extra-certs`), when the ca file does not hold them. */
  extraCertsFile?: string;
  /** Client checks the server name with `verify-x509-name NAME name` (subject CN). */
  serverName?: string;
  /** `tls-cert-profile` on both sides (default `preferred`). */
  tlsCertProfile?: 'legacy' | 'preferred' | 'suiteb';
  /** Run both sides under `faketime -f SPEC` (e.g. "+2d", or a Date: start at that time). */
  faketime?: string | Date;
  /** Overall limit; both processes are killed by then (default 15 s). */
  timeoutMs?: number;
  /**
   * The client's key is on a token: `configFile` holds its `pkcs11-providers` / `pkcs11-id` lines
   * (read by OpenVPN's own config parser; `clientCert`/`clientKeyFile` are then ignored), and the
   * token PIN is given over the management interface (`--management-query-passwords`), as a GUI
   * would. Test PINs only.
   */
  clientPkcs11?: { configFile: string; pin: string };
  /** The client's own `ca` file, when the two sides trust different chains (default: caFile). */
  clientCaFile?: string;
  /** Server `--tls-crypt FILE` (the client takes its key from its own config, e.g. an inline <tls-crypt>). */
  serverTlsCryptFile?: string;
}

export interface OpenvpnSideResult {
  initialized: boolean;
  exitCode: number | null;
  output: string;
}

export interface OpenvpnHandshakeResult {
  ok: boolean;
  server: OpenvpnSideResult;
  client: OpenvpnSideResult;
  /** "VERIFY ERROR" lines from either side (e.g. "certificate revoked", "CRL has expired"). */
  verifyErrors: string[];
  /** "VERIFY WARNING" lines (e.g. a CRL missing for a level: allowed by OpenVPN, refused by G7). */
  verifyWarnings: string[];
  timedOut: boolean;
  ports: { server: number; client: number };
  reason?: FailureReason;
}

const INIT_DONE = 'Initialization Sequence Completed';

/**
 * Connect to an OpenVPN management port (retrying until it listens) and answer every
 * `>PASSWORD:Need 'NAME' password` with the PIN (management-notes.txt "COMMAND -- password").
 */
function answerPinOverManagement(port: number, pin: string, gone: () => boolean): void {
  const attempt = (n: number): void => {
    if (gone() || n > 100) return;
    const sock = tcpConnect({ host: '127.0.0.1', port });
    let buf = '';
    sock.on('error', () => {
      sock.destroy();
      setTimeout(() => attempt(n + 1), 100);
    });
    sock.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        const m = /^>PASSWORD:Need '(.*)' password/.exec(line);
        if (m) sock.write(`password "${m[1]!.replace(/(["\\])/g, '\\$1')}" "${pin}"\n`);
      }
    });
    sock.on('close', () => undefined);
  };
  attempt(0);
}

async function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Two distinct free UDP ports in 20000–59999 on 127.0.0.1 (random, so parallel runs rarely meet). */
export async function pickPorts(): Promise<[number, number]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const a = randomInt(20000, 60000);
    const b = randomInt(20000, 60000);
    if (a !== b && (await udpPortFree(a)) && (await udpPortFree(b))) return [a, b];
  }
  throw new Error('no free UDP port pair found on 127.0.0.1');
}

/**
 * Starts an OpenVPN TLS server and client on loopback (`--dev null`, p2p TLS mode, UDP on
 * 127.0.0.1, random distinct ports, `--tls-exit`) and reports whether both sides printed
 * "Initialization Sequence Completed". It returns as soon as the outcome is known (both
 * initialised, a VERIFY ERROR / TLS error, or a side exited), after a short grace period to
 * collect the other side's lines, and always kills both process groups.
 */
export async function openvpnHandshake(input: OpenvpnHandshakeInput): Promise<OpenvpnHandshakeResult> {
  // The ports are checked free just before use, but a parallel run can still grab one in
  // between; a bind failure is retried on fresh ports (it says nothing about the certificates).
  for (let attempt = 1; ; attempt++) {
    const r = await handshakeOnce(input, await pickPorts());
    const bindFailed = /Socket bind failed|Address already in use/.test(r.server.output + r.client.output);
    if (!bindFailed || attempt >= 3) return r;
  }
}

async function handshakeOnce(
  input: OpenvpnHandshakeInput,
  [serverPort, clientPort]: [number, number],
): Promise<OpenvpnHandshakeResult> {
  const managementPort = clientPort === 65535 ? clientPort - 1 : clientPort + 1;
  const timeoutMs = input.timeoutMs ?? 15_000;
  const handWindow = String(Math.max(2, Math.floor(timeoutMs / 1000) - 2));
  const profile = input.tlsCertProfile ?? 'preferred';
  const common = [
    '--dev', 'null', '--proto', 'udp', '--tls-exit', '--hand-window', handWindow,
    '--ping', '1', '--ping-exit', String(Math.ceil(timeoutMs / 1000) + 5), '--verb', '3',
    '--tls-cert-profile', profile, '--ca', input.caFile,
  ];
  if (input.extraCertsFile) common.push('--extra-certs', input.extraCertsFile);
  const serverArgs = [
    ...common, '--tls-server', '--dh', 'none',
    '--local', '127.0.0.1', '--lport', String(serverPort), '--remote', '127.0.0.1', '--rport', String(clientPort),
    '--cert', input.serverCert, '--key', input.serverKeyFile, '--remote-cert-tls', 'client',
  ];
  if (input.crlFile) serverArgs.push('--crl-verify', input.crlFile);
  if (input.serverTlsCryptFile) serverArgs.push('--tls-crypt', input.serverTlsCryptFile);
  const clientArgs = [
    ...common, '--tls-client',
    '--local', '127.0.0.1', '--lport', String(clientPort), '--remote', '127.0.0.1', '--rport', String(serverPort),
    ...(input.clientPkcs11
      ? ['--config', input.clientPkcs11.configFile, '--management', '127.0.0.1', String(managementPort), '--management-query-passwords']
      : ['--cert', input.clientCert, '--key', input.clientKeyFile]),
    '--remote-cert-tls', 'server',
    // A later --ca wins over the one in `common` (OpenVPN options: last occurrence applies).
    ...(input.clientCaFile ? ['--ca', input.clientCaFile] : []),
  ];
  const clientCrl = input.clientCrlFile === undefined ? input.crlFile : input.clientCrlFile;
  if (clientCrl) clientArgs.push('--crl-verify', clientCrl);
  if (input.serverName) clientArgs.push('--verify-x509-name', input.serverName, 'name');

  interface Side {
    out: string;
    exitCode: number | null;
    exited: boolean;
    pid: number | undefined;
    done: Promise<void>;
  }
  const start = (args: string[]): Side => {
    const [c, a] = withFaketime('openvpn', args, input.faketime);
    // faketimeSpec(Date) is written in UTC; make the wrapped process read it as UTC.
    const env = input.faketime === undefined ? process.env : { ...process.env, TZ: 'UTC' };
    const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
    const side: Side = { out: '', exitCode: null, exited: false, pid: child.pid, done: Promise.resolve() };
    const onData = (ch: Buffer): void => {
      side.out += ch.toString('utf8');
      check();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    side.done = new Promise((resolve) => {
      child.on('error', (e) => {
        side.out += `spawn error: ${String(e)}\n`;
      });
      child.on('close', (code) => {
        side.exitCode = code;
        side.exited = true;
        check();
        resolve();
      });
    });
    return side;
  };

  let settle: (v: 'done' | 'failed') => void = () => undefined;
  const outcome = new Promise<'done' | 'failed'>((r) => (settle = r));
  let server: Side | undefined;
  let client: Side | undefined;
  function check(): void {
    if (!server || !client) return;
    if (server.out.includes(INIT_DONE) && client.out.includes(INIT_DONE)) settle('done');
    else if (/VERIFY (\S+ )?ERROR|TLS Error|Exiting due to fatal error|Options error/.test(server.out + client.out)) {
      settle('failed');
    }
    else if (server.exited || client.exited) settle('failed');
  }
  server = start(serverArgs);
  client = start(clientArgs);
  check();
  if (input.clientPkcs11) answerPinOverManagement(managementPort, input.clientPkcs11.pin, () => client!.exited);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    settle('failed');
  }, timeoutMs);
  const result = await outcome;
  clearTimeout(timer);
  // Grace period: let the peer log its side of a failure (e.g. the client's TLS error).
  if (result === 'failed' && !timedOut) await new Promise((r) => setTimeout(r, 300));
  for (const s of [server, client]) if (!s.exited) killGroup(s.pid, 'SIGTERM');
  const hardKill = setTimeout(() => {
    for (const s of [server!, client!]) if (!s.exited) killGroup(s.pid, 'SIGKILL');
  }, 2000);
  await Promise.all([server.done, client.done]);
  clearTimeout(hardKill);

  const lines = (server.out + '\n' + client.out).split('\n');
  // "VERIFY ERROR", and the remote-cert-tls checks' "VERIFY KU ERROR" / "VERIFY EKU ERROR".
  const verifyErrors = lines.filter((l) => /VERIFY (\S+ )?ERROR/.test(l));
  const verifyWarnings = lines.filter((l) => l.includes('VERIFY WARNING'));
  const sInit = server.out.includes(INIT_DONE);
  const cInit = client.out.includes(INIT_DONE);
  const ok = sInit && cInit && verifyErrors.length === 0 && verifyWarnings.length === 0;
  const res: OpenvpnHandshakeResult = {
    ok,
    server: { initialized: sInit, exitCode: server.exitCode, output: server.out },
    client: { initialized: cInit, exitCode: client.exitCode, output: client.out },
    verifyErrors,
    verifyWarnings,
    timedOut,
    ports: { server: serverPort, client: clientPort },
  };
  if (!ok) {
    res.reason = timedOut
      ? 'timeout'
      : classify(verifyErrors.join('\n') + verifyWarnings.join('\n') + server.out + client.out, [
          [/certificate revoked/, 'revoked'],
          [/CRL has expired|CRL is not yet valid/, 'crl-expired'],
          [/unable to get certificate CRL/, 'crl-missing'],
          [/unsupported certificate purpose|unsuitable certificate purpose|VERIFY (EKU|KU) ERROR/, 'purpose'],
          [/X509NAME ERROR|verify-x509-name/, 'hostname'],
          [/certificate has expired|not yet valid/, 'cert-expired'],
          [/unable to get (local )?issuer|self.signed/, 'untrusted'],
        ]);
  }
  return res;
}
