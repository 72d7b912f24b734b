/**
 * Stopping one of the addon's status threads (a reader's `get_status` thread, or the reader
 * listing thread of the full scan) without hanging the process.
 *
 * The addon's `close()` (pcsclite 1.0.1, `cardreader.cpp` `CardReader::Close`, and the same loop
 * in `pcsclite.cpp` `PCSCLite::Close`) sets the thread's exit flag, calls `SCardCancel` up to five
 * times 10 ms apart, then joins the thread on the main thread. pcsc-lite honours `SCardCancel`
 * only while the other thread waits inside `SCardGetStatusChange` (winscard_clnt.c: the context is
 * `cancellable` only around its `MessageReceiveTimeout`); a cancel sent while that thread is on
 * its way there — after it checked the exit flag, while it re-reads the reader states from pcscd —
 * is dropped, the thread then waits with an infinite timeout, and the join blocks the event loop
 * until the reader's state changes, which for a card we hold may be never. Every event pcscd
 * signals about the reader (its first status, a card inserted or removed) and each 60-second
 * turn of the wait send the thread round that loop again. Seen on the rig: connect, one APDU,
 * disconnect, close, repeated under load, hung within a few hundred rounds (main thread in
 * `uv_thread_join`, status thread in `SCardGetStatusChange`); it was CI's hung test file.
 *
 * So a thread whose id is known (status-thread-probe.ts: a reader opened by name, and the full
 * scan's listing and reader threads) is stopped once it is seen in pcsc-lite's cancellable wait,
 * looked at every millisecond: the cancel then reaches it. That closes the race but for an event
 * that wakes the thread in the microseconds between the look and the cancel. Before, every
 * thread waited a fixed settle time after the last event we knew of, which only narrowed the
 * race (CI at stop 26 failed once, its message not kept, in the test that opens 250 sessions in
 * one process), and the settle cost a short command a wait at its end. A thread whose id could
 * not be told (two threads appeared between looks) or where /proc cannot tell still gets the
 * settle: `STATUS_THREAD_SETTLE_MS` after the last event that woke it.
 *
 * A reader's own thread is stopped before its card is disconnected. (Our connect and disconnect
 * do not wake it on pcsc-lite 1.9.9, status-thread-probe.ts; the order is kept for a pcscd that
 * signals sharing changes.)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { statusThreadPlace, type StatusThreadPlace } from './status-thread-probe.js';

/** Quiet time a status thread gets after an event before it is stopped, when its place is unknown. */
// 60 ms: connect, one APDU, disconnect and close, 1,500 times at load 7–8 on the 2-core rig,
// never hung (0 ms: the process never exited after 2,000).
export const STATUS_THREAD_SETTLE_MS = 60;

/**
 * How long a thread may take to reach its cancellable wait before it is stopped anyway (after
 * the settle). Longer means pcscd has not answered it for that long; the stop may then hang as
 * before, and nothing this side can prevent that.
 */
export const STATUS_THREAD_REACH_WAIT_MS = 5000;

/** Something with the addon's blocking `close()` of a status thread. */
export interface StatusThreadOwner {
  close(): unknown;
}

export interface StopStatusThreadOptions {
  /** The thread's id (status-thread-probe.ts `threadStartedBy`); without it, the settle only. */
  tid?: string;
  settleMs?: number;
  reachWaitMs?: number;
  now?: () => number;
  /** Where the thread is; status-thread-probe.ts by default (tests pass their own). */
  place?: (tid: string) => StatusThreadPlace;
}

/**
 * Stop the thread once it is in its cancellable wait (or has ended), when `tid` is given and
 * /proc can tell; otherwise once `settleMs` have passed since `lastWakeAt` (a `Date.now()`
 * reading from `now`). Errors from `close()` (already closed) are ignored.
 */
export async function stopStatusThread(
  owner: StatusThreadOwner,
  lastWakeAt: number,
  { tid, settleMs = STATUS_THREAD_SETTLE_MS, reachWaitMs = STATUS_THREAD_REACH_WAIT_MS, now = Date.now, place = statusThreadPlace }: StopStatusThreadOptions = {},
): Promise<void> {
  if (tid === undefined || !(await reachesWait(tid, reachWaitMs, now, place))) {
    const wait = lastWakeAt + settleMs - now();
    if (wait > 0) await sleep(wait);
  }
  try {
    owner.close();
  } catch {
    /* already closed */
  }
}

/** True once the thread is seen cancellable or ended; false when /proc cannot tell or it took too long. */
async function reachesWait(tid: string, reachWaitMs: number, now: () => number, place: (tid: string) => StatusThreadPlace): Promise<boolean> {
  const deadline = now() + reachWaitMs;
  for (;;) {
    const p = place(tid);
    if (p === 'cancellable' || p === 'ended') return true;
    if (p === 'unknown' || now() >= deadline) return false;
    await sleep(1);
  }
}
