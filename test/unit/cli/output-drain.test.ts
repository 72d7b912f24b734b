// src/cli/output-drain.ts: what `ca list` waits on between writes into a full stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { drained } from '../../../src/cli/output-drain.js';
import { CardcaError } from '../../../src/common/cardca-error.js';
import { exitCodeFor } from '../../../src/cli/exit-codes.js';

/** A stream that takes one chunk at a time and finishes it only when told. */
function slowStream(): { out: Writable; release: () => void } {
  let pending: (() => void) | undefined;
  const out = new Writable({ highWaterMark: 16, write: (_chunk, _enc, cb) => (pending = cb) });
  return { out, release: () => pending?.() };
}

test('drained: resolves on drain, not before; leaves no listeners behind', async () => {
  const { out, release } = slowStream();
  assert.equal(out.write('x'.repeat(64)), false, 'the stream is full');
  let done = false;
  const wait = drained(out).then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false, 'still waiting while the reader has not taken the chunk');
  release();
  await wait;
  assert.equal(done, true);
  for (const e of ['drain', 'error', 'close']) assert.equal(out.listenerCount(e), 0, e);
});

test('drained: a stream that fails or closes first rejects with OUTPUT_CLOSED, saying what to do', async () => {
  for (const end of ['error', 'close'] as const) {
    const { out } = slowStream();
    out.on('error', () => {});
    out.write('x'.repeat(64));
    const wait = drained(out);
    if (end === 'error') out.destroy(new Error('EPIPE'));
    else out.destroy();
    await assert.rejects(wait, (e: unknown) => {
      assert.ok(e instanceof CardcaError);
      assert.equal(e.code, 'OUTPUT_CLOSED');
      assert.match(e.hint ?? '', /Read the whole output|redirect it to a file/);
      assert.notEqual(exitCodeFor(e), 0);
      return true;
    }, end);
  }
});
