import { CardcaError } from '../common/cardca-error.js';

/**
 * The single mapping from error codes to process exit codes. Scripts rely on these numbers;
 * add, never renumber. Codes are matched by their prefix (the part before the first `_`).
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  card: 3,
  pin: 4,
  rejected: 5,
  store: 6,
  config: 7,
  notFound: 8,
  timeout: 9,
  clock: 10,
  integrity: 11,
  exportRefused: 12,
  fileSystem: 13,
  checkpoint: 14,
} as const;

const PREFIX_TO_EXIT: Readonly<Record<string, number>> = {
  USAGE: EXIT.usage,
  CARD: EXIT.card,
  APDU: EXIT.card,
  READER: EXIT.card,
  PCSC: EXIT.card,
  EMULATOR: EXIT.card,
  DKEK: EXIT.card,
  PIV: EXIT.card,
  ATTESTATION: EXIT.card,
  PIN: EXIT.pin,
  PUK: EXIT.pin,
  SO: EXIT.pin, // SO_PIN_…: the SO-PIN is guarded (and reported) like the user PIN
  CSR: EXIT.rejected,
  POLICY: EXIT.rejected,
  LINT: EXIT.rejected,
  KEY: EXIT.rejected,
  REVOKE: EXIT.rejected,
  DB: EXIT.store,
  STORE: EXIT.store,
  LOCK: EXIT.store,
  PROFILE: EXIT.config,
  CONFIG: EXIT.config,
  HOME: EXIT.config,
  NOT: EXIT.notFound,
  UNKNOWN: EXIT.notFound,
  TIMEOUT: EXIT.timeout,
  CLOCK: EXIT.clock,
  AUDIT: EXIT.integrity,
  INTEGRITY: EXIT.integrity,
  EXPORT: EXIT.exportRefused,
  FS: EXIT.fileSystem,
  PROFILES: EXIT.config,
  CHECKPOINT: EXIT.checkpoint,
  ADOPT: EXIT.rejected,
};

/**
 * Whole codes with their own exit status, checked before the prefixes: `ca status --check`
 * follows the monitoring-plugin convention (Nagios/Icinga: 0 ok, 1 warning, 2 critical).
 */
const CODE_TO_EXIT: Readonly<Record<string, number>> = {
  STATUS_WARN: 1,
  STATUS_ALARM: 2,
};

export function exitCodeFor(err: unknown): number {
  if (err instanceof CardcaError) {
    const exact = CODE_TO_EXIT[err.code];
    if (exact !== undefined) return exact;
    if (err.code.endsWith('_TIMEOUT')) return EXIT.timeout;
    if (err.code.endsWith('_NOT_FOUND')) return EXIT.notFound;
    const prefix = err.code.split('_')[0] ?? '';
    return PREFIX_TO_EXIT[prefix] ?? EXIT.failure;
  }
  return EXIT.failure;
}
