import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assertNoPrivateData,
  exportCertificate,
  ExportError,
  pemDecodeAll,
  renderChainExport,
  type ChainExportInput,
} from '../../../src/ca/export/index.js';
import { makeTestPki, type TestPki } from '../../helpers/test-pki.js';
import { runTool } from '../../helpers/validators.js';

async function derOf(path: string, label = 'CERTIFICATE'): Promise<Uint8Array> {
  return pemDecodeAll(await readFile(path, 'utf8')).find((b) => b.label === label)!.der;
}

function subjects(opensslText: string): string[] {
  return [...opensslText.matchAll(/^subject=(.*)$/gm)].map((m) => m[1]!.trim());
}

function codeOf(code: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof ExportError, String(e));
    assert.equal(e.code, code);
    return true;
  };
}

describe('chain exports: pem, der, p7b', () => {
  let pki: TestPki;
  let input: ChainExportInput;
  let out: string;
  after(async () => {
    await Promise.all([pki.dir, out].map((d) => rm(d, { recursive: true, force: true })));
  });
  before(async () => {
    pki = await makeTestPki();
    out = await mkdtemp(join(tmpdir(), 'cardca-export-'));
    input = {
      chain: [await derOf(pki.sub.cert), await derOf(pki.root.cert)],
      crls: [await derOf(pki.root.crl, 'X509 CRL'), await derOf(pki.sub.crl, 'X509 CRL')],
      names: ['servers', 'root'],
    };
  });

  test('pem bundle: issuer first, root last, strict PEM framing, mode 0644', async () => {
    const files = renderChainExport(input, 'pem');
    assert.deepEqual(files.map((f) => [f.path, f.mode]), [['servers-chain.pem', 0o644]]);
    const text = Buffer.from(files[0]!.bytes).toString('utf8');
    assert.ok(!text.includes('\r'), 'LF line endings only');
    assert.ok(text.split('\n').every((l) => l.length <= 64), 'lines ≤ 64 columns (RFC 7468 §2)');
    await writeFile(join(out, 'bundle.pem'), files[0]!.bytes);
    const r = await runTool('openssl', ['crl2pkcs7', '-nocrl', '-certfile', join(out, 'bundle.pem')]);
    assert.ok(r.ok, r.output);
    const p = await runTool('openssl', ['pkcs7', '-print_certs', '-noout'], { input: r.output });
    assert.deepEqual(subjects(p.output), ['O = cardca test, CN = Test Servers CA', 'O = cardca test, CN = Test Root CA']);
    // byte-identical to the inputs
    assert.deepEqual(pemDecodeAll(text).map((b) => Buffer.from(b.der).toString('hex')), input.chain.map((c) => Buffer.from(c).toString('hex')));
  });

  test('der: one numbered file per certificate, each parses with openssl x509 -inform DER', async () => {
    const files = renderChainExport(input, 'der');
    assert.deepEqual(files.map((f) => f.path), ['servers-chain-0.der', 'servers-chain-1.der']);
    const names: string[] = [];
    for (const f of files) {
      const p = join(out, f.path);
      await writeFile(p, f.bytes);
      const r = await runTool('openssl', ['x509', '-inform', 'DER', '-in', p, '-noout', '-subject']);
      assert.ok(r.ok, r.output);
      names.push(r.output.trim());
    }
    assert.deepEqual(names, ['subject=O = cardca test, CN = Test Servers CA', 'subject=O = cardca test, CN = Test Root CA']);
  });

  test('p7b: certs-only SignedData that openssl pkcs7 -print_certs reads back, in order', async () => {
    const files = renderChainExport(input, 'p7b');
    assert.deepEqual(files.map((f) => f.path), ['servers-chain.p7b']);
    const p = join(out, 'chain.p7b');
    await writeFile(p, files[0]!.bytes);
    const r = await runTool('openssl', ['pkcs7', '-inform', 'DER', '-in', p, '-print_certs']);
    assert.ok(r.ok, r.output);
    assert.deepEqual(subjects(r.output), ['O = cardca test, CN = Test Servers CA', 'O = cardca test, CN = Test Root CA']);
    // The certificates inside are byte-identical to the inputs.
    assert.deepEqual(
      pemDecodeAll(r.output).map((b) => Buffer.from(b.der).toString('hex')),
      input.chain.map((c) => Buffer.from(c).toString('hex')),
    );
    // Byte-identical to what OpenSSL writes for the same certificates in the same order.
    await writeFile(join(out, 'ref.pem'), renderChainExport(input, 'pem')[0]!.bytes);
    const ref = await runTool('openssl', ['crl2pkcs7', '-nocrl', '-certfile', join(out, 'ref.pem'), '-outform', 'DER', '-out', join(out, 'ref.p7b')]);
    assert.ok(ref.ok, ref.output);
    assert.deepEqual(new Uint8Array(await readFile(join(out, 'ref.p7b'))), files[0]!.bytes);
    const gnutls = await runTool('certtool', ['--p7-info', '--inder', '--infile', p]);
    assert.ok(gnutls.ok, gnutls.output);
    assert.match(gnutls.output, /Number of certificates: 2/);
  });

  test('single certificate with chain: leaf → issuer → root in pem and p7b', async () => {
    const leaf = await derOf(pki.server.cert);
    const pem = exportCertificate({ cert: leaf, name: 'vpn', chain: input.chain }, 'pem');
    assert.deepEqual(pem.map((f) => f.path), ['vpn.pem']);
    assert.equal(pemDecodeAll(Buffer.from(pem[0]!.bytes).toString()).length, 3);
    const p7 = exportCertificate({ cert: leaf, name: 'vpn', chain: input.chain }, 'p7b');
    await writeFile(join(out, 'vpn.p7b'), p7[0]!.bytes);
    const r = await runTool('openssl', ['pkcs7', '-inform', 'DER', '-in', join(out, 'vpn.p7b'), '-print_certs', '-noout']);
    assert.deepEqual(subjects(r.output), [
      'O = cardca test, CN = vpn.example.test',
      'O = cardca test, CN = Test Servers CA',
      'O = cardca test, CN = Test Root CA',
    ]);
    const der = exportCertificate({ cert: leaf, name: 'vpn' }, 'der');
    assert.deepEqual(der.map((f) => f.path), ['vpn.der']);
    assert.deepEqual([...der[0]!.bytes], [...leaf]);
    // A chain that did not issue the leaf is refused.
    assert.throws(() => exportCertificate({ cert: leaf, name: 'vpn', chain: [input.chain[1]!] }, 'pem'), codeOf('EXPORT_CHAIN_ORDER'));
  });

  test('refuses wrong chain order, a missing root, bad names and foreign CRLs', () => {
    assert.throws(() => renderChainExport({ ...input, chain: [...input.chain].reverse() }, 'pem'), codeOf('EXPORT_CHAIN_ORDER'));
    assert.throws(() => renderChainExport({ ...input, chain: [input.chain[0]!], names: ['servers'] }, 'pem'), codeOf('EXPORT_CHAIN_ORDER'));
    assert.throws(() => renderChainExport({ ...input, names: ['../x', 'root'] }, 'pem'), codeOf('EXPORT_INPUT_INVALID'));
    assert.throws(() => renderChainExport({ ...input, names: ['same', 'same'] }, 'pem'), codeOf('EXPORT_INPUT_INVALID'));
    assert.throws(() => renderChainExport({ ...input, names: ['servers'] }, 'pem'), codeOf('EXPORT_INPUT_INVALID'));
    assert.throws(() => renderChainExport({ ...input, chain: [] , names: []}, 'pem'), codeOf('EXPORT_INPUT_INVALID'));
    assert.throws(() => renderChainExport({ ...input, crls: [input.crls[0]!, input.crls[0]!] }, 'pem'), codeOf('EXPORT_INPUT_INVALID'));
    assert.throws(() => renderChainExport({ ...input, chain: [Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x05), input.chain[1]!] }, 'pem'), codeOf('EXPORT_INPUT_INVALID'));
  });

  test('refuses non-canonical DER instead of silently re-encoding it', () => {
    // Re-encode the root with a long-form length on the outer SEQUENCE (valid BER, not DER).
    const root = input.chain[1]!;
    assert.equal(root[1], 0x82);
    const ber = Uint8Array.from([0x30, 0x83, 0x00, root[2]!, root[3]!, ...root.subarray(4)]);
    assert.throws(() => renderChainExport({ ...input, chain: [input.chain[0]!, ber] }, 'p7b'), codeOf('EXPORT_NOT_DER'));
  });

  test('private-data guard refuses PEM private keys and DER private keys', async () => {
    const keyPem = await readFile(pki.server.key);
    assert.throws(() => assertNoPrivateData(keyPem, 'server.key'), codeOf('EXPORT_PRIVATE_DATA'));
    const keyDer = await runTool('openssl', ['pkey', '-in', pki.server.key, '-outform', 'DER', '-out', join(out, 'k.der')]);
    assert.ok(keyDer.ok, keyDer.output);
    const der = new Uint8Array(await readFile(join(out, 'k.der')));
    assert.throws(() => assertNoPrivateData(der, 'k.der'), codeOf('EXPORT_PRIVATE_DATA'));
    // …also when passed where a certificate belongs.
    assert.throws(() => renderChainExport({ ...input, chain: [der, input.chain[1]!] }, 'pem'), codeOf('EXPORT_PRIVATE_DATA'));
    // Certificates and CRLs pass.
    for (const c of [...input.chain, ...input.crls]) assertNoPrivateData(c, 'ok');
  });
});
