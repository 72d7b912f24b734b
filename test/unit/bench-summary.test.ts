/**
 * The closing summary of `npm run bench` (bench/helpers/summary.ts) must carry the scale bench's
 * table as that bench printed it: run.ts used to pick those lines out of the output by a pattern
 * that stopped matching when the scale bench switched to a Markdown table, so the CRL, status
 * and list figures of issue #14 were missing from the summary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addScaleLines, addSummaryRow, closingSummary, takeScaleLines, takeSummaryRows } from '../../bench/helpers/summary.js';

test('closingSummary: issue #14 rows, then every scale line as the scale bench printed it', () => {
  addSummaryRow({ figure: '`ca --help` (start-up)', cardca: '100.0 ms', peer: 'node -e 0: 80.0 ms', ratio: '1.25 × node -e 0', goal: '≤ 1.3 ×' });
  const table = ['| row | wall | CPU | peak RSS | goal | ratio |', '| --- | --- | --- | --- | --- | --- |', '| ca crl --issuer clients (1,000,001 entries, card signs) | 1309 ms | 1.31 s | 227 MB | ≤ 3 s, ≤ 300 MB | peer/cardca 4.93× wall |', '| ca status (2,000,001 certificates) | 225 ms | 0.21 s | 59 MB | ≤ 200 ms, ≤ 100 MB |  |', '', "openssl crl -verify of cardca's CRL against the clients CA: verify OK"];
  addScaleLines(table);
  const out = closingSummary('bench: head', takeSummaryRows(), takeScaleLines()).split('\n');
  assert.equal(out[0], 'bench: head');
  assert.ok(out.includes('| `ca --help` (start-up) | 100.0 ms | node -e 0: 80.0 ms | 1.25 × node -e 0 | ≤ 1.3 × |'));
  const at = out.indexOf('scale (bench/scale.ts):');
  assert.ok(at > 0);
  assert.deepEqual(out.slice(at + 1), table);
  assert.deepEqual(takeScaleLines(), [], 'taken once');
});
