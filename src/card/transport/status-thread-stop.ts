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
 * signals about the reader (its first status, our own connect and disconnect) sends the thread
 * round that loop again. Seen on the rig: connect, one APDU, disconnect, close, repeated under
 * load, hung within a few hundred rounds (main thread in `uv_thread_join`, status thread in
 * `SCardGetStatusChange`); it was CI's hung test file.
 *
 * So a thread is stopped only once it has had `STATUS_THREAD_SETTLE_MS` since the last event that
 * woke it, and a reader's own thread is stopped before its card is disconnected, never right
 * after. This narrows the race to a thread that needs longer than the settle time plus the
 * addon's 50 ms of retries for one round trip to pcscd; it cannot close it (only a change in the
 * addon could), as docs/README.md "The test rig" says.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Quiet time a status thread gets after an event before it is stopped. */
// 60 ms: connect, one APDU, disconnect and close, 1,500 times at load 7–8 on the 2-core rig,
// never hung (0 ms: the process never exited after 2,000). Paid only by a command whose card
// work is shorter than this (one `ca sign`: about 20 ms).
export const STATUS_THREAD_SETTLE_MS = 60;

/** Something with the addon's blocking `close()` of a status thread. */
export interface StatusThreadOwner {
  close(): unknown;
}

/**
 * Wait until `settleMs` have passed since `lastWakeAt` (a `performance.now()` or `Date.now()`
 * reading from `now`), then stop the thread. Errors from `close()` (already closed) are ignored.
 */
export async function stopStatusThread(
  owner: StatusThreadOwner,
  lastWakeAt: number,
  { settleMs = STATUS_THREAD_SETTLE_MS, now = Date.now }: { settleMs?: number; now?: () => number } = {},
): Promise<void> {
  const wait = lastWakeAt + settleMs - now();
  if (wait > 0) await sleep(wait);
  try {
    owner.close();
  } catch {
    /* already closed */
  }
}
