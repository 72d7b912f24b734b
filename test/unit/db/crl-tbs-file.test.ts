/**
 * Migration 11 (issue #14 item 3): the TBS of a CRL is a file of its own beside the database,
 * fsynced inside the intent's transaction before it commits, instead of a 49 MB SQLite insert.
 * What must hold: the file is exactly the TBS the row's tbs_sha256 names; a changed, truncated or
 * missing file is refused on read and named by `ca db check`, never served; a backup carries
 * every TBS inside itself; a transaction that rolls back leaves no row naming a file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase } from '../../../src/db/database.js';
import { SqliteStore } from '../../../src/db/sqlite-store.js';
import { checkDatabase } from '../../../src/db/db-check.js';
import { copyCrlTbsFilesInto } from '../../../src/db/crl-tbs-file.js';
import { issueCrl } from '../../../src/ca/crl-cycle.js';
import type { Clock } from '../../../src/ca/clock.js';
import { CardcaError } from '../../../src/common/cardca-error.js';
import { revokedSubCa } from '../../helpers/revoked-sub-ca.js';

const code = (c: string) => (e: unknown) => e instanceof CardcaError && e.code === c;
const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

let now = new Date('2026-11-20T09:00:00.000Z');
const clock: Clock = { now: () => (now = new Date(now.getTime() + 1000)) };

/** A sub-CA `servers` with one revoked certificate and one issued CRL, in a home on disk. */
async function rig() {
  const { dir, store, info, signer } = await revokedSubCa('cardca-crl-tbs-file-', clock, ['a.example.test']);
  const crl = await issueCrl({ store, clock, signer, issuerName: 'servers', issuer: info });
  const file = join(dir, 'crl-tbs', `${crl.record.id}-${Buffer.from(crl.record.tbsSha256).toString('hex')}.tbs`);
  return { dir, store, info, signer, crl, file };
}

const reopen = (dir: string) => new SqliteStore(openDatabase(join(dir, 'ca.db')));

test('the TBS is in its own file, not in crl_tbs, and a fresh open reads the same CRL back', async () => {
  const r = await rig();
  assert.equal((r.store.db.prepare('SELECT count(*) FROM crl_tbs WHERE crl_id = ?').pluck().get(r.crl.record.id) as number), 0);
  assert.equal(r.store.db.prepare('SELECT length FROM crl_tbs_files WHERE crl_id = ?').pluck().get(r.crl.record.id), r.crl.record.tbs.length);
  const onDisk = readFileSync(r.file);
  assert.deepEqual(sha256(onDisk), Buffer.from(r.crl.record.tbsSha256));
  assert.ok(Buffer.from(r.crl.der).includes(onDisk));
  r.store.db.close();
  const fresh = reopen(r.dir);
  assert.deepEqual(Buffer.from(fresh.latestCrl('servers', 'issued')!.der!), Buffer.from(r.crl.der));
  assert.deepEqual(checkDatabase(fresh).problems, []);
  fresh.db.close();
});

test('a changed, truncated or missing TBS file is refused on read and named by db check', async () => {
  const r = await rig();
  r.store.db.close();
  const good = readFileSync(r.file);
  for (const [what, damage] of [
    ['changed', () => writeFileSync(r.file, Buffer.from(good).fill(0x55, 20, 21))],
    ['truncated', () => writeFileSync(r.file, good.subarray(0, good.length - 1))],
    ['missing', () => rmSync(r.file)],
  ] as const) {
    damage();
    const s = reopen(r.dir);
    const crl = s.latestCrl('servers', 'issued')!;
    assert.throws(() => crl.der, code(what === 'missing' ? 'STORE_CRL_TBS_MISSING' : 'STORE_CRL_TBS_MISMATCH'), what);
    const problems = checkDatabase(s).problems;
    assert.ok(problems.some((p) => p.what === `CRL servers #${crl.crlNumber}` && /TBS/.test(p.message)), `${what}: ${JSON.stringify(problems)}`);
    s.db.close();
    writeFileSync(r.file, good);
  }
  const s = reopen(r.dir);
  assert.deepEqual(checkDatabase(s).problems, []);
  s.db.close();
});

test('a backup carries every TBS in its own crl_tbs and reads without the crl-tbs directory', async () => {
  const r = await rig();
  const elsewhere = mkdtempSync(join(tmpdir(), 'cardca-crl-tbs-backup-'));
  const copy = join(elsewhere, 'ca.db');
  await r.store.db.backup(copy);
  const b = new Database(copy, { fileMustExist: true });
  assert.equal(copyCrlTbsFilesInto(b, (id, h) => r.store.crlTbs(id, h)), 1);
  b.close();
  assert.equal(existsSync(join(elsewhere, 'crl-tbs')), false);
  const s = new SqliteStore(openDatabase(copy));
  assert.deepEqual(Buffer.from(s.latestCrl('servers', 'issued')!.der!), Buffer.from(r.crl.der));
  assert.deepEqual(checkDatabase(s).problems, []);
  s.db.close();
});

test('an intent transaction that rolls back leaves no row and removes its TBS file', async () => {
  const r = await rig();
  const before = readdirSync(join(r.dir, 'crl-tbs')).sort();
  const rows = () => r.store.db.prepare('SELECT count(*) FROM crls').pluck().get() as number;
  const n = rows();
  // The audit record is built after the file is written, inside the same transaction.
  assert.throws(() =>
    r.store.reserveCrl(
      'servers',
      () => ({ tbs: Uint8Array.of(0x30, 0), tbsSha256: sha256(Uint8Array.of(0x30, 0)), thisUpdate: now, nextUpdate: new Date(now.getTime() + 1000), entries: 0 }),
      () => {
        throw new Error('audit failed');
      },
      clock.now(),
    ),
  /audit failed/);
  assert.equal(rows(), n);
  assert.deepEqual(readdirSync(join(r.dir, 'crl-tbs')).sort(), before);
});

test('orphans: TBS files no row names are listed, and the next reservation removes them (not other files)', async () => {
  const r = await rig();
  const tbsDir = join(r.dir, 'crl-tbs');
  // What a crash between a TBS file's fsync and its commit leaves (the next row id, any hash),
  // one under a committed row's id with another hash, and a file that is not a TBS file at all.
  const next = `${r.crl.record.id + 1}-${'ab'.repeat(32)}.tbs`;
  const sameId = `${r.crl.record.id}-${'cd'.repeat(32)}.tbs`;
  for (const f of [next, sameId, 'README']) writeFileSync(join(tbsDir, f), 'x');
  assert.deepEqual(r.store.orphanCrlTbsFiles(), [next, sameId, 'README'].sort());
  assert.deepEqual(checkDatabase(r.store).problems, [], 'harmless: a note, not a problem');
  const second = await issueCrl({ store: r.store, clock, signer: r.signer, issuerName: 'servers', issuer: r.info });
  assert.deepEqual(r.store.orphanCrlTbsFiles(), ['README']);
  assert.ok(existsSync(r.file), 'the committed CRL keeps its file');
  assert.ok(existsSync(join(tbsDir, `${second.record.id}-${Buffer.from(second.record.tbsSha256).toString('hex')}.tbs`)));
  r.store.db.close();
});
