import type { Argv } from 'yargs';

/** `--reader`, `--card`, `--trace-apdu`: shared by every `ca card` sub-command. */
export function withCardSelection<T>(y: Argv<T>): Argv<T> {
  return y
    .option('reader', { type: 'string', describe: 'PC/SC reader name (see `ca card list`)' })
    .option('card', { type: 'string', describe: 'card serial (every reader with a card is probed)' })
    .option('trace-apdu', { type: 'boolean', default: false, describe: 'print every APDU exchange to stderr (PINs redacted)' })
    .option('card-timeout', { type: 'number', describe: 'seconds one card exchange may take (default: 600 key generation, 60 signing, 30 other)' }) as Argv<T>;
}

export function withPinFile<T>(y: Argv<T>): Argv<T> {
  return y
    .option('pin-file', { type: 'string', describe: 'read the user PIN from the first line of FILE (automation); default: prompt' })
    .option('allow-last-pin-try', { type: 'boolean', default: false, describe: 'spend the last PIN try without the typed confirmation' }) as Argv<T>;
}
