import { CaError } from '../../../ca/errors.js';
import type { CaRecord } from '../../../ca/store.js';
import type { DriverCardSession } from '../../../card/card-session-impl.js';
import { caCards } from '../../../db/ca-card-bindings.js';
import type { SqliteStore } from '../../../db/sqlite-store.js';

/** The CA by name, or a clear refusal. */
export function requireCa(store: SqliteStore, name: string): CaRecord {
  const ca = store.getCa(name);
  if (!ca) throw new CaError('UNKNOWN_ISSUER', `CA ${name} has not been created yet`, { hint: 'See `ca list`.' });
  return ca;
}

/** Every card that holds the CA key: the ceremony's card, then restored ones. */
export function cardsOf(store: SqliteStore, ca: CaRecord): string[] {
  return [ca.cardSerial, ...caCards(store, ca.name).map((b) => b.cardSerial)];
}

/** The card key reference of the CA key on this card (found by its PKCS#15 iD). */
export async function keyRefOf(session: DriverCardSession, ca: CaRecord): Promise<number> {
  const k = (await session.listKeys()).find((x) => x.id === ca.keyId);
  if (!k) {
    throw new CaError('KEY_NOT_FOUND', `card ${session.info.serial} holds no key with the iD ${ca.keyId} of CA ${ca.name}`, {
      hint: 'Insert the card that holds the CA key (`ca status`).',
    });
  }
  return k.keyRef;
}
