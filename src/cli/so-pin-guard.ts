import type { DriverCardSession } from '../card/card-session-impl.js';
import { PinError } from '../card/errors.js';
import { eprintln, type CliContext } from './context.js';
import { LAST_TRY_CONFIRMATION, promptLine } from './pin-input.js';

/**
 * Guard the SO-PIN as the user PIN is guarded (`verifyOnSession`): show its tries left before it
 * is used, refuse a blocked one with the consequence spelled out, and refuse to spend the last
 * try without the typed confirmation (or `--allow-last-pin-try`). A blocked SO-PIN cannot be
 * unblocked: the card can then never be re-initialised or have its user PIN reset.
 */
export async function guardSoPin(ctx: CliContext, session: DriverCardSession, o: { allowLastTry: boolean }): Promise<void> {
  const status = await session.soPinStatus();
  const card = `card ${session.info.serial} in "${session.info.reader}"`;
  if (status.state === 'verified' || status.state === 'not-initialized') return;
  if (status.state === 'blocked') {
    throw new PinError('SO_PIN_BLOCKED', `the SO-PIN of ${card} is blocked`, {
      triesLeft: 0,
      hint: 'A blocked SO-PIN cannot be reset: the card can no longer be re-initialised or have its user PIN unblocked.',
    });
  }
  const tries = status.triesLeft;
  eprintln(ctx, `${card}: SO-PIN, ${tries ?? 'unknown'} ${tries === 1 ? 'try' : 'tries'} left`);
  if (tries === 1 && !o.allowLastTry) {
    const typed = ctx.stdin.isTTY
      ? await promptLine(ctx, `Only ONE SO-PIN try is left; a wrong SO-PIN locks the card for good. Type "${LAST_TRY_CONFIRMATION}" to continue: `)
      : '';
    if (typed !== LAST_TRY_CONFIRMATION) {
      throw new PinError('SO_PIN_LAST_TRY', `refusing to spend the last SO-PIN try of ${card}`, {
        triesLeft: 1,
        hint: 'Make sure you have the right SO-PIN, then re-run in a terminal and type the confirmation, or pass --allow-last-pin-try.',
      });
    }
  }
}
