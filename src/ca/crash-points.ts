/**
 * Named crash points of the issuance and CRL cycles, for the kill-point tests of the fault
 * model (ca-invariants.md §3.2 "Crash (SIGKILL) … at any other stage"). The engine only names
 * the point; what happens there is a hook the composition root passes in (src/cli/ca-context.ts
 * kills the process when `CA_CRASHPOINT` names the point). Without a hook this is a no-op, so
 * the engine stays free of `process` and of any test switch of its own.
 */
export const CRASH_POINTS = [
  /** TX1 committed (serial reserved, intent audited), card not yet asked. */
  'issuance-after-reserve',
  /** A batch row marked sent to the card (committed, with its group), the card not yet asked for it. */
  'issuance-after-sent',
  /** The card answered SIGN; nothing of it recorded yet (before TX2). */
  'issuance-after-sign',
  /** TX2 committed (issued; in a batch, with the next group marked sent); the certificate file not yet written. */
  'issuance-after-commit',
  /**
   * The CRL's TBS is durable (in its own file, migration 11), the transaction that reserves its
   * number not yet committed: a crash here leaves a file no row names, and no number reserved.
   */
  'crl-tbs-durable',
  /** CRL number reserved with its TBS, card not yet asked. */
  'crl-after-reserve',
  /** The card answered SIGN for the CRL; not yet recorded. */
  'crl-after-sign',
] as const;

export type CrashPointName = (typeof CRASH_POINTS)[number];

/** Called at every named point; returns normally unless it decides the process dies there. */
export type CrashHook = (point: CrashPointName) => void;

export function crashPoint(hook: CrashHook | undefined, point: CrashPointName): void {
  hook?.(point);
}
