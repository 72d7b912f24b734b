/**
 * A complete cardca PKI built through the real CLI (`node dist/src/cli/bin.js`), for checking
 * cardca's own output with the independent validators (test/helpers/validators.ts):
 *
 *   two emulated SmartCard-HSMs on two vpcd readers (test/helpers/emulator-process.ts),
 *   `ca card init` on both, `ca init`, `ca ceremony root` (card A),
 *   `ca ceremony subca servers|clients|users` (keys on card B, signed by card A),
 *   `ca sign` for every requested leaf (one call per issuer × profile, CSRs made by openssl),
 *   `ca revoke` for the leafs marked `revoke`, `ca crl` for every CA,
 *   `ca export chain` for every sub-CA and `ca export crl --all`.
 *
 * PINs go in files (`--pin-file`), never argv. Every step is a separate `ca` process, so this
 * is also an end-to-end run of the CA commands; keep the number of calls small (one sign call
 * per issuer × profile, CSRs batched). Build it once per test file.
 *
 * The end-entity keys exist only because this is a test PKI: cardca itself never sees them.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pemDecodeAll, pemEncode, type PemLabel } from '../../src/ca/export/pem.js';
import { startEmulator, type EmulatorProcess } from './emulator-process.js';
import { makeKeyAndCsr, type TestKeyType } from './test-pki.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = join(REPO, 'dist', 'src', 'cli', 'bin.js');

/** Test-only PINs: the emulator's factory SO-PIN (SmartCard-HSM default) and a user PIN. */
const SO_PIN = '3537363231383830';
const USER_PIN = '648219';

export type LeafProfile = 'tls-server' | 'tls-client' | 'vpn-server' | 'vpn-client' | 'email';
export type SubCaName = 'servers' | 'clients' | 'users';
export type CaName = 'root' | SubCaName;

/** Every leaf profile of profiles/ and the key types the validator matrix covers. */
export const LEAF_PROFILES: readonly LeafProfile[] = ['tls-server', 'tls-client', 'vpn-server', 'vpn-client', 'email'];
export const MATRIX_KEY_TYPES: readonly TestKeyType[] = ['rsa-2048', 'rsa-3072', 'ec-p256', 'ec-p384'];

/** The sub-CA that issues each leaf profile by default (profiles/{servers,clients,users}.yaml `issues`). */
export const DEFAULT_ISSUER: Readonly<Record<LeafProfile, SubCaName>> = {
  'tls-server': 'servers',
  'vpn-server': 'servers',
  'tls-client': 'clients',
  'vpn-client': 'clients',
  email: 'users',
};

export interface LeafSpec {
  /** Unique, lowercase letters, digits and '-' (it becomes part of the CN / DNS name / e-mail). */
  name: string;
  profile: LeafProfile;
  keyType: TestKeyType;
  /** Issuing sub-CA; default DEFAULT_ISSUER[profile]. */
  issuer?: SubCaName;
  /** Revoke it (keyCompromise) before the CRLs are signed. */
  revoke?: boolean;
}

export interface IssuedLeaf {
  name: string;
  profile: LeafProfile;
  keyType: TestKeyType;
  issuer: SubCaName;
  revoked: boolean;
  /** PEM certificate as written by `ca sign`. */
  cert: string;
  /** PEM private key (openssl-made, test only). */
  key: string;
  serialHex: string;
  /** Subject CN as requested. */
  cn: string;
  /** DNS name in the SAN (server profiles). */
  dnsName?: string;
  /** rfc822Name in the SAN (email profile). */
  email?: string;
}

export interface CaFiles {
  name: CaName;
  /** The CA certificate, first block of `ca export chain --issuer NAME` (PEM). */
  cert: string;
  /** `ca export chain --issuer NAME` output as is (CA first, root last). Root: the root alone. */
  chain: string;
  /** The CA's latest CRL, `ca export crl --issuer NAME` output (PEM). */
  crl: string;
  /** nextUpdate of that CRL (from `ca crl` output). */
  crlNextUpdate: Date;
  /** Serial of the card holding the key, and its reader. */
  cardSerial: string;
  reader: string;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  args: string[];
}

export interface CardcaPki {
  dir: string;
  home: string;
  pinFile: string;
  cas: Partial<Record<CaName, CaFiles>> & { root: CaFiles };
  /** Every CA certificate (sub-CAs, then the root), PEM, for OpenVPN `--ca`. */
  caBundle: string;
  /** `ca export crl --all` output: the latest CRL of every CA, PEM. */
  crlBundle: string;
  leafs: ReadonlyMap<string, IssuedLeaf>;
  leaf(name: string): IssuedLeaf;
  ca(subCa: CaName): CaFiles;
  /** Runs the CLI on this PKI's home (`--home` added). */
  cli(...args: string[]): Promise<CliRun>;
  /** Milliseconds per build phase (for reports; never asserted on). */
  timings: Record<string, number>;
  /** Stops both emulators and removes the directory. */
  close(): Promise<void>;
}

export interface BuildCardcaPkiOptions {
  /** The two vpcd ports of the calling suite (card A = root, card B = sub-CAs). */
  ports: [number, number];
  /** Sub-CAs to create (default all three). */
  subCas?: readonly SubCaName[];
  leafs: readonly LeafSpec[];
}

function runCli(args: string[], timeoutMs = 90_000): Promise<CliRun> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, ...args], { timeout: timeoutMs, maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      res({ code, stdout: String(stdout), stderr: String(stderr), args });
    });
  });
}

/** Runs `ca ARGS`; throws with the CLI's output when it fails (a broken build step is no test result). */
async function mustCli(args: string[]): Promise<CliRun> {
  const r = await runCli(args);
  if (r.code !== 0) {
    throw new Error(`ca ${args.join(' ')} exited ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
  }
  return r;
}

/** Subject, requested extensions and names of a leaf, shaped to pass its profile's subject/SAN rules. */
function leafRequest(spec: LeafSpec): { subject: string; addext: string[]; cn: string; dnsName?: string; email?: string } {
  switch (spec.profile) {
    case 'tls-server': {
      const dns = `${spec.name}.example.test`;
      return { subject: `/CN=${dns}`, addext: [`subjectAltName=DNS:${dns}`], cn: dns, dnsName: dns };
    }
    case 'vpn-server': {
      const dns = `${spec.name}.vpn.example.test`;
      return { subject: `/CN=${dns}`, addext: [`subjectAltName=DNS:${dns}`], cn: dns, dnsName: dns };
    }
    case 'tls-client':
    case 'vpn-client':
      return { subject: `/CN=${spec.name}`, addext: [], cn: spec.name };
    case 'email': {
      const email = `${spec.name}@example.test`;
      return { subject: `/CN=${spec.name}`, addext: [`subjectAltName=email:${email}`], cn: spec.name, email };
    }
  }
}

/** Splits a PEM bundle into its blocks (label, PEM text). */
function pemBlocks(text: string, label: PemLabel): string[] {
  return pemDecodeAll(text)
    .filter((b) => b.label === label)
    .map((b) => pemEncode(label, b.der));
}

export async function buildCardcaPki(options: BuildCardcaPkiOptions): Promise<CardcaPki> {
  const subCas = options.subCas ?? ['servers', 'clients', 'users'];
  for (const l of options.leafs) {
    const issuer = l.issuer ?? DEFAULT_ISSUER[l.profile];
    if (!subCas.includes(issuer)) throw new Error(`leaf ${l.name}: sub-CA ${issuer} is not built`);
    if (!/^[a-z0-9][a-z0-9-]*$/.test(l.name)) throw new Error(`leaf name ${l.name}: use [a-z0-9-]`);
  }
  const timings: Record<string, number> = {};
  const timed = async <T>(phase: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      timings[phase] = Math.round((timings[phase] ?? 0) + performance.now() - t0);
    }
  };

  const dir = await mkdtemp(join(tmpdir(), 'cardca-pki-'));
  const home = join(dir, 'home');
  const pinFile = join(dir, 'user.pin');
  const soPinFile = join(dir, 'so.pin');
  await writeFile(pinFile, `${USER_PIN}\n`, { mode: 0o600 });
  await writeFile(soPinFile, `${SO_PIN}\n`, { mode: 0o600 });

  const emus: EmulatorProcess[] = [];
  const close = async (): Promise<void> => {
    for (const e of emus) await e.stop();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    // Leaf keys and CSRs first (openssl, no card): RSA-3072 keygen is the slow part, run it in
    // parallel with the card work below.
    const csrsReady = timed('leaf keys + CSRs (openssl)', () =>
      Promise.all(
        options.leafs.map(async (spec) => {
          const req = leafRequest(spec);
          const kc = await makeKeyAndCsr(dir, spec.name, spec.keyType, req.subject, { addext: req.addext });
          return { spec, req, ...kc };
        }),
      ),
    );
    // An unhandled rejection while the card steps run would crash the test process.
    csrsReady.catch(() => undefined);

    const [emuA, emuB] = await timed('emulators', () =>
      Promise.all([startEmulator({ port: options.ports[0] }), startEmulator({ port: options.ports[1] })]),
    );
    emus.push(emuA, emuB);
    const h = ['--home', home];
    await timed('card init', async () => {
      for (const e of [emuA, emuB]) {
        await mustCli(['card', 'init', '--reader', e.readerName, '--label', `cardca test ${e.port}`, '--so-pin-file', soPinFile, '--pin-file', pinFile, '--retries', '3']);
      }
    });
    await timed('ca init + ceremonies', async () => {
      await mustCli(['init', '--rehearsal', ...h]);
      await mustCli(['ceremony', 'root', ...h, '--card', emuA.serial, '--reader', emuA.readerName, '--pin-file', pinFile, '--yes']);
      for (const s of subCas) {
        await mustCli(['ceremony', 'subca', s, ...h, '--card', emuB.serial, '--reader', emuB.readerName, '--pin-file', pinFile, '--issuer-card', emuA.serial, '--issuer-pin-file', pinFile, '--yes']);
      }
    });
    const cardOf = (ca: CaName): EmulatorProcess => (ca === 'root' ? emuA : emuB);

    // One `ca sign` per issuer × profile: several CSRs share one card session.
    const csrs = await csrsReady;
    const leafs = new Map<string, IssuedLeaf>();
    const certDir = join(dir, 'certs') + '/';
    await timed('ca sign', async () => {
      const groups = new Map<string, typeof csrs>();
      for (const c of csrs) {
        const k = `${c.spec.issuer ?? DEFAULT_ISSUER[c.spec.profile]}\t${c.spec.profile}`;
        groups.set(k, [...(groups.get(k) ?? []), c]);
      }
      for (const [k, group] of groups) {
        const [issuer, profile] = k.split('\t') as [SubCaName, LeafProfile];
        const r = await mustCli([
          'sign', ...group.map((c) => c.csr), ...h, '--issuer', issuer, '--profile', profile,
          '--out', certDir, '--pin-file', pinFile, '--reader', cardOf(issuer).readerName, '--json',
        ]);
        const out = JSON.parse(r.stdout) as { file: string; out: string; serial: string }[];
        for (const c of group) {
          const row = out.find((o) => o.file === c.csr);
          if (!row) throw new Error(`ca sign printed no result for ${c.csr}:\n${r.stdout}`);
          leafs.set(c.spec.name, {
            name: c.spec.name,
            profile: c.spec.profile,
            keyType: c.spec.keyType,
            issuer,
            revoked: c.spec.revoke === true,
            cert: row.out,
            key: c.key,
            serialHex: row.serial,
            cn: c.req.cn,
            ...(c.req.dnsName ? { dnsName: c.req.dnsName } : {}),
            ...(c.req.email ? { email: c.req.email } : {}),
          });
        }
      }
    });

    await timed('ca revoke', async () => {
      for (const l of leafs.values()) if (l.revoked) await mustCli(['revoke', l.cert, ...h, '--reason', 'keyCompromise']);
    });

    const crlNext = new Map<CaName, Date>();
    const allCas: CaName[] = ['root', ...subCas];
    await timed('ca crl', async () => {
      for (const ca of allCas) {
        const r = await mustCli(['crl', ...h, '--issuer', ca, '--pin-file', pinFile, '--reader', cardOf(ca).readerName]);
        const m = /next update (\S+)/.exec(r.stdout);
        if (!m) throw new Error(`ca crl --issuer ${ca}: no "next update" in\n${r.stdout}`);
        crlNext.set(ca, new Date(m[1]!));
      }
    });

    const cas: Partial<Record<CaName, CaFiles>> = {};
    const crlBundle = join(dir, 'export', 'crls.pem');
    await timed('ca export', async () => {
      for (const ca of allCas) {
        const chain = join(dir, 'export', `${ca}.chain.pem`);
        await mustCli(['export', 'chain', ...h, '--issuer', ca, '--out', chain]);
        const blocks = pemBlocks(await readFile(chain, 'utf8'), 'CERTIFICATE');
        if (blocks.length !== (ca === 'root' ? 1 : 2)) throw new Error(`${chain}: ${blocks.length} certificates`);
        const cert = join(dir, 'export', `${ca}.crt`);
        await writeFile(cert, blocks[0]!);
        const crl = join(dir, 'export', `${ca}.crl`);
        await mustCli(['export', 'crl', ...h, '--issuer', ca, '--out', crl]);
        const e = cardOf(ca);
        cas[ca] = { name: ca, cert, chain, crl, crlNextUpdate: crlNext.get(ca)!, cardSerial: e.serial, reader: e.readerName };
      }
      await mustCli(['export', 'crl', ...h, '--all', '--out', crlBundle]);
    });
    const caBundle = join(dir, 'export', 'ca-bundle.pem');
    const bundleParts = await Promise.all([...subCas, 'root' as const].map((c) => readFile(cas[c]!.cert, 'utf8')));
    await writeFile(caBundle, bundleParts.join(''));

    return {
      dir,
      home,
      pinFile,
      cas: cas as CardcaPki['cas'],
      caBundle,
      crlBundle,
      leafs,
      leaf(name) {
        const l = leafs.get(name);
        if (!l) throw new Error(`no leaf ${name} in this PKI`);
        return l;
      },
      ca(name) {
        const c = cas[name];
        if (!c) throw new Error(`CA ${name} was not built`);
        return c;
      },
      cli: (...args) => runCli([...args, ...h]),
      timings,
      close,
    };
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }
}
