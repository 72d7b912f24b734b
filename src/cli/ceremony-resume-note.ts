import type { CaContext } from './ca-context.js';
import { eprintln, type CliContext } from './context.js';
import { CardcaError } from '../common/cardca-error.js';

/**
 * After a ceremony failed past binding its key (issue #8 item 5), the operator is told on the
 * spot that the ceremony is finished with `--resume`, not only on the next plain re-run
 * (CA_EXISTS): the failure's own hint is about its cause (a card, a PIN), not about the ceremony.
 */
export function printResumeNote(ctx: CliContext, ca: CaContext, kind: 'root' | 'subca', caName: string, error: unknown): void {
  if (error instanceof CardcaError && (error.code === 'CA_EXISTS' || error.code === 'CA_NOTHING_TO_RESUME')) return;
  const rec = ca.store.getCa(caName);
  if (!rec || rec.certificate) return;
  const again = kind === 'root' ? 'ca ceremony root --resume' : `ca ceremony subca ${caName} --resume`;
  eprintln(
    ctx,
    `note: the ${kind === 'root' ? 'root' : 'sub-CA'} ceremony of ${caName} did not finish: key ${rec.keyId} on card ${rec.cardSerial} is bound, no CA certificate is recorded yet. ` +
      `After fixing the cause below, finish it with \`${again}\` (same card and PIN options); it re-uses that key and signs or attaches the certificate.`,
  );
}
