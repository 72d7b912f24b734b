// status-thread-probe.ts reads where a pcsclite status thread is from /proc/self/task/TID/syscall;
// status-thread-stop.ts stops the thread only once it is seen in pcsc-lite's cancellable wait.
// The syscall lines below are of the form the kernel prints (proc(5)), the first one as read on
// the rig from a status thread after its first status (pcsc-lite 1.9.9, x86-64).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { placeFromSyscall, statusThreadPlace, threadStartedBy } from '../../../src/card/transport/status-thread-probe.js';
import { stopStatusThread } from '../../../src/card/transport/status-thread-stop.js';
import type { StatusThreadPlace } from '../../../src/card/transport/status-thread-probe.js';

const tail = '0x0 0x0 0x0 0x7f8950fbab90 0x7f8979b1a26f';

test('placeFromSyscall: poll with a 1–60,000 ms timeout is the cancellable wait; poll without one, other calls and running are busy', () => {
  assert.equal(placeFromSyscall(`7 0x7f8950fbabd8 0x1 0xea60 ${tail}`, 'x64'), 'cancellable');
  assert.equal(placeFromSyscall(`7 0x7f8950fbabd8 0x1 0xea5f ${tail}`, 'x64'), 'cancellable', 'a later 60 s turn polls for what is left of it');
  assert.equal(placeFromSyscall(`7 0x7f8950fbabd8 0x1 0x1 ${tail}`, 'x64'), 'cancellable');
  // MessageReceive and MessageSend poll with -1: printed as the unsigned register.
  assert.equal(placeFromSyscall(`7 0x7f8950fbabd8 0x1 0xffffffffffffffff ${tail}`, 'x64'), 'busy');
  assert.equal(placeFromSyscall(`7 0x7f8950fbabd8 0x1 0xffffffff ${tail}`, 'x64'), 'busy');
  assert.equal(placeFromSyscall(`7 0x7f8950fbabd8 0x1 0x0 ${tail}`, 'x64'), 'busy');
  assert.equal(placeFromSyscall(`7 0x7f8950fbabd8 0x1 0xea61 ${tail}`, 'x64'), 'busy', 'longer than pcsc-lite ever waits');
  assert.equal(placeFromSyscall(`202 0x7f8950fbabd8 0x80 0x0 ${tail}`, 'x64'), 'busy', 'futex');
  assert.equal(placeFromSyscall('running', 'x64'), 'busy');
  assert.equal(placeFromSyscall('-1 0x7f8950fbab90 0x7f8979b1a26f', 'x64'), 'busy');
  assert.equal(placeFromSyscall('', 'x64'), 'unknown');
});

test('placeFromSyscall: ppoll with a timeout is the wait, with a NULL timeout it is not; arm64 numbers; other architectures are unknown', () => {
  assert.equal(placeFromSyscall(`271 0x7f8950fbabd8 0x1 0x7f8950fbab00 ${tail}`, 'x64'), 'cancellable');
  assert.equal(placeFromSyscall(`271 0x7f8950fbabd8 0x1 0x0 ${tail}`, 'x64'), 'busy');
  assert.equal(placeFromSyscall(`73 0xffff8950fbabd8 0x1 0xffff8950fbab00 ${tail}`, 'arm64'), 'cancellable');
  assert.equal(placeFromSyscall(`73 0xffff8950fbabd8 0x1 0x0 ${tail}`, 'arm64'), 'busy');
  assert.equal(placeFromSyscall(`7 0x7f8950fbabd8 0x1 0xea60 ${tail}`, 'arm64'), 'busy', '7 is not poll on arm64');
  assert.equal(placeFromSyscall(`7 0x7f8950fbabd8 0x1 0xea60 ${tail}`, 'ia32'), 'unknown');
});

test('statusThreadPlace on this process: the main thread reading is busy, a thread id that does not exist has ended', { skip: process.platform !== 'linux' }, () => {
  assert.equal(statusThreadPlace(String(process.pid)), 'busy');
  assert.equal(statusThreadPlace('999999999'), 'ended');
  const { result, tid } = threadStartedBy(() => 42);
  assert.equal(result, 42);
  assert.equal(tid, undefined, 'no thread started, none named');
});

/** A fake thread whose places come from a list (the last one repeats), and a close that records when. */
function fakeThread(places: StatusThreadPlace[]): { place: (tid: string) => StatusThreadPlace; closedAfterLooks: () => number | undefined; owner: { close(): void } } {
  let looks = 0;
  let closedAt: number | undefined;
  return {
    place: () => places[Math.min(looks++, places.length - 1)]!,
    closedAfterLooks: () => closedAt,
    owner: {
      close: () => {
        closedAt = looks;
      },
    },
  };
}

test('stopStatusThread: closes as soon as the thread is seen in its wait (no settle), or has ended', async () => {
  const t = fakeThread(['busy', 'busy', 'busy', 'cancellable']);
  const t0 = Date.now();
  await stopStatusThread(t.owner, Date.now(), { tid: '1', place: t.place, settleMs: 10_000 });
  assert.equal(t.closedAfterLooks(), 4, 'closed right after the look that saw the wait');
  assert.ok(Date.now() - t0 < 5000, 'the 10 s settle was not waited');
  const ended = fakeThread(['ended']);
  await stopStatusThread(ended.owner, Date.now(), { tid: '1', place: ended.place, settleMs: 10_000 });
  assert.equal(ended.closedAfterLooks(), 1);
});

test('stopStatusThread: without a thread id, or where /proc cannot tell, it waits the settle time; a thread that never reaches its wait is closed after the cap', async () => {
  for (const opts of [{}, { tid: '1', place: () => 'unknown' as const }]) {
    let closed = 0;
    const t0 = Date.now();
    await stopStatusThread({ close: () => (closed = Date.now()) }, t0, { settleMs: 80, ...opts });
    assert.ok(closed - t0 >= 75, `closed after ${closed - t0} ms, before the 80 ms settle`);
  }
  const stuck = fakeThread(['busy']);
  await stopStatusThread(stuck.owner, Date.now(), { tid: '1', place: stuck.place, reachWaitMs: 50, settleMs: 0 });
  assert.ok((stuck.closedAfterLooks() ?? 0) > 1, 'looked more than once, then closed');
});
