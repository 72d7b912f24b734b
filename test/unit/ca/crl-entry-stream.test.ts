/**
 * Issue #14 item 3: the CRL's entries reach the writer as one packed string per row
 * (crl-entry-stream.ts), the known serials as one comma-separated hex string
 * (serial-set.ts fromHexList). The writer refuses what the old object path refused, and the serial set built
 * from the string is exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packCrlEntry, type CrlEntryStream } from '../../../src/ca/crl/crl-entry-stream.js';
import { writeTbsCertList } from '../../../src/ca/crl/write-tbs-cert-list.js';
import { SerialSet } from '../../../src/ca/lint/serial-set.js';
import { tbsCertListFields, walkCrlEntries } from '../../../src/ca/crl/crl-structure.js';

const header = {
  issuerName: Uint8Array.of(0x30, 0x0e, 0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x03, 0x43, 0x41, 0x31),
  aki: Uint8Array.of(1, 2, 3, 4),
  thisUpdate: '2026-12-01T00:00:00.000Z',
  nextUpdate: '2026-12-31T00:00:00.000Z',
  crlNumber: 3n,
};
const stream = (rows: string[]): CrlEntryStream => ({ count: rows.length, serialOctets: rows.length * 20, forEach: (v) => rows.forEach((r) => v(r)) });
const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

test('packed entries: the writer encodes reason, invalidityDate, UTCTime/GeneralizedTime and the serial, and walks back', () => {
  const rows = [
    packCrlEntry(Uint8Array.of(0x01), '2026-11-30T10:00:00.999Z'),
    packCrlEntry(Uint8Array.of(0x00, 0x80, 0xff), '2026-11-30T10:00:01.000Z', 'keyCompromise', '2026-11-29T10:00:00.000Z'),
    packCrlEntry(Uint8Array.of(0x7f, ...new Uint8Array(19).fill(0xab)), '2051-01-01T00:00:00.000Z', 'superseded'),
  ];
  const { tbs, entries } = writeTbsCertList(header, 'ecdsa-sha256', stream(rows));
  assert.equal(entries, 3);
  const f = tbsCertListFields(tbs);
  const seen: string[] = [];
  walkCrlEntries(tbs, f.revoked!, (e) => {
    const hex = (a: number, b: number): string => Buffer.from(tbs.subarray(a, b)).toString('hex');
    const exts: string[] = [];
    for (let i = 0; i < e.extensionCount; i++) exts.push(hex(e.extensions[i]!.value.valueStart, e.extensions[i]!.value.end));
    seen.push(`${hex(e.serial.valueStart, e.serial.end)} ${e.revocationDate.tag === 0x17 ? 'utc' : 'gen'}:${Buffer.from(tbs.subarray(e.revocationDate.valueStart, e.revocationDate.end)).toString('latin1')} ${exts.join(' ')}`.trim());
  });
  assert.deepEqual(seen, [
    '01 utc:261130100000Z',
    // reasonCode ENUMERATED 1, invalidityDate GeneralizedTime (RFC 5280 §5.3.1, §5.3.2)
    `0080ff utc:261130100001Z 0a0101 ${Buffer.from('\x18\x0f20261129100000Z', 'latin1').toString('hex')}`,
    `7f${'ab'.repeat(19)} gen:20510101000000Z 0a0104`,
  ]);
});

test('packed entries: the writer refuses what cannot go on a CRL, before anything is signed', () => {
  const at = '2026-11-30T10:00:00.000Z';
  const w = (row: string): string | undefined => codeOf(() => writeTbsCertList(header, 'ecdsa-sha256', stream([row])));
  for (const reason of ['certificateHold', 'removeFromCRL', 'aACompromise'] as const) assert.equal(w(packCrlEntry(Uint8Array.of(1), at, reason)), 'CA_BAD_CRL_REASON', reason);
  assert.equal(w(`${at}??-01`), 'CA_BAD_CRL_REASON', 'a stored reason that is no CRLReason');
  assert.equal(w(packCrlEntry(Uint8Array.of(1), at, 'keyCompromise', '2026-11-30T10:00:01.000Z')), 'CA_BAD_INVALIDITY_DATE');
  assert.equal(w(packCrlEntry(Uint8Array.of(0x80), at)), 'CA_BAD_SERIAL', 'negative');
  assert.equal(w(packCrlEntry(Uint8Array.of(0, 1), at)), 'CA_BAD_SERIAL', 'not minimal');
  assert.equal(w(packCrlEntry(Uint8Array.of(0), at)), 'CA_BAD_SERIAL', 'zero');
  assert.equal(w(packCrlEntry(new Uint8Array(21).fill(1), at)), 'CA_BAD_SERIAL', '21 octets');
  assert.equal(w(`${at}00-0G`), 'CA_BAD_SERIAL', 'not hex');
  assert.equal(w(`2026-11-30 10:00:00.000Z00-01`), 'CA_BAD_CRL_DATES');
  assert.equal(codeOf(() => packCrlEntry(Uint8Array.of(1), '+012026-11-30T10:00:00.000Z')), 'CA_BAD_CRL_DATES');
  // A stream that delivers fewer entries than it counted.
  assert.equal(codeOf(() => writeTbsCertList(header, 'ecdsa-sha256', { count: 2, serialOctets: 40, forEach: (v) => v(packCrlEntry(Uint8Array.of(1), at)) })), 'CA_CRL_ENTRIES_CHANGED');
});

test('SerialSet.fromHexList holds exactly the listed serials', () => {
  const s = SerialSet.fromHexList('01,0080FF,7fabcd,01', 4);
  assert.equal(s.size, 3);
  for (const x of [[1], [0, 0x80, 0xff], [0x7f, 0xab, 0xcd]]) assert.ok(s.has(Uint8Array.from(x)), String(x));
  for (const x of [[2], [0x80, 0xff], [0x7f, 0xab, 0xcd, 0]]) assert.ok(!s.has(Uint8Array.from(x)), String(x));
  assert.equal(SerialSet.fromHexList('', 0).size, 0);
  assert.throws(() => SerialSet.fromHexList('01,0', 2));
  assert.throws(() => SerialSet.fromHexList('01,zz', 2));
});
