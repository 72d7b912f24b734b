import type { DriverCardSession } from '../../../card/card-session-impl.js';
import type { KeyPlacement } from '../../../card/drivers/card-driver.js';
import { usageError } from '../../cli-error.js';
import { eprintln, type CliContext } from '../../context.js';
import { promptLine } from '../../pin-input.js';

export { OVERWRITE_CONFIRMATION, withKeyPlacement, type KeyPlacementArgs } from '../../command-options.js';
import { OVERWRITE_CONFIRMATION as OVERWRITE_TEXT, type KeyPlacementArgs } from '../../command-options.js';

/**
 * The placement for `generateKey`. `--slot` on a card without slots is a usage error; replacing
 * a key needs `--overwrite` and, on a terminal, the typed confirmation (non-interactive runs take
 * `--overwrite` as the confirmation, as `--yes` is for ceremonies).
 */
export async function keyPlacementOf(ctx: CliContext, s: DriverCardSession, a: KeyPlacementArgs): Promise<KeyPlacement> {
  const hasSlots = s.hasKeySlots;
  if (!hasSlots) {
    if (a.slot !== undefined || a['pin-policy'] !== undefined || a['touch-policy'] !== undefined) {
      throw usageError(`--slot, --pin-policy and --touch-policy apply to cards with key slots (PIV); card ${s.info.serial} is ${s.info.driver}`);
    }
    return {};
  }
  let slot: number | undefined;
  if (a.slot !== undefined) {
    slot = s.parseKeySlot(a.slot);
    if (slot === undefined) throw usageError(`--slot ${a.slot} is not a PIV key slot`, 'Use 9a, 9c, 9d, 9e or 82..95.');
  }
  if (a.overwrite && ctx.stdin.isTTY) {
    const name = `slot ${a.slot ?? '9c'}`;
    eprintln(ctx, `--overwrite: the key in ${name} of card ${s.info.serial} will be destroyed and cannot be recovered.`);
    const typed = await promptLine(ctx, `Type "${OVERWRITE_TEXT}" to continue: `);
    if (typed !== OVERWRITE_TEXT) throw usageError('overwrite not confirmed; nothing was changed');
  }
  return {
    ...(slot === undefined ? {} : { slot }),
    ...(a['pin-policy'] ? { pinPolicy: a['pin-policy'] } : {}),
    ...(a['touch-policy'] ? { touchPolicy: a['touch-policy'] } : {}),
    ...(a.overwrite ? { overwrite: true } : {}),
  };
}
