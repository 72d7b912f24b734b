import type { PinStatus } from '../../../card/card-service.js';
import { cardSelector, withCardService, type CardGlobalArgs } from '../../card-context.js';
import { println, type CliContext } from '../../context.js';

export interface StatusArgs extends CardGlobalArgs {
  json: boolean;
}

function describePin(p: PinStatus): string {
  switch (p.state) {
    case 'verified':
      return 'verified in this session';
    case 'not-verified':
      // MyEID PUK, PIV PUK without GET METADATA: the card has no query that spends no try.
      if (p.triesLeft === undefined) return 'set (the card does not report its tries left)';
      return `${p.triesLeft} ${p.triesLeft === 1 ? 'try' : 'tries'} left`;
    case 'blocked':
      return 'BLOCKED (unblock with `ca card pin unblock`)';
    case 'not-initialized':
      return 'not set (card not initialised)';
    case 'transport':
      return 'transport PIN (change it first)';
  }
}

/** `cardStatusCommand`'s handler (the definition is status.ts). */
export async function runCardStatus(ctx: CliContext, args: StatusArgs): Promise<void> {
  return withCardService(ctx, args, async (service) => {
    const s = await service.open(cardSelector(args));
    try {
      const pin = await s.pinStatus();
      const so = await s.soPinStatus();
      const i = s.info;
      if (args.json) {
        println(
          ctx,
          JSON.stringify(
            {
              reader: i.reader,
              serial: i.serial,
              driver: i.driver,
              label: i.label ?? null,
              initialized: i.initialized,
              firmware: i.version ?? null,
              atr: i.atr,
              pin: { state: pin.state, triesLeft: pin.triesLeft ?? null },
              soPin: { state: so.state, triesLeft: so.triesLeft ?? null },
            },
            null,
            2,
          ),
        );
        return;
      }
      println(ctx, `reader:      ${i.reader}`);
      println(ctx, `card:        ${i.driver}, serial ${i.serial}, firmware ${i.version ?? 'unknown'}`);
      println(ctx, `initialised: ${i.initialized ? `yes, label "${i.label ?? ''}"` : 'no (run `ca card init`)'}`);
      println(ctx, `user PIN:    ${describePin(pin)}`);
      if (s.capabilities.unblockCredential === 'puk') println(ctx, `PUK:         ${describePin(so)}`);
      else println(ctx, `SO-PIN:      ${describePin(so)}`);
    } finally {
      await s.close();
    }
  });
}
