import type { AdoptionImport, AdoptionRecord } from '../ca/adopt/adoption-store.js';
import { isoUtc } from '../ca/clock.js';
import type { AuditEvent, CaRecord } from '../ca/store.js';
import { bytesEqual, toHex } from '../common/hex.js';
import { children, readSingle } from '../common/der.js';
import { writeTransaction, type Db } from './database.js';
import { DbError } from './db-error.js';
import type { SqliteStore } from './sqlite-store.js';

type Row = Record<string, unknown>;
const buf = (v: Uint8Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/**
 * `ca adopt`'s import (src/ca/adopt/adoption-store.ts) over SQLite: one `BEGIN IMMEDIATE`
 * transaction inserts the CA row with its certificate, every old certificate (issued/revoked
 * with its DER; a serial known only from index.txt or a CRL as `outcome_unknown` when revoked,
 * so it stays on every CRL, else `abandoned`, so the serial stays taken), every revocation with
 * its old date, reason and invalidity date, the old CRLs, the adoption row, and one audit record.
 */
export function adoptCa(store: SqliteStore, a: AdoptionImport, audit: AuditEvent, at: Date): { ca: CaRecord; auditSeq: number } {
  return writeTransaction(store.db, () => {
    const db = store.db;
    const b = a.binding;
    if (store.getCa(b.name)) throw new DbError('STORE_CA_EXISTS', `a CA named ${b.name} already exists`, { hint: 'Adopt under another name; a CA is created once.' });
    const parentId = b.parentName === undefined ? null : ((db.prepare('SELECT id FROM cas WHERE name = ?').get(b.parentName) as Row | undefined)?.['id'] ?? null);
    if (b.parentName !== undefined && parentId === null) throw new DbError('UNKNOWN_ISSUER', `no CA named ${b.parentName} in the database`);
    let caId: number;
    try {
      caId = Number(
        db
          .prepare('INSERT INTO cas (name, parent_id, profile, card_serial, card_family, key_id, key_ref, public_key, spki_sha256, certificate, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)')
          .run(b.name, parentId, b.profileName, b.cardSerial, b.cardFamily, b.keyId, b.keyRef, buf(b.publicKey), buf(b.spkiSha256), buf(a.certificate), isoUtc(at)).lastInsertRowid,
      );
    } catch (e) {
      if (String((e as Error).message).includes('UNIQUE')) throw new DbError('STORE_KEY_IS_CA_KEY', `the key ${b.keyId} on card ${b.cardSerial} is already bound to another CA`, { hint: 'Every CA needs its own key: see `ca status`.' });
      throw e;
    }
    const insertCert = db.prepare(
      `INSERT INTO certificates (issuer_id, serial, serial_hex, status, profile, subject, sans, not_before, not_after, spki_sha256, tbs, tbs_sha256, der, is_ca, reserved_at, issued_at)
       VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
    );
    const insertRev = db.prepare('INSERT INTO revocations (certificate_id, revoked_at, reason, recorded_at) VALUES (?,?,?,?)');
    let revocations = 0;
    for (const c of a.certificates) {
      const status = c.der ? (c.revocation ? 'revoked' : 'issued') : c.revocation ? 'outcome_unknown' : 'abandoned';
      const serialHex = toHex(c.serial).toUpperCase();
      const issued = isoUtc(c.issuedAt);
      const id = Number(
        insertCert.run(
          caId, buf(c.serial), serialHex, status, 'adopted', c.subject, JSON.stringify(c.sans), isoUtc(c.notBefore), isoUtc(c.notAfter),
          buf(c.spkiSha256), buf(c.tbs), buf(c.tbsSha256), c.der ? buf(c.der) : null, c.isCa ? 1 : 0, issued, c.der ? issued : null,
        ).lastInsertRowid,
      );
      if (c.revocation) {
        // revoked_at holds the invalidity date when there is one (sqlite-store.ts revokedEntries).
        insertRev.run(id, isoUtc(c.revocation.invalidityDate ?? c.revocation.date), c.revocation.reason, isoUtc(c.revocation.date));
        revocations++;
      }
    }
    // Migration 10: the row, its TBS (crl_tbs) and what follows the TBS in the DER (crl_signatures).
    const insertCrl = db.prepare(
      `INSERT INTO crls (issuer_id, crl_number, status, this_update, next_update, entries, tbs_sha256, reserved_at, issued_at) VALUES (?,?, 'issued', ?,?,?,?,?,?)`,
    );
    const insertTbs = db.prepare('INSERT INTO crl_tbs (crl_id, tbs) VALUES (?,?)');
    const insertTail = db.prepare('INSERT INTO crl_signatures (crl_id, tail) VALUES (?,?)');
    for (const c of a.crls) {
      const t = isoUtc(c.thisUpdate < at ? c.thisUpdate : at);
      const crlId = insertCrl.run(caId, Number(c.crlNumber), isoUtc(c.thisUpdate), isoUtc(c.nextUpdate), c.entries, buf(c.tbsSha256), t, t).lastInsertRowid;
      insertTbs.run(crlId, buf(c.tbs));
      const tbsTlv = children(c.der, readSingle(c.der))[0];
      if (!tbsTlv || !bytesEqual(c.der.subarray(tbsTlv.start, tbsTlv.end), c.tbs)) throw new DbError('STORE_CRL_TBS_MISMATCH', `adopted CRL number ${c.crlNumber} does not carry its TBS`);
      insertTail.run(crlId, buf(c.der.subarray(tbsTlv.end)));
    }
    db.prepare('INSERT INTO adoptions (ca_id, source, source_dir, last_crl_number, next_serial_hex, certificates, revocations, adopted_at) VALUES (?,?,?,?,?,?,?,?)').run(
      caId, a.source, a.sourceDir, Number(a.lastCrlNumber), a.nextSerialHex ?? null, a.certificates.length, revocations, isoUtc(at),
    );
    const rec = store.audit(audit, at);
    return { ca: store.getCa(b.name)!, auditSeq: rec.seq };
  });
}

export function adoption(store: { db: Db }, caName: string): AdoptionRecord | undefined {
  const r = store.db
    .prepare('SELECT a.*, c.name FROM adoptions a JOIN cas c ON c.id = a.ca_id WHERE c.name = ?')
    .get(caName) as Row | undefined;
  if (!r) return undefined;
  return {
    caName,
    source: r['source'] as 'openssl' | 'easyrsa',
    sourceDir: r['source_dir'] as string,
    lastCrlNumber: BigInt(r['last_crl_number'] as number),
    certificates: r['certificates'] as number,
    revocations: r['revocations'] as number,
    adoptedAt: r['adopted_at'] as string,
  };
}

/** The highest CRL number an adopted CA's old tool used (0 when the CA was not adopted). */
export function adoptedCrlFloor(db: Db, issuerId: number): bigint {
  const r = db.prepare('SELECT last_crl_number AS n FROM adoptions WHERE ca_id = ?').get(issuerId) as Row | undefined;
  return BigInt((r?.['n'] as number | undefined) ?? 0);
}
