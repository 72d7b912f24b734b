import type { CommandModule } from 'yargs';
import { withHome, type HomeArgs } from '../command-options.js';
import type { CliContext } from '../context.js';

export interface ShowArgs extends HomeArgs {
  serial: string;
  issuer?: string;
  json: boolean;
  pem: boolean;
  text: boolean;
}

/** `ca show SERIAL`: one certificate's record (and PEM). */
export function showCommand(ctx: CliContext): CommandModule<object, ShowArgs> {
  return {
    command: 'show <serial>',
    describe: 'Show one certificate by serial',
    builder: (y) =>
      withHome(y)
        .positional('serial', { type: 'string', describe: 'serial number (hex, colons allowed)' })
        .option('issuer', { type: 'string', describe: 'issuing CA, if the serial is ambiguous' })
        .option('json', { type: 'boolean', default: false })
        .option('pem', { type: 'boolean', default: false, describe: 'print the certificate PEM' })
        .option('text', { type: 'boolean', default: false, describe: 'print the whole certificate, in the shape of `openssl x509 -text` (parsed by @peculiar/x509)' }) as never,
    handler: async (args) => (await import('./show-run.js')).runShow(ctx, args),
  };
}
