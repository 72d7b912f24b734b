import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAsn1TimeText, parseIndexTxt, parseNumberFile, serialHexOf } from '../../../../src/ca/adopt/index-txt.js';
import { CardcaError } from '../../../../src/common/cardca-error.js';

const F = '/old/ca/index.txt';
const line = (...f: string[]): string => f.join('\t');

test('index.txt: V, E and every R form openssl ca writes (apps/ca.c make_revocation_str)', () => {
  const text = [
    line('V', '270101000000Z', '', '01', 'unknown', '/O=Ex/CN=www'),
    line('R', '270101000000Z', '260301120000Z', '02', 'unknown', '/CN=bare'),
    line('R', '270101000000Z', '260301120000Z,keyCompromise', '03', 'unknown', '/CN=kc'),
    line('R', '270101000000Z', '260301120000Z,KEYCOMPROMISE', '04', 'unknown', '/CN=case'),
    line('R', '270101000000Z', '260301120000Z,keyTime,20260215080000Z', '05', 'unknown', '/CN=keytime'),
    line('R', '270101000000Z', '260301120000Z,CAkeyTime,260210000000Z', '06', 'unknown', '/CN=cakeytime'),
    line('R', '270101000000Z', '260301120000Z,superseded', '07', 'unknown', '/CN=sup'),
    line('R', '270101000000Z', '260301120000Z,holdInstruction,1.2.840.10040.2.2', '08', 'unknown', '/CN=hold'),
    line('E', '20510101000000Z', '', 'A1B2C3D4E5F60718293A4B5C6D7E8F90', 'unknown', '/CN=gen'),
    '',
  ].join('\n');
  const e = parseIndexTxt(text, F);
  assert.equal(e.length, 9);
  assert.deepEqual(e.map((x) => x.status), ['V', 'R', 'R', 'R', 'R', 'R', 'R', 'R', 'E']);
  assert.equal(e[0]!.expires.toISOString(), '2027-01-01T00:00:00.000Z');
  assert.equal(e[0]!.subject, '/O=Ex/CN=www');
  assert.equal(e[0]!.revocation, undefined);
  assert.deepEqual([e[1]!.revocation!.date.toISOString(), e[1]!.revocation!.reason], ['2026-03-01T12:00:00.000Z', 'unspecified']);
  assert.equal(e[2]!.revocation!.reason, 'keyCompromise');
  assert.equal(e[3]!.revocation!.reason, 'keyCompromise', 'reasons compare case-insensitively, as unpack_revinfo');
  assert.equal(e[4]!.revocation!.reason, 'keyCompromise');
  assert.equal(e[4]!.revocation!.invalidityDate!.toISOString(), '2026-02-15T08:00:00.000Z');
  assert.equal(e[5]!.revocation!.reason, 'cACompromise');
  assert.equal(e[5]!.revocation!.invalidityDate!.toISOString(), '2026-02-10T00:00:00.000Z');
  assert.equal(e[6]!.revocation!.reason, 'superseded');
  assert.equal(e[7]!.revocation!.reason, 'certificateHold');
  assert.equal(e[8]!.expires.toISOString(), '2051-01-01T00:00:00.000Z', 'GeneralizedTime from 2050');
  // A serial with the top bit set is the DER INTEGER content with a leading zero octet.
  assert.equal(e[8]!.serialHex, '00A1B2C3D4E5F60718293A4B5C6D7E8F90');
  assert.equal(e[8]!.line, 9);
});

test('index.txt: each malformed line is refused with its line number', () => {
  const good = line('V', '270101000000Z', '', '01', 'unknown', '/CN=ok');
  const cases: [string, RegExp][] = [
    [line('X', '270101000000Z', '', '02', 'unknown', '/CN=x'), /:2: unknown status letter "X"/],
    [line('V', '270101000000Z', '', 'ZZ', 'unknown', '/CN=x'), /:2: serial "ZZ" is not hexadecimal/],
    [line('V', '270101000000Z', '', '00', 'unknown', '/CN=x'), /:2: serial 0/],
    [line('V', '270101000000Z', '', '01'.repeat(22), 'unknown', '/CN=x'), /:2: serial .* longer than 20 octets/],
    [line('V', '270101000000Z', '', '02'), /:2: 4 TAB-separated fields, OpenSSL writes 6/],
    [line('V', '2701010000Z', '', '02', 'unknown', '/CN=x'), /:2: expiry "2701010000Z" is not an ASN.1 time/],
    [line('V', '271301000000Z', '', '02', 'unknown', '/CN=x'), /:2: expiry "271301000000Z"/],
    [line('R', '270101000000Z', '', '02', 'unknown', '/CN=x'), /:2: status R without a revocation time/],
    [line('V', '270101000000Z', '260301120000Z', '02', 'unknown', '/CN=x'), /:2: status V with a revocation field/],
    [line('R', '270101000000Z', '260301120000Z,stolen', '02', 'unknown', '/CN=x'), /:2: unknown revocation reason "stolen"/],
    [line('R', '270101000000Z', '260301120000Z,keyTime', '02', 'unknown', '/CN=x'), /:2: "keyTime" needs a compromise time/],
    [line('R', '270101000000Z', '260301120000Z,keyTime,yesterday', '02', 'unknown', '/CN=x'), /:2: compromise time "yesterday"/],
    [line('R', '270101000000Z', '260301120000Z,holdInstruction', '02', 'unknown', '/CN=x'), /:2: holdInstruction needs an OID/],
    [line('R', '270101000000Z', 'soon,superseded', '02', 'unknown', '/CN=x'), /:2: revocation time "soon"/],
    [line('R', '270101000000Z', '260301120000Z,superseded,extra', '02', 'unknown', '/CN=x'), /:2: unexpected text after the reason/],
    [line('V', '270101000000Z', '', '02', 'unknown', 'CN=x'), /:2: subject "CN=x" is not in OpenSSL's/],
    ['', /:2: empty line/],
  ];
  for (const [bad, re] of cases) {
    assert.throws(
      () => parseIndexTxt(`${good}\n${bad}\n${good.replace('01', '03')}\n`, F),
      (e: unknown) => e instanceof CardcaError && e.code === 'ADOPT_INDEX_MALFORMED' && re.test(e.message) && e.message.startsWith(F) && (e.details as { line: number }).line === 2,
      `${JSON.stringify(bad)} → ${re}`,
    );
  }
});

test('ASN.1 time text: UTCTime pivot of RFC 5280 §4.1.2.5.1, GeneralizedTime, no roll-over', () => {
  assert.equal(parseAsn1TimeText('491231235959Z')!.toISOString(), '2049-12-31T23:59:59.000Z');
  assert.equal(parseAsn1TimeText('500101000000Z')!.toISOString(), '1950-01-01T00:00:00.000Z');
  assert.equal(parseAsn1TimeText('20500101000000Z')!.toISOString(), '2050-01-01T00:00:00.000Z');
  assert.equal(parseAsn1TimeText('260230000000Z'), undefined, '30 February');
  assert.equal(parseAsn1TimeText('260101000000'), undefined, 'no Z');
});

test('serial and crlnumber files: one hex number, else refused naming the file', () => {
  assert.equal(parseNumberFile('1A\n', '/ca/crlnumber'), 26n);
  assert.equal(parseNumberFile('0f3e\n', '/ca/serial'), 0xf3en);
  assert.throws(() => parseNumberFile('next\n', '/ca/crlnumber'), (e: unknown) => e instanceof CardcaError && e.code === 'ADOPT_NUMBER_FILE_MALFORMED' && /^\/ca\/crlnumber:1: "next"/.test(e.message));
  assert.throws(() => parseNumberFile('', '/ca/serial'), (e: unknown) => e instanceof CardcaError && e.code === 'ADOPT_NUMBER_FILE_MALFORMED');
  assert.equal(serialHexOf(0x7fn), '7F');
  assert.equal(serialHexOf(0x80n), '0080');
});
