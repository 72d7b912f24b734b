import type { CardSelector } from '../card/card-service.js';
import { PcscCardService } from '../card/pcsc-card-service.js';
import type { CliContext } from './context.js';

/** Options shared by every `ca card` command. */
export interface CardGlobalArgs {
  reader?: string;
  card?: string;
  'trace-apdu'?: boolean;
}

/** Build the card service for a command (the CLI's composition root for cards). */
export function cardService(ctx: CliContext, args: CardGlobalArgs): PcscCardService {
  const trace = args['trace-apdu'] === true;
  return new PcscCardService(trace ? { tracer: (dir, hex) => ctx.stderr.write(`${dir} ${hex}\n`) } : {});
}

export function cardSelector(args: CardGlobalArgs): CardSelector {
  return {
    ...(args.reader === undefined ? {} : { reader: args.reader }),
    ...(args.card === undefined ? {} : { serial: args.card }),
  };
}

/** Run `fn` with a card service and always release PC/SC afterwards (so the process exits). */
export async function withCardService<T>(ctx: CliContext, args: CardGlobalArgs, fn: (s: PcscCardService) => Promise<T>): Promise<T> {
  const service = cardService(ctx, args);
  try {
    return await fn(service);
  } finally {
    await service.close();
  }
}
