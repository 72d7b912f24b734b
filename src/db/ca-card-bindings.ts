import type { AuditEvent } from '../ca/store.js';
import { writeTransaction } from './database.js';
import { DbError } from './db-error.js';
import type { SqliteStore } from './sqlite-store.js';

/**
 * Further cards that hold a CA's key (restored from a DKEK backup; migration 3; the family column: migration 4). The card of
 * the ceremony stays in `cas.card_serial`; `ca sign`/`ca crl` accept any card listed here too.
 */
export interface CaCardBinding {
  readonly cardSerial: string;
  /** Card family (driver name, migration 4). */
  readonly cardFamily: string;
  readonly keyRef: number;
  readonly kcv: string;
  readonly addedAt: string;
}

type Row = Record<string, unknown>;

export function caCards(store: SqliteStore, caName: string): CaCardBinding[] {
  const rows = store.db
    .prepare('SELECT b.card_serial, b.card_family, b.key_ref, b.kcv, b.added_at FROM ca_cards b JOIN cas c ON c.id = b.ca_id WHERE c.name = ? ORDER BY b.added_at')
    .all(caName) as Row[];
  return rows.map((r) => ({ cardSerial: r['card_serial'] as string, cardFamily: r['card_family'] as string, keyRef: r['key_ref'] as number, kcv: r['kcv'] as string, addedAt: r['added_at'] as string }));
}

/** Bind a further card to a CA, with its audit record, in one transaction. */
export function addCaCard(store: SqliteStore, caName: string, b: Omit<CaCardBinding, 'addedAt'>, audit: AuditEvent, at: Date): void {
  writeTransaction(store.db, () => {
    const ca = store.getCa(caName);
    if (!ca) throw new DbError('UNKNOWN_ISSUER', `no CA named ${caName} in the database`);
    if (ca.cardSerial === b.cardSerial || caCards(store, caName).some((x) => x.cardSerial === b.cardSerial)) {
      throw new DbError('STORE_CARD_BOUND', `card ${b.cardSerial} already holds the key of CA ${caName}`, { hint: 'See `ca status`.' });
    }
    store.db.prepare('INSERT INTO ca_cards (ca_id, card_serial, card_family, key_ref, kcv, added_at) VALUES (?,?,?,?,?,?)').run(ca.id, b.cardSerial, b.cardFamily, b.keyRef, b.kcv, at.toISOString());
    store.audit(audit, at);
  });
}
