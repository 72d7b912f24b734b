/**
 * Legacy CAs built the way the guides do it, for the `ca adopt` tests (issue #15 "Must show"):
 * the CA key generated on an (emulated) SmartCard-HSM by `pkcs11-tool --keypairgen`, the CA
 * certificate by `openssl req -x509 -engine pkcs11 -keyform engine`, certificates issued and
 * revoked by `openssl ca -engine pkcs11` (or by easy-rsa 3 with an `EASYRSA_OPENSSL` wrapper
 * that adds the engine options), CRLs by `-gencrl`. Subscriber keys are software keys: they
 * are not the CA's.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, expectOk, runCommand, type Run } from './run-command.js';
import type { EmulatorProcess } from './emulator-process.js';
import { TEST_PIN, TEST_SO_PIN } from './two-card-home.js';

export const PKCS11_MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
/** The libp11 URI of the legacy CA key (the PIN comes from -passin or the URI in tests only). */
export const KEY_LABEL = 'legacy-ca';
export const KEY_ID = '4C01';

export const run = (cmd: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> =>
  runCommand(cmd, args, { timeoutMs: 180_000, env: { PKCS11_MODULE_PATH: PKCS11_MODULE, ...env } });
export const ca = (...args: string[]): Promise<Run> => run(process.execPath, [BIN, ...args]);

export interface PinFiles {
  readonly pin: string;
  readonly soPin: string;
}

export function writePinFiles(dir: string): PinFiles {
  const pin = join(dir, 'user.pin');
  const soPin = join(dir, 'so.pin');
  writeFileSync(pin, `${TEST_PIN}\n`, { mode: 0o600 });
  writeFileSync(soPin, `${TEST_SO_PIN}\n`, { mode: 0o600 });
  return { pin, soPin };
}

/** `ca card init`, then the CA key by OpenSC: `pkcs11-tool --keypairgen --key-type EC:prime256v1`. */
export async function cardWithOpenscKey(emu: EmulatorProcess, pins: PinFiles, keyType = 'EC:prime256v1'): Promise<void> {
  expectOk(await ca('card', 'init', '--reader', emu.readerName, '--label', 'Legacy CA', '--so-pin-file', pins.soPin, '--pin-file', pins.pin), 'card init');
  expectOk(
    await run('pkcs11-tool', ['--module', PKCS11_MODULE, '--slot-description', emu.readerName, '--login', '--pin', TEST_PIN, '--keypairgen', '--key-type', keyType, '--label', KEY_LABEL, '--id', KEY_ID.toLowerCase()]),
    'pkcs11-tool --keypairgen',
  );
}

export const keyUri = (): string => `pkcs11:object=${KEY_LABEL};type=private;pin-value=${TEST_PIN}`;
const ENGINE = ['-engine', 'pkcs11', '-keyform', 'engine'];

/** The openssl.cnf of the legacy CA (what `openssl ca` guides write). */
export function legacyOpensslCnf(dir: string): string {
  return `# openssl ca configuration of the legacy CA
[ ca ]
default_ca = CA_default

[ CA_default ]
dir              = ${dir}
database         = $dir/index.txt
new_certs_dir    = $dir/newcerts
certificate      = $dir/cacert.pem
serial           = $dir/serial
crlnumber        = $dir/crlnumber
crl              = $dir/crl.pem
default_md       = sha256
default_days     = 397
default_crl_days = 30
policy           = policy_any
unique_subject   = no
copy_extensions  = copy
x509_extensions  = usr_cert
crl_extensions   = crl_ext

[ policy_any ]
organizationName = optional
commonName       = supplied

[ usr_cert ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
crlDistributionPoints  = URI:http://pki.legacy.test/legacy.crl
authorityInfoAccess    = caIssuers;URI:http://pki.legacy.test/legacy.crt

[ crl_ext ]
authorityKeyIdentifier = keyid
`;
}

export interface LegacyOpensslCa {
  readonly dir: string;
  readonly config: string;
  readonly caCert: string;
  /** The three issued certificates (newcerts/01.pem …), the second one revoked. */
  readonly certs: readonly string[];
  readonly serials: readonly string[];
}

/** An `openssl ca` CA under `dir` whose key is the card key: three certificates, one revoked (keyCompromise), a CRL. */
export async function buildOpensslCa(dir: string): Promise<LegacyOpensslCa> {
  mkdirSync(join(dir, 'newcerts'), { recursive: true });
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '01\n');
  writeFileSync(join(dir, 'crlnumber'), '01\n');
  const config = join(dir, 'openssl.cnf');
  writeFileSync(config, legacyOpensslCnf(dir));
  const caCert = join(dir, 'cacert.pem');
  expectOk(
    await run('openssl', ['req', '-x509', ...ENGINE, '-key', keyUri(), '-subj', '/O=Legacy Example/CN=Legacy Example CA', '-days', '3650', '-sha256', '-out', caCert,
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']),
    'openssl req -x509 -engine pkcs11',
  );
  const certs: string[] = [];
  for (const [i, host] of ['www', 'mail', 'vpn'].entries()) {
    const key = join(dir, `${host}.key`);
    const csr = join(dir, `${host}.csr`);
    expectOk(await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj', `/O=Legacy Example/CN=${host}.legacy.test`, '-addext', `subjectAltName=DNS:${host}.legacy.test`, '-out', csr]), 'leaf CSR');
    expectOk(await run('openssl', ['ca', '-batch', '-config', config, ...ENGINE, '-keyfile', keyUri(), '-in', csr, '-out', join(dir, `${host}.pem`)]), `openssl ca -engine pkcs11 (${host})`);
    certs.push(join(dir, 'newcerts', `0${i + 1}.pem`));
  }
  expectOk(await run('openssl', ['ca', '-config', config, ...ENGINE, '-keyfile', keyUri(), '-revoke', certs[1]!, '-crl_reason', 'keyCompromise']), 'openssl ca -revoke');
  expectOk(await run('openssl', ['ca', '-config', config, ...ENGINE, '-keyfile', keyUri(), '-gencrl', '-out', join(dir, 'crl.pem')]), 'openssl ca -gencrl');
  return { dir, config, caCert, certs, serials: ['01', '02', '03'] };
}

/**
 * An easy-rsa 3 pki/ whose CA key is the card key. easy-rsa has no engine option, so the CA is
 * set up as `easyrsa build-ca` would lay it out (index.txt, index.txt.attr, serial, issued/,
 * certs_by_serial/, revoked/…), with the CA certificate made on the card by `openssl req -x509
 * -engine pkcs11`, pki/private/ca.key holding only the PKCS#11 URI, and EASYRSA_OPENSSL a
 * wrapper that adds `-engine pkcs11 -keyform engine -keyfile URI` to every `openssl ca`: the
 * requests, signing, revocation and CRL are easy-rsa's own (gen-req, sign-req, revoke, gen-crl).
 */
export async function buildEasyRsaPki(dir: string): Promise<{ pki: string; caCert: string; names: readonly string[] }> {
  const pki = join(dir, 'pki');
  const wrapper = join(dir, 'openssl-pkcs11');
  writeFileSync(wrapper, `#!/bin/sh\nif [ "$1" = ca ]; then shift; exec openssl ca -engine pkcs11 -keyform engine -keyfile '${keyUri()}' "$@"; fi\nexec openssl "$@"\n`);
  chmodSync(wrapper, 0o755);
  const env = { EASYRSA_BATCH: '1', EASYRSA_PKI: pki, EASYRSA_OPENSSL: wrapper, EASYRSA: '/usr/share/easy-rsa' };
  const easyrsa = (...a: string[]): Promise<Run> => run('/usr/share/easy-rsa/easyrsa', a, env);
  expectOk(await easyrsa('init-pki'), 'easyrsa init-pki');
  for (const d of ['issued', 'certs_by_serial', 'revoked/certs_by_serial', 'revoked/private_by_serial', 'revoked/reqs_by_serial']) mkdirSync(join(pki, d), { recursive: true });
  writeFileSync(join(pki, 'index.txt'), '');
  writeFileSync(join(pki, 'index.txt.attr'), 'unique_subject = no\n');
  writeFileSync(join(pki, 'serial'), '01\n');
  writeFileSync(join(pki, 'private', 'ca.key'), `${keyUri().replace(/;pin-value=.*/, '')}\n`);
  const caCert = join(pki, 'ca.crt');
  expectOk(
    await run('openssl', ['req', '-x509', ...ENGINE, '-key', keyUri(), '-subj', '/CN=Legacy Easy-RSA CA', '-days', '3650', '-sha256', '-out', caCert,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']),
    'openssl req -x509 -engine pkcs11 (easy-rsa CA)',
  );
  const names = ['alice', 'bob', 'carol'];
  for (const n of names) {
    expectOk(await easyrsa('--req-cn=' + n, 'gen-req', n, 'nopass'), `easyrsa gen-req ${n}`);
    expectOk(await easyrsa('sign-req', 'client', n), `easyrsa sign-req client ${n}`);
  }
  expectOk(await easyrsa('revoke', 'bob', 'superseded'), 'easyrsa revoke bob');
  expectOk(await easyrsa('gen-crl'), 'easyrsa gen-crl');
  return { pki, caCert, names };
}
