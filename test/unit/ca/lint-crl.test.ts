/** One defective TBSCertList per CRL lint rule; the builder's output must be clean. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildTbsCertList,
  CRL_RULES,
  lintCrl,
  lintTbsCertList,
  loadProfiles,
  encodeName,
  type CrlLintContext,
  type TbsCertListInput,
} from '../../../src/ca/index.js';
import { fromHex, toHex } from '../../../src/common/hex.js';
import { encodeTlv } from '../../../src/ca/x509/der.js';
import { PROFILES_DIR, encodeTree, makeCa, makeCrl, mutate, parseTree, testSerial, type Node } from './ca-test-kit.js';

const DAY = 86_400_000;
const set = loadProfiles(PROFILES_DIR);
const now = new Date(Math.floor(Date.now() / 1000) * 1000);
const root = await makeCa('root', set.caProfile('root'), undefined, now);
const s1 = testSerial();
const s2 = testSerial();

const ctx: CrlLintContext = { now, issuerName: root.info.subjectName, issuerSki: root.info.ski, maxValidityMs: 30 * DAY };
const input = (over: Partial<TbsCertListInput> = {}): TbsCertListInput => ({
  issuerName: root.info.subjectName, aki: root.info.ski, thisUpdate: now, nextUpdate: new Date(now.getTime() + 7 * DAY), crlNumber: 5n,
  entries: [{ serial: s1, revocationDate: now, reason: 'keyCompromise', invalidityDate: new Date(now.getTime() - 2 * DAY) }, { serial: s2, revocationDate: now }], ...over,
});
const build = (i = input()) => buildTbsCertList(i, 'ecdsa-sha384');
/** TBSCertList tree: [0] version, [1] sig, [2] issuer, [3] thisUpdate, [4] nextUpdate, [5] revoked, [6] [0] extensions. */
const exts = (r: Node) => r.children![6]!.children![0]!.children!;
const entry = (r: Node, i: number) => r.children![5]!.children![i]!;
const crit: Node = { tag: 0x01, value: Uint8Array.of(0xff) };
const extNode = (oidHex: string, valueHex: string): Node => parseTree(fromHex(`30${((oidHex.length + valueHex.length) / 2 + 4).toString(16).padStart(2, '0')}06${(oidHex.length / 2).toString(16).padStart(2, '0')}${oidHex}04${(valueHex.length / 2).toString(16).padStart(2, '0')}${valueHex}`));

type Case = () => { der: Uint8Array; ctx: CrlLintContext };
const B = (i: TbsCertListInput, c = ctx): Case => () => ({ der: build(i), ctx: c });
const M = (edit: (r: Node) => void, c = ctx): Case => () => ({ der: mutate(build(), edit), ctx: c });

const CASES: Record<string, Case> = {
  e_crl_version_not_2: M((r) => { r.children!.splice(0, 1); }),
  e_crl_signature_algorithm_not_allowed: M((r) => { r.children![1] = parseTree(fromHex('300906072a8648ce3d0401')); }),
  e_crl_issuer_not_byte_identical: B(input({ issuerName: encodeName([{ type: 'CN', value: 'Other' }]) })),
  e_crl_time_format: M((r) => { r.children![3] = { tag: 0x17, value: new Uint8Array(Buffer.from('2611272015Z')) }; }),
  e_crl_next_update_missing: M((r) => { r.children!.splice(4, 1); }),
  e_crl_next_update_not_after_this_update: M((r) => { r.children![4] = r.children![3]!; }),
  e_crl_validity_too_long: B(input(), { ...ctx, maxValidityMs: DAY }),
  e_crl_this_update_in_future: B(input({ thisUpdate: new Date(now.getTime() + 3600_000) })),
  e_crl_duplicate_extension: M((r) => { exts(r).push(exts(r)[1]!); }),
  e_crl_unknown_extension: M((r) => { exts(r).push(extNode('551d1c', '3000')); }),
  e_crl_aki_missing: M((r) => { exts(r).splice(0, 1); }),
  e_crl_aki_not_issuer_ski: B(input({ aki: new Uint8Array(20).fill(3) })),
  e_crl_aki_critical: M((r) => { exts(r)[0]!.children!.splice(1, 0, crit); }),
  e_crl_number_missing: M((r) => { exts(r).splice(1, 1); }),
  e_crl_number_critical: M((r) => { exts(r)[1]!.children!.splice(1, 0, crit); }),
  e_crl_number_out_of_range: M((r) => { exts(r)[1]!.children![1]!.value = encodeTlv(0x02, new Uint8Array(21).fill(0x11)); }),
  e_crl_number_not_increasing: B(input(), { ...ctx, previousCrlNumber: 5n }),
  e_crl_empty_revoked_certificates: M((r) => { r.children![5] = { tag: 0x30, children: [] }; }),
  e_crl_entry_serial_invalid: M((r) => { entry(r, 0).children![0]!.value = Uint8Array.of(0x80, 1); }),
  e_crl_entry_serial_unknown: B(input(), { ...ctx, knownSerialsHex: new Set([toHex(s1)]) }),
  e_crl_entry_duplicate_serial: B(input({ entries: [{ serial: s1, revocationDate: now }, { serial: s1, revocationDate: now }] })),
  e_crl_entry_time_format: M((r) => { entry(r, 1).children![1] = { tag: 0x18, value: new Uint8Array(Buffer.from('20261127201500Z')) }; }),
  e_crl_entry_unknown_extension: M((r) => { entry(r, 1).children!.push({ tag: 0x30, children: [extNode('551d1d', '3000')] }); }),
  e_crl_reason_code_critical: M((r) => { entry(r, 0).children![2]!.children![0]!.children!.splice(1, 0, crit); }),
  e_crl_reason_code_not_allowed: M((r) => { entry(r, 0).children![2]!.children![0]!.children![1]!.value = fromHex('0a010a'); }),
  // Entry 0 carries reasonCode then invalidityDate (input() gives it one, 2 days before revocation).
  e_crl_invalidity_date_not_generalized_time: M((r) => { entry(r, 0).children![2]!.children![1]!.children![1]!.value = encodeTlv(0x17, new Uint8Array(Buffer.from('261127201500Z'))); }),
  e_crl_invalidity_date_after_revocation_date: M((r) => { entry(r, 0).children![2]!.children![1]!.children![1]!.value = encodeTlv(0x18, new Uint8Array(Buffer.from('20991231235959Z'))); }),
  e_crl_invalidity_date_critical: M((r) => { entry(r, 0).children![2]!.children![1]!.children!.splice(1, 0, crit); }),
};

test('every CRL lint rule has a defective sample', () => {
  const names = CRL_RULES.map((r) => r.name);
  assert.equal(new Set(names).size, names.length);
  assert.deepEqual(names.filter((n) => !CASES[n]), [], 'rules without a test case');
  assert.deepEqual(Object.keys(CASES).filter((n) => !names.includes(n)), [], 'cases without a rule');
});

test('builder output is lint-clean, with and without entries', () => {
  assert.deepEqual(lintTbsCertList(build(), { ...ctx, knownSerialsHex: new Set([toHex(s1), toHex(s2)]), previousCrlNumber: 4n }), []);
  assert.deepEqual(lintTbsCertList(build(input({ entries: [] })), ctx), []);
});

for (const [rule, make] of Object.entries(CASES)) {
  test(`CRL lint rule ${rule} flags its defect`, () => {
    const { der, ctx: c } = make();
    const f = lintTbsCertList(der, c);
    assert.ok(f.some((x) => x.rule === rule), `${rule} not among ${JSON.stringify(f)}`);
  });
}

test('CRL structure: v2, empty list omitted, unspecified reason omitted, hold refused', async () => {
  const tbs = parseTree(build(input({ entries: [] })));
  // version, sig, issuer, thisUpdate, nextUpdate, [0] extensions: no revokedCertificates.
  assert.deepEqual(tbs.children!.map((n) => n.tag), [0x02, 0x30, 0x30, 0x17, 0x17, 0xa0]);
  const withEntries = parseTree(build());
  assert.equal(withEntries.children![5]!.children![0]!.children!.length, 3, 'keyCompromise entry has extensions');
  assert.equal(withEntries.children![5]!.children![1]!.children!.length, 2, 'unspecified entry has no reasonCode');
  assert.throws(() => build(input({ entries: [{ serial: s1, revocationDate: now, reason: 'certificateHold' }] })), /certificateHold/);
  assert.throws(() => build(input({ crlNumber: 1n << 159n })), /outside/);
  assert.throws(() => build(input({ nextUpdate: now })), /nextUpdate/);
  const { crl } = await makeCrl(root, 9n, []);
  assert.deepEqual(lintCrl(crl, { ...ctx, maxValidityMs: 180 * DAY }), []);
  // Outer algorithm differing from the inner one.
  const f = parseTree(crl);
  f.children![1] = parseTree(fromHex('300a06082a8648ce3d040302'));
  const bad = encodeTree(f);
  assert.ok(lintCrl(bad, { ...ctx, maxValidityMs: 180 * DAY }).some((x) => x.rule === 'e_crl_sig_alg_not_match_tbs_sig_alg'));
});

test('aACompromise is refused by the CRL builder (BR 7.2.2), as are holds', () => {
  for (const reason of ['aACompromise', 'certificateHold', 'removeFromCRL'] as const) {
    assert.throws(() => build(input({ entries: [{ serial: s1, revocationDate: now, reason }] })), (e: unknown) => e instanceof Error && (e as { code?: string }).code === 'CA_BAD_CRL_REASON');
  }
  assert.throws(() => build(input({ entries: [{ serial: s1, revocationDate: now, invalidityDate: new Date(now.getTime() + 1000) }] })), (e: unknown) => (e as { code?: string }).code === 'CA_BAD_INVALIDITY_DATE');
});
