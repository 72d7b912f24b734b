/**
 * Issue 9 item 5: the in-process judge (pkijs path validation with CRLs) agrees with
 * `openssl verify -crl_check_all` on a root → sub-CA → leaf chain made by the engine: valid,
 * revoked, CRL lapsed, a CA level without CRL, a foreign certificate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePath } from '../../../src/ca/judge/pkijs-path-validation.js';
import { loadProfiles } from '../../../src/ca/index.js';
import { TestOnlySoftwareSigner } from '../../helpers/test-only-software-signer.js';
import { issue, makeCa, makeCrl, openssl, PROFILES_DIR, tempDir, testSerial, writePem } from './ca-test-kit.js';

const DAY = 86_400_000;
const set = loadProfiles(PROFILES_DIR);
const now = new Date(Math.floor(Date.now() / 1000) * 1000);
const dir = tempDir('cardca-judge-');

test('pkijs judge and openssl -crl_check_all agree: valid, revoked, lapsed CRL, missing CRL, foreign chain', async () => {
  const root = await makeCa('root', set.caProfile('root'), undefined, now);
  const servers = await makeCa('servers', set.caProfile('servers'), root, now);
  const leafFor = async (name: string) => {
    const key = TestOnlySoftwareSigner.generate('p256');
    const serial = testSerial();
    const { cert } = await issue({ issuer: servers.info, profile: set.leafProfile('tls-server'), spki: key.publicKey(), subject: [{ type: 'CN', value: `${name}.example.test` }], csrSans: [{ type: 'dns', value: `${name}.example.test` }], serial, now }, servers.signer);
    return { cert, serial };
  };
  const good = await leafFor('good');
  const bad = await leafFor('bad');
  const rootCrl = (await makeCrl(root, 1n, [], now, 30 * DAY)).crl;
  const subCrl = (await makeCrl(servers, 1n, [{ serial: bad.serial, revocationDate: now, reason: 'keyCompromise' }], now, 7 * DAY)).crl;
  const otherRoot = await makeCa('root', set.caProfile('root'), undefined, now);
  const otherSub = await makeCa('servers', set.caProfile('servers'), otherRoot, now);

  const files = {
    root: writePem(dir, 'root.pem', root.cert, 'CERTIFICATE'),
    sub: writePem(dir, 'sub.pem', servers.cert, 'CERTIFICATE'),
    rootCrl: writePem(dir, 'root.crl', rootCrl, 'X509 CRL'),
    subCrl: writePem(dir, 'sub.crl', subCrl, 'X509 CRL'),
  };
  const cases: { name: string; cert: Uint8Array; at: Date; crls: Uint8Array[]; expect: boolean }[] = [
    { name: 'valid leaf', cert: good.cert, at: now, crls: [rootCrl, subCrl], expect: true },
    { name: 'revoked leaf', cert: bad.cert, at: now, crls: [rootCrl, subCrl], expect: false },
    { name: 'sub-CA certificate', cert: servers.cert, at: now, crls: [rootCrl, subCrl], expect: true },
    { name: 'sub-CA CRL lapsed', cert: good.cert, at: new Date(now.getTime() + 8 * DAY), crls: [rootCrl, subCrl], expect: false },
    { name: 'root-level CRL missing', cert: good.cert, at: now, crls: [subCrl], expect: false },
    { name: 'before the CRLs were issued', cert: good.cert, at: new Date(now.getTime() - 3600_000), crls: [rootCrl, subCrl], expect: false },
    { name: 'foreign sub-CA', cert: otherSub.cert, at: now, crls: [rootCrl, subCrl], expect: false },
  ];
  for (const c of cases) {
    const judged = await validatePath({ target: c.cert, trusted: [root.cert], intermediates: [servers.cert], crls: c.crls, at: c.at });
    const leafFile = writePem(dir, `${c.name.replace(/\W/g, '_')}.pem`, c.cert, 'CERTIFICATE');
    const crlFiles = c.crls.map((d) => (d === rootCrl ? files.rootCrl : files.subCrl));
    const o = await openssl(['verify', '-crl_check_all', '-CAfile', files.root, '-untrusted', files.sub, ...crlFiles.flatMap((f) => ['-CRLfile', f]), '-attime', String(Math.floor(c.at.getTime() / 1000)), leafFile]);
    assert.equal(judged.ok, c.expect, `${c.name}: pkijs ${judged.ok} (${judged.message})`);
    assert.equal(o.ok, c.expect, `${c.name}: openssl ${o.ok}\n${o.output}`);
  }
});
