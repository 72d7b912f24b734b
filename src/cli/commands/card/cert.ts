import type { CommandModule } from 'yargs';
import type { CliContext } from '../../context.js';
import { cardCertReadCommand } from './cert-read.js';
import { cardCertWriteCommand } from './cert-write.js';

/** `ca card cert read|write`: certificates stored for keys on a card. */
export function cardCertCommand(ctx: CliContext): CommandModule<object, any> {
  return {
    command: 'cert <command>',
    describe: 'Certificates stored for keys on the card: read, write',
    builder: (y) => y
        .command(cardCertReadCommand(ctx) as CommandModule<object, any>)
        .command(cardCertWriteCommand(ctx) as CommandModule<object, any>)
        .demandCommand(1, 'Name a cert command: read or write.'),
    handler: () => undefined,
  };
}
