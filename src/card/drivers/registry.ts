import { CardError } from '../errors.js';
import type { ApduChannel } from '../apdu/apdu-channel.js';
import type { CardDriver, DriverFactory } from './card-driver.js';
import { myeidDriverFactory } from './myeid/myeid-driver.js';
import { pivDriverFactory } from './piv-driver.js';
import { scHsmDriverFactory } from './sc-hsm-driver.js';

/** Known drivers, in probing order (card-protocols.md §6.1). */
export const DRIVERS: readonly DriverFactory[] = [scHsmDriverFactory, pivDriverFactory, myeidDriverFactory];

/**
 * Pick the driver for the card behind `ch`: drivers whose ATR pattern matches are probed first,
 * then the rest (a SELECT probe is authoritative; ATRs vary between card batches).
 */
export async function selectDriver(ch: ApduChannel, drivers: readonly DriverFactory[] = DRIVERS): Promise<CardDriver> {
  const atr = ch.transport.atr();
  const ordered = [...drivers.filter((d) => d.matchAtr(atr)), ...drivers.filter((d) => !d.matchAtr(atr))];
  for (const d of ordered) {
    if (await d.probe(ch)) return d.create(ch);
  }
  throw new CardError('CARD_UNSUPPORTED', `no driver recognises the card in "${ch.transport.readerName}"`, {
    hint: `Supported cards: ${drivers.map((d) => d.name).join(', ')}. Check that the right card is inserted.`,
  });
}
