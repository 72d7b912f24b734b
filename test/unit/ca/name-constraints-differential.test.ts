/**
 * Issue 9 item 2, differential: cardca's name-constraint verdict (name-constraints.ts, reading
 * the constraints from the CA certificates) against `openssl verify` on chains openssl itself
 * generates: root → sub-CA with random permitted/excluded dNSName, rfc822Name and iPAddress
 * subtrees → leaf with random SANs, subject CN and emailAddress. Several hundred pairs; every
 * verdict must agree. Software keys are fine here: the test judges name-constraint logic, and
 * the keys belong to openssl-made test chains only.
 *
 * The pools hold the traps: label boundaries (ample.test vs example.test), the subtree meaning of
 * a name without a leading dot, case, e-mail host vs domain vs mailbox, IPv4 vs IPv6 families,
 * a CN checked only when no DNS SAN exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, id_ce_subjectAltName, SubjectAlternativeName } from '@peculiar/asn1-x509';
import { pemDecode } from '../../../src/ca/index.js';
import { decodeName } from '../../../src/ca/x509/name.js';
import type { SanEntry } from '../../../src/ca/x509/extensions.js';
import { ipToString, parseCidr } from '../../../src/ca/x509/ip-address.js';
import { chainNameConstraints, constrainedNames, describeViolation, nameConstraintViolations } from '../../../src/ca/cert/name-constraints.js';
import { openssl, tempDir } from './ca-test-kit.js';

const dir = tempDir('cardca-ncdiff-');
const SETS = 60;
const NAMES_PER_SET = 5;
const SEED = Number(process.env['NC_DIFF_SEED'] ?? 20261201);

/** mulberry32: a seeded PRNG so a failing case can be replayed with NC_DIFF_SEED. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const some = <T>(xs: readonly T[], max: number): T[] => Array.from({ length: Math.floor(rand() * (max + 1)) }, () => pick(xs));

const DNS_BASES = ['example.test', '.example.test', 'bad.example.test', '.bad.example.test', 'other.test', 'test', 'ample.test', 'x.example.test', 'EXAMPLE.test'];
const EMAIL_BASES = ['example.test', '.example.test', 'alice@example.test', 'mail.example.test', '.other.test', 'other.test'];
const IP_BASES = ['10.0.0.0/8', '10.1.0.0/16', '192.168.1.0/24', '0.0.0.0/0', 'fd00::/8', '2001:db8::/32'];
const DNS_NAMES = ['example.test', 'www.example.test', 'bad.example.test', 'www.bad.example.test', 'notbad.example.test', 'a.other.test', 'other.test', 'sample.test', 'ample.test', 'deep.x.example.test', 'Www.Bad.Example.Test'];
const EMAILS = ['alice@example.test', 'bob@example.test', 'Alice@example.test', 'carol@mail.example.test', 'dave@other.test', 'eve@x.other.test', 'alice@EXAMPLE.test'];
const IPS = ['10.1.2.3', '10.2.0.1', '192.168.1.77', '192.168.2.1', '8.8.8.8', 'fd00::1', '2001:db8::5', 'fe80::1'];
const CNS = ['www.example.test', 'bad.example.test', 'www.bad.example.test', 'a.other.test', 'printer', 'my_host.example.test', 'Some Name', 'sample.test', '10.1.2.3'];

type Form = 'DNS' | 'email' | 'IP';
interface Base { form: Form; value: string }

function randomBase(): Base {
  const form = pick<Form>(['DNS', 'DNS', 'email', 'IP']);
  return { form, value: pick(form === 'DNS' ? DNS_BASES : form === 'email' ? EMAIL_BASES : IP_BASES) };
}

/** openssl config syntax for a subtree: IP ranges are address/mask, the mask written as an address. */
function confBase(b: Base): string {
  if (b.form !== 'IP') return `${b.form}:${b.value}`;
  const { bytes, prefix } = parseCidr(b.value);
  const mask = new Uint8Array(bytes.length);
  for (let i = 0; i < prefix; i++) mask[i >> 3]! |= 0x80 >> (i & 7);
  return `IP:${ipToString(bytes.map((x, i) => x & mask[i]!))}/${ipToString(mask)}`;
}

async function must(args: string[]): Promise<void> {
  const r = await openssl(args);
  assert.ok(r.ok, `openssl ${args.join(' ')}\n${r.output}`);
}

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: n }, async () => {
    for (let x = queue.shift(); x !== undefined; x = queue.shift()) await fn(x);
  }));
}

test(`name constraints: cardca agrees with openssl verify on ${SETS * NAMES_PER_SET} generated chains (seed ${SEED})`, { timeout: 600_000 }, async (t) => {
  const f = (n: string) => join(dir, n);
  for (const k of ['root', 'sub', 'leaf']) await must(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f(`${k}.key`)]);
  await must(['req', '-new', '-x509', '-key', f('root.key'), '-subj', '/CN=NC diff root', '-days', '30', '-out', f('root.pem')]);
  for (const k of ['sub', 'leaf']) await must(['req', '-new', '-key', f(`${k}.key`), '-subj', `/CN=${k}`, '-out', f(`${k}.csr`)]);
  const rootDer = pemDecode(readFileSync(f('root.pem'), 'utf8'), 'CERTIFICATE');

  interface Case { set: number; i: number; permitted: Base[]; excluded: Base[]; sans: string[]; subject: string }
  const cases: Case[] = [];
  const sets: { permitted: Base[]; excluded: Base[] }[] = [];
  for (let s = 0; s < SETS; s++) {
    let permitted = some<Base>(Array.from({ length: 6 }, randomBase), 3);
    const excluded = some<Base>(Array.from({ length: 6 }, randomBase), 2);
    if (permitted.length + excluded.length === 0) permitted = [randomBase()];
    sets.push({ permitted, excluded });
    for (let i = 0; i < NAMES_PER_SET; i++) {
      const sans = some<string>([...DNS_NAMES.map((d) => `DNS:${d}`), ...EMAILS.map((e) => `email:${e}`), ...IPS.map((a) => `IP:${a}`)], 2);
      const cn = pick(CNS);
      const subject = `/CN=${cn}${rand() < 0.25 ? `/emailAddress=${pick(EMAILS)}` : ''}`;
      cases.push({ set: s, i, permitted, excluded, sans, subject });
    }
  }

  await pool(sets.map((_, s) => s), 4, async (s) => {
    const { permitted, excluded } = sets[s]!;
    const nc = [...permitted.map((b) => `permitted;${confBase(b)}`), ...excluded.map((b) => `excluded;${confBase(b)}`)].join(',');
    writeFileSync(f(`sub${s}.cnf`), `basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\nnameConstraints=critical,${nc}\n`);
    await must(['x509', '-req', '-in', f('sub.csr'), '-CA', f('root.pem'), '-CAkey', f('root.key'), '-subj', `/CN=NC diff sub ${s}`, '-extfile', f(`sub${s}.cnf`), '-set_serial', String(1000 + s), '-days', '20', '-out', f(`sub${s}.pem`)]);
  });

  const disagreements: string[] = [];
  const tally = { accept: 0, excluded: 0, permitted: 0 };
  await pool(cases, 4, async (c) => {
    const id = `${c.set}-${c.i}`;
    const ext = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', ...(c.sans.length ? [`subjectAltName=${c.sans.join(',')}`] : [])];
    writeFileSync(f(`leaf${id}.cnf`), ext.join('\n') + '\n');
    await must(['x509', '-req', '-in', f('leaf.csr'), '-CA', f(`sub${c.set}.pem`), '-CAkey', f('sub.key'), '-subj', c.subject, '-extfile', f(`leaf${id}.cnf`), '-set_serial', String(100000 + c.set * 100 + c.i), '-days', '10', '-out', f(`leaf${id}.pem`)]);
    const v = await openssl(['verify', '-CAfile', f('root.pem'), '-untrusted', f(`sub${c.set}.pem`), f(`leaf${id}.pem`)]);
    let opensslVerdict: 'accept' | 'excluded' | 'permitted';
    if (v.ok) opensslVerdict = 'accept';
    else if (/excluded subtree violation/.test(v.output)) opensslVerdict = 'excluded';
    else if (/permitted subtree violation/.test(v.output)) opensslVerdict = 'permitted';
    else throw new Error(`case ${id}: openssl failed for another reason (the generator is wrong):\n${v.output}`);
    tally[opensslVerdict]++;

    // cardca: constraints from the CA certificates, names from the leaf certificate.
    const leafDer = pemDecode(readFileSync(f(`leaf${id}.pem`), 'utf8'), 'CERTIFICATE');
    const subDer = pemDecode(readFileSync(f(`sub${c.set}.pem`), 'utf8'), 'CERTIFICATE');
    const tbs = AsnConvert.parse(leafDer, Certificate).tbsCertificate;
    const sanExt = tbs.extensions?.find((e) => e.extnID === id_ce_subjectAltName);
    const sans: SanEntry[] = sanExt
      ? AsnConvert.parse(sanExt.extnValue.buffer, SubjectAlternativeName).flatMap((g): SanEntry[] =>
          g.dNSName !== undefined ? [{ type: 'dns', value: g.dNSName }] : g.rfc822Name !== undefined ? [{ type: 'email', value: g.rfc822Name }] : g.iPAddress !== undefined ? [{ type: 'ip', value: g.iPAddress }] : [],
        )
      : [];
    const subject = decodeName(new Uint8Array(AsnConvert.serialize(tbs.subject)));
    const violations = nameConstraintViolations(chainNameConstraints([subDer, rootDer]), constrainedNames(sans, subject, true));
    const cardcaAccepts = violations.length === 0;
    if (cardcaAccepts !== (opensslVerdict === 'accept')) {
      disagreements.push(
        `case ${id}: permitted [${c.permitted.map(confBase).join(', ')}] excluded [${c.excluded.map(confBase).join(', ')}] ` +
          `subject ${c.subject} SAN [${c.sans.join(', ')}]: openssl ${opensslVerdict}, cardca ${cardcaAccepts ? 'accept' : violations.map(describeViolation).join('; ')}`,
      );
    }
  });
  t.diagnostic(`openssl verdicts: ${JSON.stringify(tally)} over ${cases.length} cases`);
  assert.deepEqual(disagreements, [], disagreements.join('\n'));
  // The generator must exercise both outcomes and both kinds of violation, or it proves little.
  assert.ok(tally.accept >= 30 && tally.excluded >= 20 && tally.permitted >= 30, JSON.stringify(tally));
});
