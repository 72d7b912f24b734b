/**
 * Reads of the audit log by event use migration 12's index (event, seq) where they look for a
 * few records, and a backwards table walk where they stop early: EXPLAIN QUERY PLAN of each query
 * (https://sqlite.org/eqp.html), and the rows each returns on a log of many records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../../src/db/database.js';
import { SqliteStore } from '../../../src/db/sqlite-store.js';
import { NEWEST_PROFILE_PIN_SQL, RECORDS_OF_EVENT_SQL, SENT_OR_INTENT_NEWEST_FIRST_SQL } from '../../../src/db/audit-by-event.js';

function storeWithLog(): SqliteStore {
  const path = join(mkdtempSync(join(tmpdir(), 'cardca-audit-by-event-')), 'ca.db');
  const s = new SqliteStore(openDatabase(path, { create: true }));
  const at = new Date('2026-11-01T10:00:00.000Z');
  s.db.transaction(() => {
    s.audit({ event: 'ca.init', data: { profilesSha256: 'aa' } }, at);
    for (let i = 0; i < 300; i++) {
      s.audit({ event: 'certificate.intent', ca: 'servers', data: { serial: `0${i}` } }, at);
      s.audit({ event: 'certificate.sent', ca: 'servers', data: { serial: `0${i}` } }, at);
      if (i === 100) s.audit({ event: 'profiles.accepted', data: { profilesSha256: 'bb' } }, at);
      if (i % 50 === 0) s.audit({ event: 'checkpoint.written', data: { card: 'C', auditSeq: i } }, at);
    }
  })();
  return s;
}

const plan = (s: SqliteStore, sql: string, ...args: unknown[]): string =>
  (s.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail).join('; ');

test('the newest profile pin and the records of one event are searched in the event index, not scanned', () => {
  const s = storeWithLog();
  for (const [sql, args] of [[NEWEST_PROFILE_PIN_SQL, []], [RECORDS_OF_EVENT_SQL, ['checkpoint.written']]] as const) {
    const p = plan(s, sql, ...args);
    assert.match(p, /SEARCH audit_log USING (COVERING )?INDEX audit_log_by_event \(event=\?/, `${sql}: ${p}`);
    assert.doesNotMatch(p, /SCAN audit_log/, `${sql}: ${p}`);
  }
  const pin = s.db.prepare(NEWEST_PROFILE_PIN_SQL).get() as { data: string };
  assert.equal(JSON.parse(pin.data).profilesSha256, 'bb');
  assert.deepEqual((s.db.prepare(RECORDS_OF_EVENT_SQL).all('checkpoint.written') as { data: string }[]).map((r) => JSON.parse(r.data).auditSeq), [0, 50, 100, 150, 200, 250]);
});

test('the sent/intent tail walks the table backwards (no sort of every intent of the log first)', () => {
  const s = storeWithLog();
  const p = plan(s, SENT_OR_INTENT_NEWEST_FIRST_SQL);
  assert.match(p, /^SCAN audit_log$/, p);
  const first = s.db.prepare(SENT_OR_INTENT_NEWEST_FIRST_SQL).iterate() as IterableIterator<{ event: string; data: string }>;
  const a = first.next().value!;
  first.return?.();
  assert.equal(a.event, 'certificate.sent');
  assert.equal(JSON.parse(a.data).serial, '0299');
});
