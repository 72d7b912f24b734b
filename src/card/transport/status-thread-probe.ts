/**
 * Where a pcsclite status thread is, read from Linux's /proc, so that it is stopped only while
 * pcsc-lite can cancel it (status-thread-stop.ts says why that matters: a cancel sent at any
 * other moment is dropped and the addon's `close()` then joins a thread that never ends).
 *
 * pcsc-lite (winscard_clnt.c `SCardGetStatusChange`) sets `cancellable` only around its one
 * wait for an event, `MessageReceiveTimeout(CMD_WAIT_READER_STATE_CHANGE, …)`, which is a
 * `poll()` on the pcscd socket with a finite timeout: an INFINITE wait is taken in 60-second
 * turns (winscard_msg.c, `poll(&read_fd, 1, delta)`). Every other step of the call — sending a
 * request, reading pcscd's answer (`MessageReceive`) — polls with no timeout (-1) and is not
 * cancellable. So a thread seen in `poll` with a timeout from 1 to 60,000 ms is in the
 * cancellable wait; seen anywhere else, it is on its way there. strace on the rig (pcsc-lite
 * 1.9.9): after its first status the thread sits in `poll([{fd, POLLIN}], 1, 60000)`; our own
 * connect and disconnect do not wake it.
 *
 * `/proc/self/task/TID/syscall` (proc(5)): the number of the system call the thread is blocked
 * in and its arguments, `running`, or `-1 …` when blocked outside a system call. A process may
 * read it for its own threads. Elsewhere (no /proc, another architecture) the answer is
 * `unknown` and the caller falls back to waiting a settle time.
 */
import { readdirSync, readFileSync } from 'node:fs';

export type StatusThreadPlace = 'cancellable' | 'busy' | 'ended' | 'unknown';

/** pcsc-lite's longest single wait: INFINITE is taken as 60 s turns (winscard_clnt.c). */
const PCSC_WAIT_TURN_MS = 60_000;

/**
 * System call numbers of poll and ppoll (Linux `arch/x86/entry/syscalls/syscall_64.tbl`:
 * poll 7, ppoll 271; `include/uapi/asm-generic/unistd.h`, used by arm64: ppoll 73, no poll).
 */
const POLL_CALLS: Readonly<Partial<Record<NodeJS.Architecture, { poll?: number; ppoll: number }>>> = {
  x64: { poll: 7, ppoll: 271 },
  arm64: { ppoll: 73 },
};

/**
 * Where the thread is, from the text of its `/proc/self/task/TID/syscall`. Pure, for tests.
 * `poll(fds, nfds, timeout_ms)`: cancellable when 0 < timeout ≤ 60,000. `ppoll(fds, nfds,
 * tmo_p, …)` (glibc may implement poll with it): cancellable when `tmo_p` is not NULL, as the
 * wait without a timeout passes NULL.
 */
export function placeFromSyscall(text: string, arch: NodeJS.Architecture = process.arch): StatusThreadPlace {
  const calls = POLL_CALLS[arch];
  if (!calls) return 'unknown';
  const fields = text.trim().split(/\s+/);
  if (fields[0] === 'running' || fields[0] === '-1') return 'busy';
  const nr = Number(fields[0]);
  if (!Number.isInteger(nr) || fields.length < 4) return 'unknown';
  if (nr === calls.poll) {
    // The argument is printed as an unsigned register; the timeout is a C int.
    const timeout = BigInt.asIntN(32, BigInt(fields[3]!));
    return timeout > 0n && timeout <= BigInt(PCSC_WAIT_TURN_MS) ? 'cancellable' : 'busy';
  }
  if (nr === calls.ppoll) return BigInt(fields[3]!) !== 0n ? 'cancellable' : 'busy';
  return 'busy';
}

/** Where the thread `tid` of this process is now. */
export function statusThreadPlace(tid: string): StatusThreadPlace {
  if (!POLL_CALLS[process.arch]) return 'unknown';
  let text: string;
  try {
    text = readFileSync(`/proc/self/task/${tid}/syscall`, 'utf8');
  } catch (e) {
    // The thread has exited (its task directory is gone): nothing left to cancel.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ESRCH') return 'ended';
    return 'unknown';
  }
  return placeFromSyscall(text);
}

/**
 * Names the threads of this process that appear between looks, one at a time: for threads that
 * pcsclite's own JavaScript starts (the full scan's listing thread in `start()`, a reader's in
 * `get_status()` just before it emits `reader`), where no call of ours surrounds the start.
 */
export class NewThreads {
  private known = taskIds();

  /** The one thread started since the last look (or construction); `undefined` if none or several. */
  next(): string | undefined {
    const now = taskIds();
    const before = this.known;
    this.known = now;
    if (!before || !now) return undefined;
    const fresh = [...now].filter((t) => !before.has(t));
    return fresh.length === 1 ? fresh[0] : undefined;
  }
}

/**
 * Run `start` (which starts one native thread, as the addon's `get_status` does before it
 * returns) and name the thread it started: the one task of this process that was not there
 * before. `undefined` when /proc cannot be read or not exactly one thread appeared.
 */
export function threadStartedBy<T>(start: () => T): { result: T; tid: string | undefined } {
  const threads = new NewThreads();
  const result = start();
  return { result, tid: threads.next() };
}

function taskIds(): Set<string> | undefined {
  try {
    return new Set(readdirSync('/proc/self/task'));
  } catch {
    return undefined;
  }
}
