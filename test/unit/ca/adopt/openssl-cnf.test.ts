import { test } from 'node:test';
import assert from 'node:assert/strict';
import { opensslCaSection } from '../../../../src/ca/adopt/openssl-cnf.js';
import { CardcaError } from '../../../../src/common/cardca-error.js';

const CNF = `
HOME = /root   # the default section
[ ca ]
default_ca = CA_default    # the default CA section

[ CA_default ]
dir            = ./demoCA
database       = $dir/index.txt
new_certs_dir  = \${dir}/newcerts
serial         = $dir/serial
crlnumber      = $dir/crlnumber
crl            = $ENV_LESS::crlfile
private_key    = $HOME/ca.key
default_crl_days = 30

[ ENV_LESS ]
crlfile = /srv/crl/current.pem
`;

test('openssl.cnf: the default CA section, $dir replaced by --openssl-dir, ${x}, $section::x and default-section values expanded', () => {
  const s = opensslCaSection(CNF, '/etc/ssl/openssl.cnf', '/copied/ca');
  assert.equal(s.name, 'CA_default');
  assert.equal(s.values.get('database'), '/copied/ca/index.txt');
  assert.equal(s.values.get('new_certs_dir'), '/copied/ca/newcerts');
  assert.equal(s.values.get('crlnumber'), '/copied/ca/crlnumber');
  assert.equal(s.values.get('crl'), '/srv/crl/current.pem');
  assert.equal(s.values.get('private_key'), '/root/ca.key');
  assert.equal(s.values.get('default_crl_days'), '30');
});

test('openssl.cnf: a missing [ca], an unknown section, an undefined variable or a bad line are refused naming the file', () => {
  const refused = (text: string, re: RegExp) =>
    assert.throws(() => opensslCaSection(text, '/etc/ssl/openssl.cnf', '/ca'), (e: unknown) => e instanceof CardcaError && e.code === 'ADOPT_CONFIG_MALFORMED' && re.test(e.message) && e.message.startsWith('/etc/ssl/openssl.cnf'));
  refused('[ req ]\nprompt = no\n', /no \[ ca \] section/);
  refused('[ ca ]\ndefault_ca = Missing\n', /names section \[ Missing \]/);
  refused('[ ca ]\ndefault_ca = X\n[ X ]\ndatabase = $nowhere/index.txt\n', /\$nowhere which is not defined/);
  refused('[ ca ]\ndefault_ca = X\n[ X ]\nthis is not a setting\n', /:4: "this is not a setting"/);
});
