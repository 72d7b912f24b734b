/**
 * A sub-CA under someone else's root (src/ca/external-subca.ts): the request is signed by the
 * key on an in-process emulated card; an openssl-made external root signs it; the import checks
 * key, CA-ness and the chain before the card or database change; then the sub-CA issues, and
 * `openssl verify` accepts its leaf against the external root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScHsmCard } from '../../../src/card/emulator/sc-hsm-card.js';
import { InProcessTransport } from '../../../src/card/transport/in-process-transport.js';
import { DriverCardSession } from '../../../src/card/card-session-impl.js';
import { openDatabase } from '../../../src/db/database.js';
import { SqliteStore } from '../../../src/db/sqlite-store.js';
import { importExternalSubCaCertificate, requestExternalSubCa } from '../../../src/ca/external-subca.js';
import { issueCertificate } from '../../../src/ca/issuance.js';
import { issuerInfoFromCertificate } from '../../../src/ca/issuance-issuer.js';
import { pemDecode, pemEncode } from '../../../src/ca/chain.js';
import { loadProfiles, parseCsr } from '../../../src/ca/index.js';
import type { Clock } from '../../../src/ca/clock.js';
import { CardcaError } from '../../../src/common/cardca-error.js';

const PROFILES = new URL('../../../../profiles', import.meta.url).pathname;
const code = (c: string) => (e: unknown) => e instanceof CardcaError && e.code === c;
const clock: Clock = { now: () => new Date() };
const ossl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();

test('external root: CSR from the card key, openssl root signs it, import checks key and chain, then the sub-CA issues', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardca-ext-'));
  const store = new SqliteStore(openDatabase(join(dir, 'ca.db'), { create: true }));
  const profiles = loadProfiles(PROFILES);
  const card = await DriverCardSession.open(new InProcessTransport(new ScHsmCard()));
  await card.initialize({ soPin: Buffer.from('3537363231383830', 'hex'), userPin: Buffer.from('648219'), retries: 3, label: 'sub' });
  await card.verifyPin(Buffer.from('648219'));
  const deps = { store, clock, profiles };

  const req = await requestExternalSubCa(deps, { caName: 'clients', card });
  const parsed = parseCsr(req.csr);
  assert.match(req.subject, /CN=Example VPN Clients CA/);
  assert.deepEqual(parsed.spki, store.getCa('clients')!.publicKey);
  writeFileSync(join(dir, 'sub.csr'), pemEncode(req.csr, 'CERTIFICATE REQUEST'));
  ossl(dir, ['req', '-in', 'sub.csr', '-verify', '-noout']); // throws unless openssl accepts the card-signed request
  await assert.rejects(requestExternalSubCa(deps, { caName: 'clients', card }), code('CA_EXISTS'));

  // Someone else's root (openssl), and the certificate it issues for our request.
  ossl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ext.key', '-out', 'ext.crt', '-subj', '/O=Other Org/CN=Other Root', '-days', '3650',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  writeFileSync(join(dir, 'ext.cnf'), 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,digitalSignature,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  ossl(dir, ['x509', '-req', '-in', 'sub.csr', '-CA', 'ext.crt', '-CAkey', 'ext.key', '-CAcreateserial', '-days', '1000', '-extfile', 'ext.cnf', '-out', 'sub.crt']);
  const subCrt = pemDecode(readFileSync(join(dir, 'sub.crt'), 'utf8'), 'CERTIFICATE');
  const extCrt = pemDecode(readFileSync(join(dir, 'ext.crt'), 'utf8'), 'CERTIFICATE');

  // Refusals first: nothing changes.
  await assert.rejects(importExternalSubCaCertificate(deps, { caName: 'clients', certificate: extCrt, chain: [extCrt], card: async () => card }), code('CA_CERT_KEY_MISMATCH'));
  await assert.rejects(importExternalSubCaCertificate(deps, { caName: 'clients', certificate: subCrt, chain: [], card: async () => card }), code('CA_CHAIN_MISSING'));
  ossl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'fake.key', '-out', 'fake.crt', '-subj', '/O=Other Org/CN=Other Root', '-days', '3650',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const fake = pemDecode(readFileSync(join(dir, 'fake.crt'), 'utf8'), 'CERTIFICATE');
  await assert.rejects(importExternalSubCaCertificate(deps, { caName: 'clients', certificate: subCrt, chain: [fake], card: async () => card }), code('CA_SIGNATURE_INVALID'));
  assert.equal(store.getCa('clients')!.certificate, undefined);

  const r = await importExternalSubCaCertificate(deps, { caName: 'clients', certificate: subCrt, chain: [extCrt], card: async () => card });
  assert.equal(r.chain.length, 1);
  assert.deepEqual(store.getCa('clients')!.certificate, subCrt);
  assert.deepEqual((await card.listKeys()).find((k) => k.id === store.getCa('clients')!.keyId)!.certificate, subCrt);

  // The imported sub-CA issues; openssl verifies the leaf up to the external root.
  ossl(dir, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=laptop']);
  const leafCsr = parseCsr(readFileSync(join(dir, 'leaf.csr'), 'utf8'));
  const ca = store.getCa('clients')!;
  const issued = await issueCertificate(
    { store, clock, signer: await card.signer(ca.keyId), issuerName: 'clients', issuer: issuerInfoFromCertificate(ca.certificate!, profiles.caProfile('clients')) },
    { profile: profiles.leafProfile('vpn-client'), spki: leafCsr.spki, subject: leafCsr.subject, csrDer: leafCsr.der },
  );
  writeFileSync(join(dir, 'leaf.crt'), pemEncode(issued.der, 'CERTIFICATE'));
  assert.match(ossl(dir, ['verify', '-CAfile', 'ext.crt', '-untrusted', 'sub.crt', 'leaf.crt']), /leaf.crt: OK/);
});
