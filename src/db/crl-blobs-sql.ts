/**
 * Migration 10 (issue #14 item 3): a CRL's TBS and the rest of its DER leave the `crls` row.
 *
 * Before, the intent INSERT wrote the TBS into the row (40 MB at a million entries) and the
 * UPDATE to `issued` rewrote that whole row, TBS again plus the 49 MB DER, into the write-ahead
 * log: SQLite writes a changed row in full. Now:
 *   - crl_tbs holds the exact TBS, inserted once in the intent's transaction, durable before
 *     the card is asked, as before (the intent is as strong as it was: the same bytes, the
 *     same transaction as the reserved number and the crl.intent audit record);
 *   - crl_signatures holds what the signed CRL has after its TBS: signatureAlgorithm and
 *     signatureValue (RFC 5280 §5.1.1.2, ≈ 80 octets). The DER is exactly SEQUENCE header ‖ TBS
 *     ‖ that tail, so it is kept without a second copy of the TBS (X.690 §10.1: one DER length);
 *   - the crls row keeps number, status, dates, counts and the TBS hash: its status change is a
 *     short row.
 * Rows of the three tables are never deleted, the TBS and the tail never change. "Issued" ⇔ a
 * tail exists: a trigger refuses the status change without one (the CHECK of migration 1, which
 * named the der column); `ca db check` verifies every issued CRL's assembled DER.
 */
/** The SQL, given migrations.ts ISO_UTC_GLOB (a parameter: migrations.ts imports this file). */
export const crlBlobsMigration = (isoUtcGlob: string): string => `
CREATE TABLE crls_v10 (
  id          INTEGER PRIMARY KEY,
  issuer_id   INTEGER NOT NULL REFERENCES cas(id),
  crl_number  INTEGER NOT NULL CHECK (crl_number > 0),
  status      TEXT NOT NULL CHECK (status IN ('reserved', 'issued', 'outcome_unknown', 'abandoned')),
  this_update TEXT NOT NULL,
  next_update TEXT NOT NULL,
  entries     INTEGER NOT NULL,
  tbs_sha256  BLOB NOT NULL CHECK (length(tbs_sha256) = 32),
  reserved_at TEXT NOT NULL,
  issued_at   TEXT,
  UNIQUE (issuer_id, crl_number)
) STRICT;
INSERT INTO crls_v10 (id, issuer_id, crl_number, status, this_update, next_update, entries, tbs_sha256, reserved_at, issued_at)
  SELECT id, issuer_id, crl_number, status, this_update, next_update, entries, tbs_sha256, reserved_at, issued_at FROM crls;
CREATE TABLE crl_tbs (
  crl_id INTEGER PRIMARY KEY REFERENCES crls_v10(id),
  tbs    BLOB NOT NULL
) STRICT;
CREATE TABLE crl_signatures (
  crl_id INTEGER PRIMARY KEY REFERENCES crls_v10(id),
  tail   BLOB NOT NULL CHECK (length(tail) > 0)
) STRICT;
INSERT INTO crl_tbs (crl_id, tbs) SELECT id, tbs FROM crls;
-- The DER after its TBS: skip the SEQUENCE header (2, or 2 + n octets in long form 0x8n) and the TBS.
INSERT INTO crl_signatures (crl_id, tail)
  SELECT id, substr(der, 1 + 2 + CASE WHEN hex(substr(der, 2, 1)) < '80' THEN 0 ELSE instr('0123456789ABCDEF', substr(hex(substr(der, 2, 1)), 2, 1)) - 1 END + length(tbs))
  FROM crls WHERE der IS NOT NULL;
DROP TABLE crls;
ALTER TABLE crls_v10 RENAME TO crls;
CREATE INDEX crls_latest_by_status ON crls(issuer_id, status, crl_number, id, this_update, next_update, entries, tbs_sha256, reserved_at, issued_at);
CREATE INDEX crls_latest ON crls(issuer_id, crl_number, id, status, this_update, next_update, entries, tbs_sha256, reserved_at, issued_at);
CREATE TRIGGER crls_no_delete BEFORE DELETE ON crls BEGIN SELECT RAISE(ABORT, 'CRLs are never deleted'); END;
${['insert', 'update']
  .map(
    (op) => `CREATE TRIGGER crls_time_format_${op} BEFORE ${op.toUpperCase()} ON crls WHEN ${['this_update', 'next_update', 'reserved_at', 'issued_at']
      .map((c) => `(NEW.${c} IS NOT NULL AND NEW.${c} NOT GLOB '${isoUtcGlob}')`)
      .join(' OR ')}
BEGIN SELECT RAISE(ABORT, 'a time column of crls must be ISO 8601 UTC (yyyy-mm-ddThh:mm:ss.sssZ)'); END;`,
  )
  .join('\n')}
CREATE TRIGGER crls_issued_signed BEFORE UPDATE OF status ON crls WHEN NEW.status = 'issued' AND NOT EXISTS (SELECT 1 FROM crl_signatures WHERE crl_id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'an issued CRL has its signature stored'); END;
CREATE TRIGGER crl_tbs_no_delete BEFORE DELETE ON crl_tbs BEGIN SELECT RAISE(ABORT, 'CRLs are never deleted'); END;
CREATE TRIGGER crl_tbs_frozen BEFORE UPDATE ON crl_tbs BEGIN SELECT RAISE(ABORT, 'the TBS of a CRL never changes'); END;
CREATE TRIGGER crl_signatures_no_delete BEFORE DELETE ON crl_signatures BEGIN SELECT RAISE(ABORT, 'CRLs are never deleted'); END;
CREATE TRIGGER crl_signatures_frozen BEFORE UPDATE ON crl_signatures BEGIN SELECT RAISE(ABORT, 'the signature of a CRL never changes'); END;
`;
