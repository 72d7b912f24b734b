import type { Writable } from 'node:stream';
import { CliError } from './cli-error.js';

/**
 * Resolves once `out` has written what it had queued (its `drain` after a `write` that returned
 * false). A command that streams many rows waits on this between writes, so that a pipe read
 * slowly (`ca list --json | jq`) holds back the command instead of growing its memory by the
 * whole output. No timeout: a reader that pauses (`| less`) may take as long as it likes, as a
 * blocking write would. Rejects with OUTPUT_CLOSED if the stream fails or closes first.
 */
export function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const finish = (err?: unknown): void => {
      out.off('drain', onDrain);
      out.off('error', onError);
      out.off('close', onClose);
      if (err === undefined) resolve();
      else reject(new CliError('OUTPUT_CLOSED', 'the output was closed before the command had written everything', { hint: 'Read the whole output (or redirect it to a file) and run the command again.', cause: err }));
    };
    const onDrain = (): void => finish();
    const onError = (e: unknown): void => finish(e);
    const onClose = (): void => finish(new Error('closed'));
    out.on('drain', onDrain);
    out.on('error', onError);
    out.on('close', onClose);
  });
}
