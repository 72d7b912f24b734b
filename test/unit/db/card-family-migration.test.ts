/**
 * Migration 4 (issue #12): every card holding a CA key records its family. A database written
 * before it is backfilled from what each driver put in the row (PIV: key id = slot name on a PIV
 * slot; otherwise SmartCard-HSM; ca_cards rows come only from a SmartCard-HSM DKEK restore),
 * new rows must name their family, and the family never changes afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../../src/db/database.js';
import { latestVersion, MIGRATIONS } from '../../../src/db/migrations.js';
import { SqliteStore } from '../../../src/db/sqlite-store.js';
import { addCaCard, caCards } from '../../../src/db/ca-card-bindings.js';

const T = '2026-11-01T10:00:00.000Z';

function v3Database(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'cardca-mig4-')), 'ca.db');
  const db = openDatabase(path, { create: true, migrations: MIGRATIONS.filter((m) => m.version <= 3) });
  assert.equal(db.pragma('user_version', { simple: true }), 3);
  const ins = db.prepare('INSERT INTO cas (name, parent_id, profile, card_serial, key_id, key_ref, public_key, spki_sha256, created_at) VALUES (?,?,?,?,?,?,?,?,?)');
  const spki = (n: number) => Buffer.alloc(32, n);
  // Rows as the two drivers of that time wrote them.
  ins.run('root', null, 'root', 'DECM0102331', 'A1B2C3D4E5F60718293A4B5C6D7E8F9012345678', 1, Buffer.of(1), spki(1), T);
  ins.run('servers', 1, 'servers', '14214221', '9C', 0x9c, Buffer.of(2), spki(2), T);
  ins.run('clients', 1, 'clients', '14214222', '82', 0x82, Buffer.of(3), spki(3), T);
  // A SmartCard-HSM key on reference 0x9C whose iD is not "9C" stays sc-hsm.
  ins.run('users', 1, 'users', 'DECM0102332', 'FF00', 0x9c, Buffer.of(4), spki(4), T);
  db.prepare('INSERT INTO ca_cards (ca_id, card_serial, key_ref, kcv, added_at) VALUES (?,?,?,?,?)').run(1, 'DECM0102999', 3, '0011223344556677', T);
  db.close();
  return path;
}

test('migration 4 backfills the card family of rows written before it', () => {
  const path = v3Database();
  const store = new SqliteStore(openDatabase(path));
  try {
    assert.equal(store.db.pragma('user_version', { simple: true }), latestVersion());
    const families = Object.fromEntries(store.listCas().map((c) => [c.name, c.cardFamily]));
    assert.deepEqual(families, { root: 'sc-hsm', servers: 'piv', clients: 'piv', users: 'sc-hsm' });
    assert.deepEqual(caCards(store, 'root').map((b) => [b.cardSerial, b.cardFamily]), [['DECM0102999', 'sc-hsm']]);
  } finally {
    store.db.close();
  }
});

test('after migration 4 a binding without a family is refused and a family never changes', () => {
  const path = v3Database();
  const store = new SqliteStore(openDatabase(path));
  try {
    const ins = store.db.prepare('INSERT INTO cas (name, profile, card_serial, key_id, key_ref, public_key, spki_sha256, created_at) VALUES (?,?,?,?,?,?,?,?)');
    assert.throws(() => ins.run('x', 'root', 'S', 'AA', 1, Buffer.of(9), Buffer.alloc(32, 9), T), /must record its card family/);
    assert.throws(() => store.db.prepare("UPDATE cas SET card_family = 'sc-hsm' WHERE name = 'servers'").run(), /never changes/);
    assert.throws(() => store.db.prepare("UPDATE ca_cards SET card_family = 'piv'").run(), /never changes/);
    assert.throws(
      () => store.db.prepare('INSERT INTO ca_cards (ca_id, card_serial, key_ref, kcv, added_at) VALUES (?,?,?,?,?)').run(1, 'NEW', 4, '00', T),
      /must record its card family/,
    );
    addCaCard(store, 'servers', { cardSerial: '14214299', cardFamily: 'piv', keyRef: 0x9c, kcv: '-' }, { event: 'key.restore', ca: 'servers', data: {} }, new Date(T));
    assert.deepEqual(caCards(store, 'servers').map((b) => b.cardFamily), ['piv']);
  } finally {
    store.db.close();
  }
});
