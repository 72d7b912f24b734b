/**
 * A throwaway two-level test PKI built with the `openssl` CLI, used only to test the validator
 * harness itself (test/helpers/validators.ts). cardca's own output is checked with the same
 * harness later; nothing here is used by the CA.
 *
 * Layout (all PEM unless noted), in a fresh temp dir:
 *   root.pem/root.key            self-signed root (basicConstraints critical CA, KU keyCertSign+cRLSign)
 *   sub.pem/sub.key              sub-CA, pathlen 0, issued by root
 *   server.pem/server.key        leaf, EKU serverAuth, SAN DNS:vpn.example.test
 *   client.pem/client.key        leaf, EKU clientAuth
 *   revoked.pem/revoked.key      leaf, EKU clientAuth (+serverAuth), revoked on sub.crl
 *   root.crl.pem / sub.crl.pem   fresh CRLs, nextUpdate = now + crlHours (default 24 h)
 *   sub-expired.crl.pem          sub CRL with nextUpdate in the past (revokes `revoked` too)
 *   ca-bundle.pem                sub then root (issuer → root order)
 *   crl-bundle.pem               sub CRL then root CRL
 *   crl-bundle-expired.pem       expired sub CRL then root CRL
 *
 * The end-entity keys exist only because this is a test PKI: a real cardca never holds them.
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool } from './validators.js';

export type TestKeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096';

export interface TestPkiOptions {
  /** Directory to build in; a fresh temp dir by default. */
  dir?: string;
  keyType?: TestKeyType;
  /** Hours until the fresh CRLs' nextUpdate (default 24). */
  crlHours?: number;
  /** Leaf/CA validity in days (default 365). */
  days?: number;
}

export interface TestPki {
  dir: string;
  keyType: TestKeyType;
  root: { cert: string; key: string; crl: string; crlDer: string };
  sub: { cert: string; key: string; crl: string; crlDer: string; expiredCrl: string };
  server: { cert: string; key: string; serialHex: string };
  client: { cert: string; key: string; serialHex: string };
  revoked: { cert: string; key: string; serialHex: string };
  caBundle: string;
  crlBundle: string;
  crlBundleExpired: string;
  /** The fresh CRLs' nextUpdate (second precision). */
  crlNextUpdate: Date;
  serverName: string;
}

const SERVER_NAME = 'vpn.example.test';

const OPENSSL_CNF = `
[ req ]
distinguished_name = dn
[ dn ]
[ root_ext ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ sub_ext ]
basicConstraints = critical,CA:true,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ server_ext ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:${SERVER_NAME}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ client_ext ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ revoked_ext ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = DNS:${SERVER_NAME}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ca ]
default_ca = ca_default
[ ca_default ]
database = index.txt
crlnumber = crlnumber
default_md = sha256
crl_extensions = crl_ext
[ crl_ext ]
authorityKeyIdentifier = keyid:always
`;

async function openssl(dir: string, args: string[]): Promise<string> {
  const r = await runTool('openssl', args, { cwd: dir, timeoutMs: 30_000 });
  if (!r.ok) throw new Error(`openssl ${args.join(' ')} failed (${r.exitCode}):\n${r.output}`);
  return r.output;
}

function keyArgs(keyType: TestKeyType): string[] {
  switch (keyType) {
    case 'ec-p256':
      return ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    case 'ec-p384':
      return ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'];
    case 'rsa-2048':
      return ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'];
    case 'rsa-3072':
      return ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072'];
    case 'rsa-4096':
      return ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:4096'];
  }
}

/** Positive serial with ≥ 64 random bits (top bit cleared so the DER INTEGER stays positive). */
function randomSerialHex(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString('hex').toUpperCase();
}

/** `openssl ca` index.txt time format (UTCTime, RFC 5280 §4.1.2.5.1). */
function utcTime(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return (
    p(d.getUTCFullYear() % 100) + p(d.getUTCMonth() + 1) + p(d.getUTCDate()) +
    p(d.getUTCHours()) + p(d.getUTCMinutes()) + p(d.getUTCSeconds()) + 'Z'
  );
}

function generalizedTime(d: Date): string {
  return String(d.getUTCFullYear()) + utcTime(d).slice(2);
}

export async function makeTestPki(options: TestPkiOptions = {}): Promise<TestPki> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'cardca-testpki-')));
  const keyType = options.keyType ?? 'ec-p256';
  const days = String(options.days ?? 365);
  const crlHours = options.crlHours ?? 24;
  await writeFile(join(dir, 'openssl.cnf'), OPENSSL_CNF);
  const cnf = join(dir, 'openssl.cnf');

  const genKey = (name: string): Promise<string> =>
    openssl(dir, ['genpkey', ...keyArgs(keyType), '-out', `${name}.key`]);
  await Promise.all(['root', 'sub', 'server', 'client', 'revoked'].map(genKey));

  await openssl(dir, [
    'req', '-x509', '-new', '-config', cnf, '-key', 'root.key', '-subj', '/O=cardca test/CN=Test Root CA',
    '-days', days, '-sha256', '-extensions', 'root_ext', '-set_serial', `0x${randomSerialHex()}`, '-out', 'root.pem',
  ]);

  const issue = async (name: string, subject: string, issuer: string, ext: string): Promise<string> => {
    const serial = randomSerialHex();
    await openssl(dir, ['req', '-new', '-config', cnf, '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`]);
    await openssl(dir, [
      'x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`,
      '-set_serial', `0x${serial}`, '-days', days, '-sha256', '-extfile', cnf, '-extensions', ext,
      '-out', `${name}.pem`,
    ]);
    return serial;
  };
  await issue('sub', '/O=cardca test/CN=Test Servers CA', 'root', 'sub_ext');
  const [serverSerial, clientSerial, revokedSerial] = await Promise.all([
    issue('server', `/O=cardca test/CN=${SERVER_NAME}`, 'sub', 'server_ext'),
    issue('client', '/O=cardca test/CN=client1', 'sub', 'client_ext'),
    issue('revoked', '/O=cardca test/CN=revoked1', 'sub', 'revoked_ext'),
  ]);

  // CRLs via `openssl ca -gencrl`. Each CA gets its own index/crlnumber (cwd-relative names in
  // the config), so build them in per-CA sub-directories.
  const now = new Date();
  const revokedAt = new Date(now.getTime() - 3600_000);
  const farFuture = new Date(now.getTime() + 3650 * 86400_000);
  const gencrl = async (
    ca: string, out: string, revokedSerials: string[], times?: { last: Date; next: Date },
  ): Promise<void> => {
    const wd = join(dir, `ca-${ca}-${out.replace(/\W/g, '_')}`);
    await mkdir(wd, { recursive: true });
    const index = revokedSerials
      .map((s) => `R\t${utcTime(farFuture)}\t${utcTime(revokedAt)},keyCompromise\t${s}\tunknown\t/CN=x\n`)
      .join('');
    await writeFile(join(wd, 'index.txt'), index);
    await writeFile(join(wd, 'crlnumber'), '1000\n');
    const timeArgs = times
      ? ['-crl_lastupdate', generalizedTime(times.last), '-crl_nextupdate', generalizedTime(times.next)]
      : ['-crlhours', String(crlHours)];
    await openssl(wd, [
      'ca', '-gencrl', '-config', cnf, '-keyfile', join(dir, `${ca}.key`), '-cert', join(dir, `${ca}.pem`),
      ...timeArgs, '-out', join(dir, out),
    ]);
  };
  await Promise.all([
    gencrl('root', 'root.crl.pem', []),
    gencrl('sub', 'sub.crl.pem', [revokedSerial]),
    gencrl('sub', 'sub-expired.crl.pem', [revokedSerial], {
      last: new Date(now.getTime() - 2 * 86400_000),
      next: new Date(now.getTime() - 86400_000),
    }),
  ]);
  await Promise.all([
    openssl(dir, ['crl', '-in', 'root.crl.pem', '-outform', 'DER', '-out', 'root.crl.der']),
    openssl(dir, ['crl', '-in', 'sub.crl.pem', '-outform', 'DER', '-out', 'sub.crl.der']),
  ]);
  const nextUpdateText = await openssl(dir, ['crl', '-in', 'sub.crl.pem', '-noout', '-nextupdate']);
  const crlNextUpdate = new Date(nextUpdateText.replace(/^.*nextUpdate=/s, '').trim());

  const read = (f: string): Promise<string> => readFile(join(dir, f), 'utf8');
  const [subPem, rootPem, subCrl, rootCrl, subExpired] = await Promise.all(
    ['sub.pem', 'root.pem', 'sub.crl.pem', 'root.crl.pem', 'sub-expired.crl.pem'].map(read),
  );
  await writeFile(join(dir, 'ca-bundle.pem'), subPem! + rootPem!);
  await writeFile(join(dir, 'crl-bundle.pem'), subCrl! + rootCrl!);
  await writeFile(join(dir, 'crl-bundle-expired.pem'), subExpired! + rootCrl!);

  const p = (f: string): string => join(dir, f);
  return {
    dir,
    keyType,
    root: { cert: p('root.pem'), key: p('root.key'), crl: p('root.crl.pem'), crlDer: p('root.crl.der') },
    sub: {
      cert: p('sub.pem'), key: p('sub.key'), crl: p('sub.crl.pem'), crlDer: p('sub.crl.der'),
      expiredCrl: p('sub-expired.crl.pem'),
    },
    server: { cert: p('server.pem'), key: p('server.key'), serialHex: serverSerial },
    client: { cert: p('client.pem'), key: p('client.key'), serialHex: clientSerial },
    revoked: { cert: p('revoked.pem'), key: p('revoked.key'), serialHex: revokedSerial },
    caBundle: p('ca-bundle.pem'),
    crlBundle: p('crl-bundle.pem'),
    crlBundleExpired: p('crl-bundle-expired.pem'),
    crlNextUpdate,
    serverName: SERVER_NAME,
  };
}

export interface TestKeyAndCsr {
  /** PEM private key file (test-only end-entity key; the CA never sees it). */
  key: string;
  /** PEM CSR file. */
  csr: string;
  /** DER CSR bytes, ready for cardca's issuance path. */
  csrDer: Uint8Array;
}

/**
 * An end-entity key pair and a CSR made by openssl, for feeding cardca's own issuance in
 * validator tests (cardca signs the CSR; the handshake then uses this key with cardca's
 * certificate). `subject` is an openssl -subj string, e.g. "/CN=vpn.example.test"; `addext`
 * adds requested extensions such as subjectAltName.
 */
export async function makeKeyAndCsr(
  dir: string,
  name: string,
  keyType: TestKeyType,
  subject: string,
  options: { addext?: readonly string[] } = {},
): Promise<TestKeyAndCsr> {
  const cnf = join(dir, `${name}-req.cnf`);
  await writeFile(cnf, '[ req ]\ndistinguished_name = dn\n[ dn ]\n');
  await openssl(dir, ['genpkey', ...keyArgs(keyType), '-out', `${name}.key`]);
  // `addext`: extensions requested in the CSR, openssl -addext syntax (e.g. "subjectAltName=DNS:x").
  const ext = (options.addext ?? []).flatMap((e) => ['-addext', e]);
  await openssl(dir, ['req', '-new', '-config', cnf, '-key', `${name}.key`, '-subj', subject, ...ext, '-out', `${name}.csr`]);
  await openssl(dir, ['req', '-in', `${name}.csr`, '-outform', 'DER', '-out', `${name}.csr.der`]);
  return {
    key: join(dir, `${name}.key`),
    csr: join(dir, `${name}.csr`),
    csrDer: new Uint8Array(await readFile(join(dir, `${name}.csr.der`))),
  };
}
