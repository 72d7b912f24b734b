/**
 * planAdoption (src/ca/adopt/adopt-plan.ts) over a software `openssl ca` directory: what is
 * imported, what counts as a discrepancy, what is refused outright, and that the derived
 * profiles load as a profile set. The card half is in test/integration/adopt-*.test.ts.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planAdoption, type AdoptionPlan } from '../../../../src/ca/adopt/adopt-plan.js';
import { opensslSources, readSource } from '../../../../src/ca/adopt/adopt-sources.js';
import { deriveProfiles } from '../../../../src/ca/adopt/derive-profile.js';
import { loadProfiles } from '../../../../src/ca/profile/load-profiles.js';
import { CardcaError } from '../../../../src/common/cardca-error.js';
import { legacyOpensslCnf } from '../../../helpers/legacy-ca.js';
import { PROFILES_DIR, tempDir } from '../ca-test-kit.js';

let base: string;
const ossl = (...a: string[]): string => execFileSync('openssl', a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** A software CA laid out like the card one of test/helpers/legacy-ca.ts: 01, 02 (revoked keyTime), 03; CRL #1. */
function buildCa(dir: string): void {
  mkdirSync(join(dir, 'newcerts'), { recursive: true });
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '01\n');
  writeFileSync(join(dir, 'crlnumber'), '01\n');
  writeFileSync(join(dir, 'openssl.cnf'), legacyOpensslCnf(dir));
  ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'ca.key'), '-subj', '/O=Legacy Example/CN=Legacy Example CA', '-days', '3650', '-out', join(dir, 'cacert.pem'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  for (const h of ['www', 'mail', 'vpn']) {
    ossl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, `${h}.key`), '-subj', `/O=Legacy Example/CN=${h}.legacy.test`, '-addext', `subjectAltName=DNS:${h}.legacy.test,IP:10.0.0.1`, '-out', join(dir, `${h}.csr`));
    ossl('ca', '-batch', '-config', join(dir, 'openssl.cnf'), '-keyfile', join(dir, 'ca.key'), '-in', join(dir, `${h}.csr`), '-out', join(dir, `${h}.pem`));
  }
  ossl('ca', '-config', join(dir, 'openssl.cnf'), '-keyfile', join(dir, 'ca.key'), '-revoke', join(dir, 'newcerts', '02.pem'), '-crl_compromise', '20260101000000Z');
  ossl('ca', '-config', join(dir, 'openssl.cnf'), '-keyfile', join(dir, 'ca.key'), '-gencrl', '-out', join(dir, 'crl.pem'));
}

function copy(name: string): string {
  const d = join(base, name);
  cpSync(join(base, 'ca'), d, { recursive: true });
  writeFileSync(join(d, 'openssl.cnf'), legacyOpensslCnf(d));
  return d;
}

const plan = (d: string, accept = false, cert = join(d, 'cacert.pem')): Promise<AdoptionPlan> =>
  planAdoption({ caCertFile: readSource(cert, 'cert'), sources: opensslSources(d, join(d, 'openssl.cnf')), now: new Date(), acceptDiscrepancies: accept });

const refused = async (p: Promise<unknown>, code: string, re: RegExp): Promise<void> => {
  await assert.rejects(p, (e: unknown) => e instanceof CardcaError && e.code === code && re.test(e.message), `${code} ${re}`);
};

before(() => {
  base = tempDir('cardca-adopt-plan-');
  buildCa(join(base, 'ca'));
});

test('a consistent openssl ca directory: every certificate verified and matched, keyTime kept as invalidity date, CRL number continued', async () => {
  const p = await plan(join(base, 'ca'));
  assert.deepEqual(p.discrepancies, []);
  assert.deepEqual(p.certificates.map((c) => [c.serialHex, c.revocation?.reason ?? null]), [['01', null], ['02', 'keyCompromise'], ['03', null]]);
  assert.equal(p.certificates[1]!.revocation!.invalidityDate!.toISOString(), '2026-01-01T00:00:00.000Z');
  assert.deepEqual(p.certificates[0]!.sans, ['dns:www.legacy.test', 'ip:10.0.0.1']);
  assert.equal(p.crls.length, 1);
  assert.equal(p.crls[0]!.crlNumber, 1n);
  assert.equal(p.lastCrlNumber, 1n, 'crlnumber holds 02 (the next): 01 was the last used');
  assert.equal(p.nextSerialHex, '04');
  assert.equal(p.caSubject, 'O=Legacy Example, CN=Legacy Example CA');
});

test('derived profiles load as a profile set next to the shipped ones', async () => {
  const p = await plan(join(base, 'ca'));
  const d = deriveProfiles({ profileName: 'legacy', caName: 'legacy', caCert: p.caCert, caSpki: p.caSpki, certificates: p.certificates, crls: p.crls, source: 'test' });
  const dir = join(base, 'profiles');
  cpSync(PROFILES_DIR, dir, { recursive: true });
  for (const f of d.files) writeFileSync(join(dir, f.name), f.text);
  const set = loadProfiles(dir);
  const ca = set.caProfile('legacy');
  assert.equal(ca.key, 'p256');
  assert.equal(ca.signatureAlgorithm, 'ecdsa-sha256');
  assert.deepEqual(ca.crlDistributionPoints, ['http://pki.legacy.test/legacy.crl']);
  assert.deepEqual(ca.caIssuers, ['http://pki.legacy.test/legacy.crt']);
  assert.equal(ca.crl.validity.iso, 'P30D');
  const leaf = set.leafProfile('legacy-leaf');
  assert.deepEqual(leaf.keyUsage.values, ['digitalSignature']);
  assert.deepEqual(leaf.extendedKeyUsage?.values, ['1.3.6.1.5.5.7.3.1']);
  assert.equal(leaf.validity.iso, 'P397D');
  assert.deepEqual(leaf.allowedKeys, ['p256']);
  assert.deepEqual(leaf.san.dns, ['.legacy.test', 'legacy.test']);
  assert.deepEqual(leaf.san.ip, ['10.0.0.1/32']);
  assert.deepEqual(leaf.subject.map((r) => [r.type, r.presence, r.value ?? null]), [['O', 'fixed', 'Legacy Example'], ['CN', 'required', null]]);
});

test('index.txt against the files: missing, extra, mismatched status — refused, or imported and listed with --accept-discrepancies', async () => {
  const d = copy('discrepant');
  rmSync(join(d, 'newcerts', '03.pem'));
  const idx = readFileSync(join(d, 'index.txt'), 'utf8').split('\n');
  idx[1] = idx[1]!.replace(/^R\t([^\t]+)\t[^\t]+\t/, 'V\t$1\t\t'); // 02 is on the CRL but V here
  writeFileSync(join(d, 'index.txt'), idx.join('\n'));
  // A certificate file the index does not know: issued by the CA, then its line deleted.
  const lines = readFileSync(join(d, 'index.txt'), 'utf8').split('\n').filter((l) => !l.includes('\t01\t'));
  writeFileSync(join(d, 'index.txt'), lines.join('\n'));
  await refused(plan(d), 'ADOPT_DISCREPANCIES', /3 discrepancies[\s\S]*status-mismatch: index.txt says V but [\s\S]*missing-file: no certificate file for serial 03[\s\S]*not-in-index: .*01\.pem/);
  const p = await plan(d, true);
  assert.deepEqual(p.discrepancies.map((x) => x.kind).sort(), ['missing-file', 'not-in-index', 'status-mismatch']);
  assert.deepEqual(p.certificates.map((c) => [c.serialHex, c.revocation?.reason ?? null]).sort(), [['01', null], ['02', 'keyCompromise']], '02 stays revoked: the CRL relying parties hold says so');
  assert.deepEqual(p.indexOnly.map((c) => [c.serialHex, c.revocation ? 'revoked' : 'valid']), [['03', 'valid']]);
});

test('refused outright: duplicate serials, a foreign or altered certificate, a foreign CRL, a non-CA or non-root --cert', async () => {
  const dup = copy('dup');
  const l0 = readFileSync(join(dup, 'index.txt'), 'utf8').split('\n')[0]!;
  appendFileSync(join(dup, 'index.txt'), `${l0}\n`);
  await refused(plan(dup), 'ADOPT_INDEX_MALFORMED', /index\.txt:4: serial 01 is already on line 1/);

  const foreign = copy('foreign');
  ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(foreign, 'x.key'), '-subj', '/CN=Someone Else', '-days', '30', '-out', join(foreign, 'newcerts', '99.pem'));
  await refused(plan(foreign), 'ADOPT_CERT_FOREIGN', /99\.pem was issued by CN=Someone Else/);

  const altered = copy('altered');
  const pem = readFileSync(join(altered, 'newcerts', '01.pem'), 'utf8');
  const b64 = /-----BEGIN CERTIFICATE-----\n([\s\S]+?)-----END/.exec(pem)![1]!.replace(/\n/g, '');
  const der = Buffer.from(b64, 'base64');
  der[der.length - 5] ^= 0x01; // a bit of the signature value
  writeFileSync(join(altered, 'newcerts', '01.pem'), `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`);
  await refused(plan(altered), 'ADOPT_CERT_SIGNATURE', /01\.pem: its signature does not verify/);

  const otherCrl = copy('other-crl');
  ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(otherCrl, 'other.key'), '-subj', '/O=Legacy Example/CN=Legacy Example CA', '-days', '30', '-out', join(otherCrl, 'other.pem'));
  const ocnf = legacyOpensslCnf(join(otherCrl, 'o')).replace('$dir/cacert.pem', join(otherCrl, 'other.pem'));
  mkdirSync(join(otherCrl, 'o'));
  writeFileSync(join(otherCrl, 'o', 'index.txt'), '');
  writeFileSync(join(otherCrl, 'o', 'crlnumber'), '05\n');
  writeFileSync(join(otherCrl, 'o.cnf'), ocnf);
  ossl('ca', '-config', join(otherCrl, 'o.cnf'), '-keyfile', join(otherCrl, 'other.key'), '-gencrl', '-out', join(otherCrl, 'crl.pem'));
  await refused(plan(otherCrl), 'ADOPT_CRL_SIGNATURE', /crl\.pem is not a CRL signed by/);

  const leafAsCa = copy('leaf-as-ca');
  await refused(plan(leafAsCa, false, join(leafAsCa, 'newcerts', '01.pem')), 'ADOPT_CERT_NOT_CA', /01\.pem is not a CA certificate/);

  const hold = copy('hold');
  const h = readFileSync(join(hold, 'index.txt'), 'utf8').replace(/\t(\d{12}Z),keyTime,\d+Z\t/, '\t$1,holdInstruction,1.2.840.10040.2.2\t');
  writeFileSync(join(hold, 'index.txt'), h);
  await refused(plan(hold), 'ADOPT_REVOCATION_HOLD', /index\.txt:2: serial 02 is on hold/);
});

test('CRL numbering: crlnumber.old at or above crlnumber, or a CRL file at or above crlnumber, is a file that went backwards', async () => {
  const old = copy('crl-old');
  writeFileSync(join(old, 'crlnumber.old'), '03\n');
  await refused(plan(old), 'ADOPT_CRL_NUMBER_BACKWARDS', /crl-old\/crlnumber: the CRL number file went backwards: it holds 2 but .*crlnumber\.old holds 3/);
  const behind = copy('crl-behind');
  rmSync(join(behind, 'crlnumber.old'), { force: true });
  writeFileSync(join(behind, 'crlnumber'), '01\n');
  await refused(plan(behind), 'ADOPT_CRL_NUMBER_BACKWARDS', /crl-behind\/crlnumber: .*crl\.pem already has CRL number 1/);
  const ahead = copy('crl-ahead');
  writeFileSync(join(ahead, 'crlnumber'), '2A\n');
  assert.equal((await plan(ahead)).lastCrlNumber, 41n, 'a crlnumber above every CRL file: the number before it may have been used');
});
