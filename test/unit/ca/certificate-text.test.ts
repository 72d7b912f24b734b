/**
 * Issue 9 item 5: `ca show --text` renders the certificate (parsed by @peculiar/x509) in the
 * shape of `openssl x509 -noout -text`. Judged line by line against openssl itself on a leaf, a
 * sub-CA with name constraints, an RSA-issued e-mail certificate and a root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { certificateText } from '../../../src/ca/text/certificate-text.js';
import { loadProfiles } from '../../../src/ca/index.js';
import { TestOnlySoftwareSigner } from '../../helpers/test-only-software-signer.js';
import { issue, makeCa, openssl, PROFILES_DIR, tempDir, writePem } from './ca-test-kit.js';

const set = loadProfiles(PROFILES_DIR);
const now = new Date();
const dir = tempDir('cardca-text-');

test('certificateText equals openssl x509 -noout -text for leaf, sub-CA, RSA-signed and root certificates', async () => {
  const root = await makeCa('root', set.caProfile('root'), undefined, now);
  const servers = await makeCa('servers', set.caProfile('servers'), root, now);
  const users = await makeCa('users', set.caProfile('users'), root, now);
  const leaf = (await issue({ issuer: servers.info, profile: set.leafProfile('tls-server'), spki: TestOnlySoftwareSigner.generate('p256').publicKey(), subject: [{ type: 'CN', value: 'web.example.test' }], csrSans: [{ type: 'dns', value: 'web.example.test' }, { type: 'ip', value: '10.1.2.3' }, { type: 'ip', value: 'fd00::1' }], now }, servers.signer)).cert;
  const mail = (await issue({ issuer: users.info, profile: set.leafProfile('email'), spki: TestOnlySoftwareSigner.generate('rsa2048').publicKey(), subject: [{ type: 'CN', value: 'Jörg Müller' }], csrSans: [{ type: 'email', value: 'joerg@example.test' }], now }, users.signer)).cert;
  for (const [name, der] of [['leaf', leaf], ['servers sub-CA', servers.cert], ['users sub-CA (RSA key)', users.cert], ['e-mail leaf (RSA, signed by RSA)', mail], ['root', root.cert]] as const) {
    const file = writePem(dir, `${name.replace(/\W/g, '_')}.pem`, der, 'CERTIFICATE');
    const o = await openssl(['x509', '-in', file, '-noout', '-text', '-nameopt', 'utf8,sep_comma_plus_space,space_eq']);
    assert.ok(o.ok, o.output);
    const ours = certificateText(der).split('\n');
    const theirs = o.output.split('\n');
    const diff = theirs.map((l, i) => (l.trimEnd() === (ours[i] ?? '').trimEnd() ? undefined : `line ${i + 1}:\n  openssl: ${JSON.stringify(l)}\n  cardca:  ${JSON.stringify(ours[i])}`)).filter(Boolean);
    assert.deepEqual(diff, [], `${name}:\n${diff.slice(0, 8).join('\n')}`);
    assert.equal(ours.length, theirs.length, `${name}: line count`);
  }
});
