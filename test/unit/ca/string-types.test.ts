/**
 * Issue 9 item 3: string types by content. PrintableString only for its character set,
 * IA5String only for ASCII, UTF8String for DirectoryString attributes; a value the attribute
 * cannot hold is a POLICY_SUBJECT_… refusal, never a mis-typed encoding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applySubjectPolicy, encodeName, PolicyError } from '../../../src/ca/index.js';
import { rdnStringType } from '../../../src/ca/x509/string-types.js';
import { parseTree } from './ca-test-kit.js';

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PolicyError, String(e));
    assert.ok(e.hint && e.hint.length > 0);
    return e.code;
  }
  return 'accepted';
}

/** The tag of each attribute value of an encoded Name. */
const tags = (der: Uint8Array) => parseTree(der).children!.map((set) => set.children![0]!.children![1]!.tag);

test('encodeName never writes a value into a type that cannot hold it', () => {
  assert.equal(refusal(() => encodeName([{ type: 'serialNumber', value: 'a_b@c*' }])), 'POLICY_SUBJECT_NOT_PRINTABLE');
  assert.equal(refusal(() => encodeName([{ type: 'emailAddress', value: 'jörg@example.test' }])), 'POLICY_SUBJECT_NOT_IA5');
  assert.equal(refusal(() => encodeName([{ type: 'DC', value: 'bücher' }])), 'POLICY_SUBJECT_NOT_IA5');
  assert.equal(refusal(() => encodeName([{ type: 'C', value: 'D_' }])), 'POLICY_SUBJECT_NOT_PRINTABLE');
  assert.equal(refusal(() => encodeName([{ type: 'CN', value: 'bad \ud800 surrogate' }])), 'POLICY_SUBJECT_NOT_UNICODE');
  // What each attribute gets when the content fits.
  const der = encodeName([
    { type: 'C', value: 'DE' },
    { type: 'serialNumber', value: "AB-12 (x)+,./:=?'" },
    { type: 'emailAddress', value: 'a_b@example.test' },
    { type: 'DC', value: 'example' },
    { type: 'CN', value: 'Jörg Müller' },
    { type: 'O', value: 'a_b@c*' },
  ]);
  assert.deepEqual(tags(der), [0x13, 0x13, 0x16, 0x16, 0x0c, 0x0c]);
  const cn = parseTree(der).children![4]!.children![0]!.children![1]!.value!;
  assert.equal(Buffer.from(cn).toString('utf8'), 'Jörg Müller');
});

test('the subject policy refuses with the POLICY_SUBJECT_ code before anything is encoded', () => {
  const rules = [
    { type: 'CN', presence: 'required' as const, maxLength: 64 },
    { type: 'serialNumber', presence: 'optional' as const, maxLength: 64 },
    { type: 'emailAddress', presence: 'optional' as const, maxLength: 255 },
  ];
  assert.equal(refusal(() => applySubjectPolicy(rules, [{ type: 'CN', value: 'x' }, { type: 'serialNumber', value: 'a_b@c*' }])), 'POLICY_SUBJECT_NOT_PRINTABLE');
  assert.equal(refusal(() => applySubjectPolicy(rules, [{ type: 'CN', value: 'x' }, { type: 'emailAddress', value: 'jörg@example.test' }])), 'POLICY_SUBJECT_NOT_IA5');
  assert.equal(refusal(() => applySubjectPolicy(rules, [{ type: 'CN', value: 'Jörg' }, { type: 'serialNumber', value: 'A-1' }])), 'accepted');
  assert.equal(rdnStringType('O', 'anything at all: ☃'), 'utf8String');
});
