/**
 * `ca list --json` writes each row field by field (list-json.ts, issue #14 item 4): the bytes
 * must stay those of JSON.stringify(certJson(c), null, 2) indented inside the array, the format
 * docs/ examples and scripts parse. Fails on any difference in spacing, order, escaping or null.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { certJsonInList } from '../../../src/cli/commands/list-json.js';
import { certJson } from '../../../src/cli/commands/list-run.js';
import type { CertificateSummary } from '../../../src/ca/store.js';

const base: CertificateSummary = {
  id: 1, issuerName: 'servers', serial: Uint8Array.of(1), serialHex: '01', status: 'issued', profile: 'tls-server',
  subject: 'CN=www.example.test', sans: ['dns:www.example.test'], notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2027-01-01T00:00:00.000Z',
  reservedAt: '2026-01-01T00:00:00.000Z', issuedAt: '2026-01-01T00:00:01.000Z', isCa: false, revocation: undefined,
};

const old = (c: CertificateSummary): string => `  ${JSON.stringify(certJson(c), null, 2).replace(/\n/g, '\n  ')}`;

test('every row is byte-identical to the indented JSON.stringify it replaces', () => {
  const rows: CertificateSummary[] = [
    base,
    { ...base, sans: [] },
    { ...base, sans: ['dns:a.example.test', 'ip:192.0.2.1', 'email:"quoted"\\back@example.test'] },
    { ...base, subject: 'CN=Zoë "the" \u2028 admin\n, O=Ünïcode\t\u0001', isCa: true, status: 'revoked', revocation: { date: '2026-02-01T00:00:00.000Z', reason: 'keyCompromise', recordedAt: '2026-02-02T00:00:00.000Z' } },
    { ...base, status: 'outcome_unknown', issuedAt: undefined },
    { ...base, issuerName: 'root', serialHex: '7F'.repeat(20), profile: 'sub-ca' },
  ];
  for (const c of rows) assert.equal(certJsonInList(c), old(c));
  // And the whole array parses back to the objects.
  const text = `[\n${rows.map(certJsonInList).join(',\n')}\n]`;
  assert.deepEqual(JSON.parse(text), rows.map((c) => certJson(c)));
});
