/**
 * Numbered, forward-only schema migrations. Never edit a released migration: add the next one.
 * `PRAGMA user_version` records the last one applied.
 *
 * Times are ISO 8601 UTC text with milliseconds (they sort as text). Binary values (serials,
 * hashes, DER) are BLOBs. Serials are unique per issuer (RFC 5280 §4.1.2.2) and never reused:
 * rows are never deleted (triggers refuse it).
 */
import { CRL_ENTRIES_MIGRATION } from './crl-entry-sql.js';
import { crlBlobsMigration } from './crl-blobs-sql.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * Every time column of migration 1 and the time format they must hold (clock.ts `isoUtc`):
 * a non-finite date ("Invalid DateTime") is refused by the database itself, whatever code path
 * tries to write it (issue #8 item 4). SQLite cannot add a CHECK to an existing table without
 * rebuilding it, so BEFORE INSERT/UPDATE triggers play that part.
 */
export const TIME_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  cas: ['created_at'],
  requests: ['received_at'],
  certificates: ['not_before', 'not_after', 'reserved_at', 'issued_at'],
  revocations: ['revoked_at', 'recorded_at'],
  crls: ['this_update', 'next_update', 'reserved_at', 'issued_at'],
  audit_log: ['at'],
};

export const ISO_UTC_GLOB = '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z';

function timeColumnTriggers(): string {
  const out: string[] = [];
  for (const [table, cols] of Object.entries(TIME_COLUMNS)) {
    const bad = cols.map((c) => `(NEW.${c} IS NOT NULL AND NEW.${c} NOT GLOB '${ISO_UTC_GLOB}')`).join(' OR ');
    for (const op of ['INSERT', 'UPDATE']) {
      out.push(
        `CREATE TRIGGER ${table}_time_format_${op.toLowerCase()} BEFORE ${op} ON ${table} WHEN ${bad}\n` +
          `BEGIN SELECT RAISE(ABORT, 'a time column of ${table} must be ISO 8601 UTC (yyyy-mm-ddThh:mm:ss.sssZ)'); END;`,
      );
    }
  }
  return out.join('\n');
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE cas (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  parent_id   INTEGER REFERENCES cas(id),
  profile     TEXT NOT NULL,
  card_serial TEXT NOT NULL,
  key_id      TEXT NOT NULL,
  key_ref     INTEGER NOT NULL,
  public_key  BLOB NOT NULL,
  spki_sha256 BLOB NOT NULL UNIQUE CHECK (length(spki_sha256) = 32),
  certificate BLOB,
  created_at  TEXT NOT NULL
) STRICT;

CREATE TABLE requests (
  id          INTEGER PRIMARY KEY,
  csr         BLOB NOT NULL,
  csr_sha256  BLOB NOT NULL CHECK (length(csr_sha256) = 32),
  received_at TEXT NOT NULL
) STRICT;

CREATE TABLE certificates (
  id          INTEGER PRIMARY KEY,
  issuer_id   INTEGER NOT NULL REFERENCES cas(id),
  serial      BLOB NOT NULL CHECK (length(serial) BETWEEN 1 AND 20),
  serial_hex  TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('reserved', 'issued', 'revoked', 'outcome_unknown', 'abandoned')),
  profile     TEXT NOT NULL,
  request_id  INTEGER REFERENCES requests(id),
  subject     TEXT NOT NULL,
  sans        TEXT NOT NULL,
  not_before  TEXT NOT NULL,
  not_after   TEXT NOT NULL,
  spki_sha256 BLOB NOT NULL CHECK (length(spki_sha256) = 32),
  tbs         BLOB NOT NULL,
  tbs_sha256  BLOB NOT NULL CHECK (length(tbs_sha256) = 32),
  der         BLOB,
  is_ca       INTEGER NOT NULL CHECK (is_ca IN (0, 1)),
  reserved_at TEXT NOT NULL,
  issued_at   TEXT,
  UNIQUE (issuer_id, serial),
  UNIQUE (issuer_id, serial_hex),
  CHECK ((status IN ('issued', 'revoked')) = (der IS NOT NULL))
) STRICT;
CREATE INDEX certificates_spki ON certificates(spki_sha256);
CREATE INDEX certificates_serial_hex ON certificates(serial_hex);

CREATE TABLE revocations (
  certificate_id INTEGER PRIMARY KEY REFERENCES certificates(id),
  revoked_at     TEXT NOT NULL,
  reason         TEXT NOT NULL,
  recorded_at    TEXT NOT NULL
) STRICT;

CREATE TABLE crls (
  id          INTEGER PRIMARY KEY,
  issuer_id   INTEGER NOT NULL REFERENCES cas(id),
  crl_number  INTEGER NOT NULL CHECK (crl_number > 0),
  status      TEXT NOT NULL CHECK (status IN ('reserved', 'issued', 'outcome_unknown', 'abandoned')),
  this_update TEXT NOT NULL,
  next_update TEXT NOT NULL,
  entries     INTEGER NOT NULL,
  tbs         BLOB NOT NULL,
  tbs_sha256  BLOB NOT NULL CHECK (length(tbs_sha256) = 32),
  der         BLOB,
  reserved_at TEXT NOT NULL,
  issued_at   TEXT,
  UNIQUE (issuer_id, crl_number),
  CHECK ((status = 'issued') = (der IS NOT NULL))
) STRICT;

-- h_i = SHA-256(h_{i-1} || canonical(record_i)), h_0 = 32 zero octets (audit-chain.ts).
CREATE TABLE audit_log (
  seq       INTEGER PRIMARY KEY CHECK (seq > 0),
  at        TEXT NOT NULL,
  event     TEXT NOT NULL,
  ca        TEXT,
  data      TEXT NOT NULL,
  prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),
  hash      BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT;

-- Nothing is ever lost: no deletes; the audit log is append-only.
CREATE TRIGGER certificates_no_delete BEFORE DELETE ON certificates BEGIN SELECT RAISE(ABORT, 'certificates are never deleted'); END;
CREATE TRIGGER crls_no_delete BEFORE DELETE ON crls BEGIN SELECT RAISE(ABORT, 'CRLs are never deleted'); END;
CREATE TRIGGER revocations_no_delete BEFORE DELETE ON revocations BEGIN SELECT RAISE(ABORT, 'revocations are never deleted'); END;
CREATE TRIGGER cas_no_delete BEFORE DELETE ON cas BEGIN SELECT RAISE(ABORT, 'CAs are never deleted'); END;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
-- A serial, once issued, keeps its certificate; status only moves forward.
CREATE TRIGGER certificates_status_forward BEFORE UPDATE OF status ON certificates
WHEN NOT (
  (OLD.status = 'reserved' AND NEW.status IN ('issued', 'outcome_unknown', 'abandoned')) OR
  (OLD.status = 'issued' AND NEW.status = 'revoked')
)
BEGIN SELECT RAISE(ABORT, 'illegal certificate status change'); END;
CREATE TRIGGER certificates_frozen BEFORE UPDATE OF serial, serial_hex, issuer_id, tbs, tbs_sha256 ON certificates
BEGIN SELECT RAISE(ABORT, 'serial, issuer and TBS of a certificate never change'); END;
`,
  },
  {
    version: 2,
    name: 'time columns hold real ISO 8601 UTC times',
    sql: timeColumnTriggers(),
  },
  {
    version: 3,
    name: 'further cards holding a CA key (key custody, issue 10)',
    sql: `
-- A CA key restored from a DKEK backup lives on a further card; cas.card_serial stays the card
-- of the ceremony. Either card may sign for the CA. Rows are never deleted.
CREATE TABLE ca_cards (
  ca_id       INTEGER NOT NULL REFERENCES cas(id),
  card_serial TEXT NOT NULL,
  key_ref     INTEGER NOT NULL,
  kcv         TEXT NOT NULL,
  added_at    TEXT NOT NULL,
  UNIQUE (ca_id, card_serial)
) STRICT;
CREATE TRIGGER ca_cards_no_delete BEFORE DELETE ON ca_cards BEGIN SELECT RAISE(ABORT, 'card bindings are never deleted'); END;
`,
  },
  {
    version: 4,
    name: 'the card family of every card holding a CA key (issue 12)',
    sql: `
-- The family is the card driver's name ('sc-hsm', 'piv', 'myeid', …): what the operator must
-- insert, and which unblock and custody procedures apply. New rows must carry it.
ALTER TABLE cas ADD COLUMN card_family TEXT CHECK (card_family GLOB '[a-z]*');
ALTER TABLE ca_cards ADD COLUMN card_family TEXT CHECK (card_family GLOB '[a-z]*');
-- Backfill. Before this migration only two drivers existed. The PIV driver names a key by its
-- slot ("9C" for key reference 9C: piv-constants.ts slotHex) and its slots are 9A, 9C, 9D, 9E
-- and the retired 82-95 (SP 800-73-4 Part 1 §3.3); the SmartCard-HSM driver names a key by
-- its PrKDF iD (20 bytes, 40 hex digits: OpenSC's SHA-1 iD) on key references counted from 1.
UPDATE cas SET card_family = CASE
  WHEN (key_ref IN (154, 156, 157, 158) OR key_ref BETWEEN 130 AND 149)
       AND upper(key_id) = printf('%02X', key_ref) THEN 'piv'
  ELSE 'sc-hsm' END;
-- ca_cards rows come only from \`ca key restore\` (DKEK import), which only the SmartCard-HSM has.
UPDATE ca_cards SET card_family = 'sc-hsm';
CREATE TRIGGER cas_card_family_required BEFORE INSERT ON cas WHEN NEW.card_family IS NULL
BEGIN SELECT RAISE(ABORT, 'a CA binding must record its card family (cas.card_family)'); END;
CREATE TRIGGER ca_cards_card_family_required BEFORE INSERT ON ca_cards WHEN NEW.card_family IS NULL
BEGIN SELECT RAISE(ABORT, 'a card binding must record its card family (ca_cards.card_family)'); END;
CREATE TRIGGER cas_card_family_frozen BEFORE UPDATE OF card_family ON cas
BEGIN SELECT RAISE(ABORT, 'the card family of a CA binding never changes'); END;
CREATE TRIGGER ca_cards_card_family_frozen BEFORE UPDATE OF card_family ON ca_cards
BEGIN SELECT RAISE(ABORT, 'the card family of a card binding never changes'); END;
`,
  },
  {
    version: 5,
    name: 'reads and CRLs at scale: certificate counts and indexes (issue 14)',
    sql: `
-- ca status counts certificates per CA and status without reading a row per certificate: the
-- counts are kept by triggers in the same transaction as every insert and status change (rows
-- are never deleted and issuer_id never changes: migration 1's triggers). ca db check compares
-- them with a full count.
CREATE TABLE certificate_counts (
  issuer_id INTEGER NOT NULL REFERENCES cas(id),
  status    TEXT NOT NULL,
  n         INTEGER NOT NULL CHECK (n >= 0),
  PRIMARY KEY (issuer_id, status)
) STRICT, WITHOUT ROWID;
INSERT INTO certificate_counts (issuer_id, status, n) SELECT issuer_id, status, count(*) FROM certificates GROUP BY issuer_id, status;
CREATE TRIGGER certificate_counts_insert AFTER INSERT ON certificates
BEGIN
  INSERT INTO certificate_counts (issuer_id, status, n) VALUES (NEW.issuer_id, NEW.status, 1)
    ON CONFLICT (issuer_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER certificate_counts_status AFTER UPDATE OF status ON certificates WHEN OLD.status IS NOT NEW.status
BEGIN
  UPDATE certificate_counts SET n = n - 1 WHERE issuer_id = OLD.issuer_id AND status = OLD.status;
  INSERT INTO certificate_counts (issuer_id, status, n) VALUES (NEW.issuer_id, NEW.status, 1)
    ON CONFLICT (issuer_id, status) DO UPDATE SET n = n + 1;
END;
-- The CRL's entries (status revoked / outcome_unknown of one issuer, in id order) and the
-- recovery of reserved rows, without scanning every certificate. Covering for the CRL (serial,
-- reserved_at): a certificate row carries its TBS and DER (~1 KB), and reading a million of
-- them to take 16 octets each was most of the CRL's time.
CREATE INDEX certificates_issuer_status ON certificates(issuer_id, status, serial, reserved_at);
-- ca list --expiring: issued certificates by notAfter.
CREATE INDEX certificates_status_not_after ON certificates(status, not_after);
-- lastActivity() (the clock check of every signing command) takes max() of these: an index
-- makes that one lookup instead of a scan of every certificate.
CREATE INDEX certificates_issued_at ON certificates(issued_at);
CREATE INDEX certificates_reserved_at ON certificates(reserved_at);
`,
  },
  {
    version: 6,
    name: 'CAs adopted from openssl ca / easy-rsa (issue 15)',
    sql: `
-- One row per adopted CA: where it came from and the highest CRL number the old CA used, so
-- cardca's CRL numbers continue above it (RFC 5280 §5.2.3). Never updated, never deleted.
CREATE TABLE adoptions (
  ca_id           INTEGER PRIMARY KEY REFERENCES cas(id),
  source          TEXT NOT NULL CHECK (source IN ('openssl', 'easyrsa')),
  source_dir      TEXT NOT NULL,
  last_crl_number INTEGER NOT NULL CHECK (last_crl_number >= 0),
  next_serial_hex TEXT,
  certificates    INTEGER NOT NULL,
  revocations     INTEGER NOT NULL,
  adopted_at      TEXT NOT NULL CHECK (adopted_at GLOB '${ISO_UTC_GLOB}')
) STRICT;
CREATE TRIGGER adoptions_no_delete BEFORE DELETE ON adoptions BEGIN SELECT RAISE(ABORT, 'adoptions are never deleted'); END;
CREATE TRIGGER adoptions_no_update BEFORE UPDATE ON adoptions BEGIN SELECT RAISE(ABORT, 'adoptions never change'); END;
`,
  },
  {
    version: 7,
    name: 'batch rows the card was never asked to sign (issue 14)',
    sql: `
-- A batch reserves a chunk of intents in one durable transaction with queued = 1 ("the card has
-- not been asked for this one"), and clears it in the durable transaction that comes right before
-- that row's SIGN (batch-issuance.ts). So after a crash a reserved row with queued = 1 was
-- certainly never signed (abandoned), one with queued = 0 may have been (outcome_unknown). Every
-- row older than this migration, and every row reserved outside a batch, has queued = 0: the
-- default is the cautious reading.
ALTER TABLE certificates ADD COLUMN queued INTEGER NOT NULL DEFAULT 0 CHECK (queued IN (0, 1));
-- Only a batch reservation sets it; it is cleared once, while the row is reserved, and never set again.
CREATE TRIGGER certificates_queued_insert BEFORE INSERT ON certificates WHEN NEW.queued = 1 AND NEW.status <> 'reserved'
BEGIN SELECT RAISE(ABORT, 'only a reserved certificate can be queued'); END;
CREATE TRIGGER certificates_queued_forward BEFORE UPDATE OF queued ON certificates
WHEN OLD.queued IS NOT NEW.queued AND NOT (OLD.queued = 1 AND NEW.queued = 0 AND OLD.status = 'reserved')
BEGIN SELECT RAISE(ABORT, 'a queued certificate is marked sent once, while reserved, and never queued again'); END;
-- A row the card was never asked for cannot have been signed.
CREATE TRIGGER certificates_queued_unsigned BEFORE UPDATE OF status ON certificates
WHEN NEW.queued = 1 AND NEW.status IN ('issued', 'revoked', 'outcome_unknown')
BEGIN SELECT RAISE(ABORT, 'a certificate the card was never asked to sign can only be abandoned'); END;
-- The plan of every batch asks, per CSR, what this issuer made from exactly that request
-- (certificatesForRequest: issue #8 item 8's re-run): without these it read every request and
-- every certificate row once per CSR.
CREATE INDEX requests_csr_sha256 ON requests(csr_sha256);
CREATE INDEX certificates_request ON certificates(request_id);
`,
  },
  {
    version: 8,
    name: 'the latest CRL of a CA without reading its blobs (issue 14)',
    sql: `
-- ca status, the CRL cycle and ca crl --due read the latest CRL's number, status, dates, entry
-- count and TBS hash per CA. A crls row stores its TBS and DER (40 MB each for a million entries)
-- before tbs_sha256, reserved_at and issued_at, so reading those columns from the row walked
-- the blobs' overflow pages (0.8 s for one CRL of a million entries). These two indexes hold
-- every column those reads take, for "latest with this status" and "latest whatever status".
CREATE INDEX crls_latest_by_status ON crls(issuer_id, status, crl_number, id, this_update, next_update, entries, tbs_sha256, reserved_at, issued_at);
CREATE INDEX crls_latest ON crls(issuer_id, crl_number, id, status, this_update, next_update, entries, tbs_sha256, reserved_at, issued_at);
`,
  },
  {
    version: 9,
    name: 'CRL entries pre-encoded, kept by triggers (issue 14)',
    sql: CRL_ENTRIES_MIGRATION,
  },
  {
    version: 10,
    name: "a CRL's TBS and signature in their own tables: issuing it does not rewrite its TBS (issue 14)",
    sql: crlBlobsMigration(ISO_UTC_GLOB),
  },
  {
    version: 11,
    name: "a CRL's TBS in a file of its own, fsynced before its intent commits (issue 14)",
    sql: `
-- crl-tbs-file.ts: the TBS of a CRL reserved from now on is the file crl-tbs/<crl_id>-<tbs_sha256>.tbs
-- beside the database, written and fsynced inside the intent's transaction before it commits
-- (a 49 MB insert into SQLite cost more than the rest of the intent). This row says so and
-- gives its length; crls.tbs_sha256 names and checks the bytes. A TBS may also be in crl_tbs
-- (CRLs before this migration, adopted ones, and every one in a backup, which copies the files
-- in); crl_tbs is then read first. Rows are never deleted or changed.
CREATE TABLE crl_tbs_files (
  crl_id INTEGER PRIMARY KEY REFERENCES crls(id),
  length INTEGER NOT NULL CHECK (length > 0)
) STRICT;
CREATE TRIGGER crl_tbs_files_no_delete BEFORE DELETE ON crl_tbs_files BEGIN SELECT RAISE(ABORT, 'CRLs are never deleted'); END;
CREATE TRIGGER crl_tbs_files_frozen BEFORE UPDATE ON crl_tbs_files BEGIN SELECT RAISE(ABORT, 'the TBS of a CRL never changes'); END;
`,
  },
  {
    version: 12,
    name: 'the audit log indexed by event: one kind of record is found without reading the whole log (issue 14)',
    sql: `
-- Every command reads the newest profile pin, and ca status the card checkpoints; without this
-- index both read the whole log, which grows by three records per certificate (audit-by-event.ts).
CREATE INDEX audit_log_by_event ON audit_log(event, seq);
`,
  },
];

/** The schema version a database has after `migrations` (the highest number; numbers may skip). */
export function latestVersion(migrations: readonly Migration[] = MIGRATIONS): number {
  return migrations.reduce((m, x) => Math.max(m, x.version), 0);
}
