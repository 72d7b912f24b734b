import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { toHex } from '../../common/hex.js';
import { CaError } from '../errors.js';
import { sha256 } from '../issuance.js';
import { opensslCaSection } from './openssl-cnf.js';

/**
 * The files of an existing CA, found the way its tool lays them out. Nothing is interpreted
 * here beyond the layout; every byte read is kept with its SHA-256 for the audit record.
 *
 * - `openssl ca` (`--openssl-dir DIR`, the CA directory, and optionally `--config FILE`): without
 *   a config, the layout of OpenSSL's shipped openssl.cnf `[ CA_default ]` (dir/index.txt,
 *   dir/serial, dir/crlnumber, dir/newcerts/, dir/crl/, dir/crl.pem); with one, the
 *   `database`, `new_certs_dir`, `serial`, `crlnumber` and `crl` of its default CA section,
 *   with `$dir` taken as DIR.
 * - easy-rsa 3 (`--easyrsa-dir PKI`): pki/index.txt, pki/serial, pki/crlnumber, pki/crl.pem and
 *   the certificates in issued/, certs_by_serial/, revoked/ and renewed/ (easyrsa 3.0/3.1).
 */
export interface SourceFile {
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly sha256: string;
}

export interface AdoptSources {
  readonly kind: 'openssl' | 'easyrsa';
  readonly dir: string;
  readonly index: SourceFile;
  readonly serial?: SourceFile;
  readonly crlNumber?: SourceFile;
  readonly crlNumberOld?: SourceFile;
  readonly certificateFiles: readonly SourceFile[];
  readonly crlFiles: readonly SourceFile[];
  readonly config?: SourceFile;
  /** `default_crl_days` of the config, when given (the derived profile's CRL validity). */
  readonly defaultCrlDays?: number;
}

export function readSource(path: string, what: string): SourceFile {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new CaError('ADOPT_FILE_UNREADABLE', `cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { hint: 'Check the path of the old CA directory.', details: { file: path } });
  }
  return { path, bytes, sha256: toHex(sha256(bytes)) };
}

function optional(path: string, what: string): SourceFile | undefined {
  return existsSync(path) ? readSource(path, what) : undefined;
}

function filesUnder(dir: string, exts: readonly string[], recursive: boolean): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory() && recursive) out.push(...filesUnder(p, exts, true));
    else if (e.isFile() && exts.some((x) => e.name.endsWith(x))) out.push(p);
  }
  return out;
}

export function opensslSources(dir: string, configPath?: string): AdoptSources {
  const root = resolve(dir);
  if (!existsSync(root)) throw new CaError('ADOPT_FILE_UNREADABLE', `the CA directory ${root} does not exist`, { hint: 'Pass --openssl-dir with the directory that holds index.txt.' });
  let config: SourceFile | undefined;
  let files = { database: join(root, 'index.txt'), serial: join(root, 'serial'), crlnumber: join(root, 'crlnumber'), newCerts: join(root, 'newcerts'), crl: join(root, 'crl.pem') };
  let defaultCrlDays: number | undefined;
  if (configPath) {
    config = readSource(resolve(configPath), 'the openssl config');
    const sec = opensslCaSection(Buffer.from(config.bytes).toString('utf8'), config.path, root);
    const path = (k: string, fallback: string): string => {
      const v = sec.values.get(k);
      return v === undefined ? fallback : isAbsolute(v) ? v : resolve(root, v);
    };
    files = { database: path('database', files.database), serial: path('serial', files.serial), crlnumber: path('crlnumber', files.crlnumber), newCerts: path('new_certs_dir', files.newCerts), crl: path('crl', files.crl) };
    const days = sec.values.get('default_crl_days');
    if (days !== undefined && /^\d+$/.test(days)) defaultCrlDays = Number(days);
  }
  const crlPaths = new Set([...(existsSync(files.crl) ? [files.crl] : []), ...filesUnder(join(root, 'crl'), ['.pem', '.crl', '.der'], false)]);
  return {
    kind: 'openssl',
    dir: root,
    index: readSource(files.database, 'the CA database'),
    ...opt('serial', optional(files.serial, 'the serial file')),
    ...opt('crlNumber', optional(files.crlnumber, 'the CRL number file')),
    ...opt('crlNumberOld', optional(`${files.crlnumber}.old`, 'the previous CRL number file')),
    certificateFiles: filesUnder(files.newCerts, ['.pem', '.crt', '.der'], false).map((p) => readSource(p, 'the certificate')),
    crlFiles: [...crlPaths].map((p) => readSource(p, 'the CRL')),
    ...opt('config', config),
    ...(defaultCrlDays !== undefined ? { defaultCrlDays } : {}),
  };
}

export function easyRsaSources(pki: string): AdoptSources {
  const root = resolve(pki);
  if (!existsSync(join(root, 'index.txt'))) throw new CaError('ADOPT_FILE_UNREADABLE', `${root} is not an easy-rsa pki/ directory (no index.txt)`, { hint: 'Pass --easyrsa-dir with the pki/ directory (the one holding ca.crt and index.txt).' });
  const certPaths = [
    ...filesUnder(join(root, 'issued'), ['.crt'], false),
    ...filesUnder(join(root, 'certs_by_serial'), ['.pem', '.crt'], false),
    ...filesUnder(join(root, 'revoked'), ['.crt', '.pem'], true),
    ...filesUnder(join(root, 'renewed'), ['.crt', '.pem'], true),
  ];
  return {
    kind: 'easyrsa',
    dir: root,
    index: readSource(join(root, 'index.txt'), 'the CA database'),
    ...opt('serial', optional(join(root, 'serial'), 'the serial file')),
    ...opt('crlNumber', optional(join(root, 'crlnumber'), 'the CRL number file')),
    ...opt('crlNumberOld', optional(join(root, 'crlnumber.old'), 'the previous CRL number file')),
    certificateFiles: certPaths.map((p) => readSource(p, 'the certificate')),
    crlFiles: existsSync(join(root, 'crl.pem')) ? [readSource(join(root, 'crl.pem'), 'the CRL')] : [],
  };
}

function opt<K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: V };
}

/** Every source file, for the audit record's SHA-256 list. */
export function allSourceFiles(s: AdoptSources): SourceFile[] {
  return [s.index, ...(s.serial ? [s.serial] : []), ...(s.crlNumber ? [s.crlNumber] : []), ...(s.crlNumberOld ? [s.crlNumberOld] : []), ...(s.config ? [s.config] : []), ...s.certificateFiles, ...s.crlFiles];
}
