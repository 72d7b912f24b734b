/**
 * The CA-home lock survives power cuts and reboots (issue #8 item 7): the lock file is never
 * empty while held (created complete by link(2)), an empty one left by an older cardca is not a
 * lock after a moment, and a lock written in an earlier boot is stale even if its pid is alive
 * again (PID reuse after a reboot). A live holder still blocks with LOCK_HELD.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, currentBootId } from '../../../src/db/lock-file.js';
import { CardcaError } from '../../../src/common/cardca-error.js';

const dirOf = (): string => mkdtempSync(join(tmpdir(), 'cardca-lock2-'));
const code = (c: string) => (e: unknown) => e instanceof CardcaError && e.code === c;

test('a held lock file holds "pid boot-id" and nothing else is left in the directory', async () => {
  const dir = dirOf();
  const l = await acquireLock(join(dir, 'ca.lock'), 200);
  assert.equal(readFileSync(join(dir, 'ca.lock'), 'utf8'), `${process.pid} ${currentBootId()}\n`);
  assert.deepEqual(readdirSync(dir), ['ca.lock'], 'the temporary file is gone after the link');
  l.release();
  assert.deepEqual(readdirSync(dir), []);
});

test('an empty lock file (killed between create and write, power cut) is taken over after a moment', async () => {
  const dir = dirOf();
  const path = join(dir, 'ca.lock');
  writeFileSync(path, '');
  const old = new Date(Date.now() - 10_000);
  utimesSync(path, old, old);
  const l = await acquireLock(path, 500);
  assert.match(readFileSync(path, 'utf8'), new RegExp(`^${process.pid} `));
  l.release();
});

test('a fresh empty lock file is respected briefly (it may be an older cardca creating it)', async () => {
  const dir = dirOf();
  const path = join(dir, 'ca.lock');
  writeFileSync(path, '');
  await assert.rejects(acquireLock(path, 150), code('LOCK_HELD'));
});

test('a lock from an earlier boot is stale even when its pid is alive now (PID reuse after reboot)', async () => {
  const dir = dirOf();
  const path = join(dir, 'ca.lock');
  // process.ppid is alive: after a reboot a new process may well have the old holder's pid.
  writeFileSync(path, `${process.ppid} 00000000-0000-0000-0000-000000000000\n`);
  const l = await acquireLock(path, 500);
  l.release();
  // The same pid from this boot is a live holder: wait, then LOCK_HELD naming it.
  writeFileSync(path, `${process.ppid} ${currentBootId()}\n`);
  await assert.rejects(acquireLock(path, 200), (e: unknown) => code('LOCK_HELD')(e) && String((e as Error).message).includes(`pid ${process.ppid}`));
});
