import type { CommandModule } from 'yargs';
import { withHome, type HomeArgs } from '../command-options.js';
import type { CliContext } from '../context.js';

export interface StatusArgs extends HomeArgs {
  json: boolean;
  check: boolean;
  'warn-days': number;
  'alarm-days': number;
}

/** `ca status [--json] [--check]`. */
/** Days before a CA certificate's end at which `ca status` warns, and alarms (--warn-days, --alarm-days defaults). */
export const WARN_DAYS = 30;
export const ALARM_DAYS = 7;

/** `ca status`: the definition (what `ca status --help` loads); the handler and the report are status-run.ts. */
export function statusCommand(ctx: CliContext): CommandModule<object, StatusArgs> {
  return {
    command: 'status',
    describe: 'Per CA: card and key, certificate validity, CRL freshness, certificate counts',
    builder: (y) =>
      withHome(y)
        .option('json', { type: 'boolean', default: false, describe: 'JSON output (no colour)' })
        .option('warn-days', { type: 'number', default: WARN_DAYS, describe: 'warn when a CA certificate has this many days left or fewer (CRLs follow their profile\'s crl.overlap)' })
        .option('alarm-days', { type: 'number', default: ALARM_DAYS, describe: 'alarm when a CA certificate has this many days left or fewer' })
        .option('check', { type: 'boolean', default: false, describe: 'exit 0 ok, 1 warn (STATUS_WARN), 2 alarm (STATUS_ALARM): the monitoring-plugin convention' })
        .example('$0 status', 'human summary; colour only on a terminal (NO_COLOR honoured)')
        .example('$0 status --json | jq \'.cas[] | {name, crl: .crl.daysToNextUpdate}\'', 'machine-readable')
        .example('$0 status --check || mail -s "CA needs attention" ops@example.test', 'cron: non-zero exit on warn (1) or alarm (2)')
        .epilogue(
          `Levels: a CA certificate alarms at ≤ ${ALARM_DAYS} days left (--alarm-days) or expired, warns at ≤ ${WARN_DAYS} days (--warn-days). ` +
            "A CRL warns inside its profile's crl.overlap window (the next one is due: `ca crl --due`) and alarms in the last quarter " +
            'of that window, when expired, or when the CA has none; a freshly signed CRL is ok. Reserved/outcome-unknown certificates warn. ' +
            'Exit status is 0 even with warnings and alarms, unless --check is given: then 1 on warn (STATUS_WARN), 2 on alarm (STATUS_ALARM).',
        ) as never,
    handler: async (args) => (await import('./status-run.js')).runStatus(ctx, args),
  };
}
