import type { DriverCardSession } from '../../../card/card-session-impl.js';
import { cardSelector, withCardService, type CardGlobalArgs } from '../../card-context.js';
import type { CliContext } from '../../context.js';
import { obtainVerifiedSession } from '../../pin-input.js';

export interface VerifiedCardArgs extends CardGlobalArgs {
  'pin-file'?: string;
  'allow-last-pin-try': boolean;
}

/**
 * Run `fn` on the selected card with its user PIN verified (tries shown, last try guarded), and
 * always close the session and PC/SC afterwards: the shape of every `ca card` command that writes.
 */
export function withVerifiedCard<T>(ctx: CliContext, args: VerifiedCardArgs, fn: (s: DriverCardSession) => Promise<T>): Promise<T> {
  return withCardService(ctx, args, async (service) => {
    const s = await obtainVerifiedSession(ctx, {
      service,
      selector: cardSelector(args),
      pinFile: args['pin-file'],
      allowLastPinTry: args['allow-last-pin-try'],
    });
    try {
      return await fn(s);
    } finally {
      await s.close();
    }
  });
}
