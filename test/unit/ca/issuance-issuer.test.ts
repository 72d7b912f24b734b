// src/ca/issuance-issuer.ts: what issuance needs of the issuing CA's certificate (issuer name,
// AKI, validity, key), read with the strict DER reader and judged against openssl's reading of
// the same certificates: an EC CA with a subjectKeyIdentifier, an RSA CA without one (RFC 5280
// §4.2.1.2 method 1 then), and a CA valid past 2049 (GeneralizedTime, §4.1.2.5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issuerInfoFromCertificate } from '../../../src/ca/issuance-issuer.js';
import type { CaProfile } from '../../../src/ca/profile/profile-types.js';
import { subjectKeyIdentifier } from '../../../src/ca/x509/key-identifier.js';
import { CaError } from '../../../src/ca/errors.js';

const profile = { name: 'test' } as unknown as CaProfile;
const openssl = (args: string[]): string => execFileSync('openssl', args, { encoding: 'utf8' });

interface Made { der: Uint8Array; pem: string; spkiDer: Uint8Array }
function makeCa(dir: string, tag: string, key: string[], extra: string[]): Made {
  const pem = join(dir, `${tag}.pem`);
  openssl(['req', '-x509', '-newkey', ...key, '-nodes', '-keyout', join(dir, `${tag}.key`), '-subj', `/C=DE/O=Example ${tag}/CN=${tag} CA`, ...extra, '-out', pem]);
  const der = new Uint8Array(execFileSync('openssl', ['x509', '-in', pem, '-outform', 'DER']));
  const spkiDer = new Uint8Array(execFileSync('sh', ['-c', `openssl x509 -in '${pem}' -noout -pubkey | openssl pkey -pubin -outform DER`]));
  return { der, pem, spkiDer };
}

function opensslView(pem: string): { notBefore: number; notAfter: number; ski?: string } {
  const dates = openssl(['x509', '-in', pem, '-noout', '-startdate', '-enddate']);
  const notBefore = Date.parse(/notBefore=(.*)/.exec(dates)![1]!);
  const notAfter = Date.parse(/notAfter=(.*)/.exec(dates)![1]!);
  const ext = openssl(['x509', '-in', pem, '-noout', '-ext', 'subjectKeyIdentifier']);
  const ski = /\n\s*([0-9A-F:]+)\s*$/.exec(ext)?.[1]?.replace(/:/g, '').toLowerCase();
  return { notBefore, notAfter, ...(ski ? { ski } : {}) };
}

test('issuer info: subject, SKI, validity and key of EC, RSA and post-2049 CA certificates, as openssl reads them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardca-issuer-info-'));
  try {
    const cases = [
      { tag: 'ec', made: makeCa(dir, 'ec', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], ['-days', '3650']) },
      { tag: 'rsa', made: makeCa(dir, 'rsa', ['rsa:2048'], ['-days', '30', '-addext', 'subjectKeyIdentifier=none']) },
      { tag: 'late', made: makeCa(dir, 'late', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], ['-days', String(365 * 40)]) },
    ];
    for (const { tag, made } of cases) {
      const info = issuerInfoFromCertificate(made.der, profile);
      const view = opensslView(made.pem);
      assert.equal(info.notBefore?.getTime(), view.notBefore, `${tag} notBefore`);
      assert.equal(info.notAfter.getTime(), view.notAfter, `${tag} notAfter`);
      assert.deepEqual(Buffer.from(info.spki), Buffer.from(made.spkiDer), `${tag} SPKI`);
      const expectedSki = view.ski ?? Buffer.from(subjectKeyIdentifier(made.spkiDer)).toString('hex');
      assert.equal(Buffer.from(info.ski).toString('hex'), expectedSki, `${tag} SKI`);
      if (tag === 'rsa') assert.equal(view.ski, undefined, 'the RSA CA really has no SKI extension');
      // The subject: the exact bytes inside the certificate, which openssl prints the same way.
      const subjectHex = Buffer.from(info.subjectName).toString('hex');
      assert.ok(Buffer.from(made.der).toString('hex').includes(subjectHex), `${tag} subject bytes are the certificate's`);
      const printed = execFileSync('sh', ['-c', `printf '%s' '${Buffer.from(info.subjectName).toString('base64')}' | base64 -d | openssl asn1parse -inform DER`], { encoding: 'utf8' });
      assert.match(printed, new RegExp(`:${tag} CA`), `${tag} subject CN`);
      assert.deepEqual(info.chain, [made.der]);
    }
    assert.ok(cases[2]!.made.der.includes(0x18), 'the post-2049 certificate carries a GeneralizedTime');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('issuer info: a stored CA certificate that does not parse is CA_ISSUER_CERT_MALFORMED', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardca-issuer-info-'));
  try {
    const { der } = makeCa(dir, 'ec', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], ['-days', '30']);
    for (const bad of [der.subarray(0, der.length - 1), Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01), new Uint8Array(0)]) {
      assert.throws(() => issuerInfoFromCertificate(bad, profile), (e: unknown) => e instanceof CaError && e.code === 'CA_ISSUER_CERT_MALFORMED');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
