import type { CommandModule } from 'yargs';
import type { CliContext } from '../../context.js';
import { cardCertCommand } from './cert.js';
import { cardDeleteKeyCommand } from './delete-key.js';
import { cardDkekCommand } from './dkek.js';
import { cardAttestCommand } from './attest.js';
import { cardInitCommand } from './init.js';
import { cardKeygenCommand } from './keygen.js';
import { cardListCommand } from './list.js';
import { cardPinCommand } from './pin.js';
import { cardStatusCommand } from './status.js';

/** `ca card …`: smart-card administration (list, status, init, keygen, pin). */
export function cardCommand(ctx: CliContext): CommandModule<object, any> {
  return {
    command: 'card <command>',
    describe: 'Smart-card administration: list, status, init, keygen, pin change|unblock|change-puk, attest',
    builder: (y) =>
      y
        .command(cardListCommand(ctx) as CommandModule<object, any>)
        .command(cardStatusCommand(ctx) as CommandModule<object, any>)
        .command(cardInitCommand(ctx) as CommandModule<object, any>)
        .command(cardKeygenCommand(ctx) as CommandModule<object, any>)
        .command(cardPinCommand(ctx) as CommandModule<object, any>)
        .command(cardCertCommand(ctx) as CommandModule<object, any>)
        .command(cardDeleteKeyCommand(ctx) as CommandModule<object, any>)
        .command(cardDkekCommand(ctx) as CommandModule<object, any>)
        .command(cardAttestCommand(ctx) as CommandModule<object, any>)
        .demandCommand(1, 'Name a card command; `ca card --help` lists them.')
        .example('$0 card list', 'what is in every reader'),
    handler: () => undefined,
  };
}
