import type { CardSelector } from '../card/card-service.js';
import { PcscCardService } from '../card/pcsc-card-service.js';
import type { CliContext } from './context.js';
import { CliError } from './cli-error.js';

/** Options shared by every `ca card` command. */
export interface CardGlobalArgs {
  reader?: string;
  card?: string;
  'trace-apdu'?: boolean;
  /** `--card-timeout SECONDS`: one limit for every card exchange instead of the per-operation defaults. */
  'card-timeout'?: number;
}

/** Build the card service for a command (the CLI's composition root for cards). */
export function cardService(ctx: CliContext, args: CardGlobalArgs): PcscCardService {
  const trace = args['trace-apdu'] === true;
  const seconds = args['card-timeout'];
  if (seconds !== undefined && (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600)) {
    throw new CliError('USAGE_ERROR', `--card-timeout must be 1..3600 seconds, got ${String(seconds)}`);
  }
  return new PcscCardService({
    ...(trace ? { tracer: (dir: '=>' | '<=', hex: string) => ctx.stderr.write(`${dir} ${hex}\n`) } : {}),
    ...(seconds === undefined ? {} : { timeoutMs: Math.round(seconds * 1000) }),
  });
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
