/**
 * Appliance presets (src/ca/export/appliance-presets.ts) as pure renderers: the file list and
 * encodings per preset, README content, and the refusals for keys and signature algorithms
 * outside each vendor's documented lists (RSASSA-PSS everywhere, RSA below 2048 bits). The
 * chains here are throwaway openssl CAs; the cardca-issued chain is exercised end to end in
 * test/integration/vpn-concentrators-cardca.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPLIANCE_FORMATS, APPLIANCE_PRESETS, ExportError, exportAppliance, pemDecodeAll, type ChainExportInput } from '../../../src/ca/export/index.js';
import { runTool } from '../../helpers/validators.js';

async function openssl(dir: string, args: string[]): Promise<void> {
  const r = await runTool('openssl', args, { cwd: dir });
  assert.ok(r.ok, `openssl ${args.join(' ')}: ${r.output}`);
}

/** A self-signed root and its CRL (v2, AKI, CRLNumber) made by openssl. */
async function opensslRoot(dir: string, name: string, o: { bits?: number; pss?: boolean; ec?: boolean }): Promise<ChainExportInput> {
  const pss = o.pss ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'] : [];
  const keygen = o.ec ? ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${o.bits ?? 2048}`];
  await openssl(dir, ['genpkey', ...keygen, '-out', `${name}.key`]);
  await openssl(dir, [
    'req', '-x509', '-key', `${name}.key`, '-out', `${name}.pem`, '-subj', `/CN=${name}`, '-days', '30', '-sha256', ...pss,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-addext', 'subjectKeyIdentifier=hash',
  ]);
  await writeFile(join(dir, `${name}.cnf`), `[ca]\ndefault_ca=d\n[d]\ndatabase=${name}.idx\ncrlnumber=${name}.num\ndefault_md=sha256\ndefault_crl_days=5\ncrl_extensions=ext\n[ext]\nauthorityKeyIdentifier=keyid\n`);
  await writeFile(join(dir, `${name}.idx`), '');
  await writeFile(join(dir, `${name}.num`), '01\n');
  await openssl(dir, ['ca', '-config', `${name}.cnf`, '-gencrl', '-keyfile', `${name}.key`, '-cert', `${name}.pem`, ...pss, '-out', `${name}.crl`]);
  const der = async (f: string): Promise<Uint8Array> => pemDecodeAll(await readFile(join(dir, f), 'utf8'))[0]!.der;
  return { chain: [await der(`${name}.pem`)], crls: [await der(`${name}.crl`)], names: ['root'] };
}

describe('appliance presets', () => {
  let dir: string;
  let good: ChainExportInput;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cardca-appliance-'));
    good = await opensslRoot(dir, 'ec', { ec: true });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('every preset: one file per CA, one per CRL, README; encodings as documented; vendor pages in the README', () => {
    for (const f of APPLIANCE_FORMATS) {
      const p = APPLIANCE_PRESETS[f];
      const files = exportAppliance(good, f);
      assert.deepEqual(files.map((x) => x.path), [p.caFile('root'), p.crlFile('root'), 'README.md'], f);
      assert.ok(files.every((x) => x.mode === 0o644));
      const isPem = (b: Uint8Array): boolean => Buffer.from(b).subarray(0, 11).toString('latin1') === '-----BEGIN ';
      assert.equal(isPem(files[0]!.bytes), p.caEncoding === 'pem', `${f} CA encoding`);
      assert.equal(isPem(files[1]!.bytes), p.crlEncoding === 'pem', `${f} CRL encoding`);
      if (p.crlEncoding === 'der') assert.deepEqual(Buffer.from(files[1]!.bytes), Buffer.from(good.crls[0]!));
      const readme = Buffer.from(files[2]!.bytes).toString('utf8');
      assert.ok(p.docs.length > 0);
      for (const d of p.docs) assert.ok(readme.includes(d.url), `${f}: README lacks ${d.url}`);
      assert.match(readme, /What the device cannot do/);
      assert.match(readme, /CN=ec \(SHA-256 [0-9A-F:]{95}/);
    }
  });

  test('an RSASSA-PSS-signed CA is refused by every preset, naming the limit', async () => {
    const pss = await opensslRoot(dir, 'pss', { pss: true });
    for (const f of APPLIANCE_FORMATS) {
      assert.throws(
        () => exportAppliance(pss, f),
        (e: unknown) => e instanceof ExportError && e.code === 'EXPORT_APPLIANCE_UNSUPPORTED' && /RSASSA-PSS is not among the documented/.test(e.message) && /http/.test(e.hint ?? ''),
        f,
      );
    }
  });

  test('an RSA-1024 CA key is refused (documented minimum 2048 bits)', async () => {
    const weak = await opensslRoot(dir, 'weak', { bits: 1024 });
    assert.throws(() => exportAppliance(weak, 'fortigate'), (e: unknown) => e instanceof ExportError && e.code === 'EXPORT_APPLIANCE_UNSUPPORTED' && /RSA-1024/.test(e.message) && /2048…4096/.test(e.message));
  });
});
