import { CRL_REASON_CODES } from '../ca/crl/tbs-cert-list-input.js';

/**
 * The DER of one CRL entry (RFC 5280 §5.1: SEQUENCE { userCertificate INTEGER, revocationDate
 * Time, crlEntryExtensions OPTIONAL }) written by SQL, so the pre-encoded entries of migration 9
 * are kept by triggers in the same transaction as every write that puts a certificate on the CRL
 * (revoke, outcome_unknown, adoption import, the scale generator, an edit by hand): no code path
 * can forget them. Byte-identical to write-tbs-cert-list.ts (the differential test
 * test/unit/db/crl-entries.test.ts and `ca db check` compare the two).
 *
 * Only SQL that SQLite 3.40 has (the sqlite3 shell of Debian 12 must be able to write these
 * tables too): a length or code octet is char(n) (one octet for n < 128; an entry's content
 * never reaches 128 octets, X.690 §8.1.3.4 short form), byte strings are concatenated with ||
 * (which keeps every octet) and CAST back to BLOB.
 *
 * What the JavaScript writer refused, this writes so that the lint refuses it before any card is
 * asked (crl-entry-checks.ts): a year before 1950 as GeneralizedTime (e_crl_entry_time_format),
 * certificateHold / removeFromCRL / aACompromise with their codes and a reason that is no
 * CRLReason as code 127 (e_crl_reason_code_not_allowed).
 */

/** MMDDhhmmss of an ISO 8601 UTC text `yyyy-mm-ddThh:mm:ss.sssZ` (seconds truncated, RFC 5280 §5.1.2.4). */
const mmddhhmmss = (t: string): string => `substr(${t}, 6, 2) || substr(${t}, 9, 2) || substr(${t}, 12, 2) || substr(${t}, 15, 2) || substr(${t}, 18, 2)`;

/** X.509 Time (RFC 5280 §4.1.2.5): UTCTime 1950..2049, GeneralizedTime otherwise. */
const timeDer = (t: string): string =>
  `CASE WHEN substr(${t}, 1, 4) BETWEEN '1950' AND '2049' THEN x'170D' || substr(${t}, 3, 2) || ${mmddhhmmss(t)} || 'Z' ELSE x'180F' || substr(${t}, 1, 4) || ${mmddhhmmss(t)} || 'Z' END`;

const REASON_CODE = `CASE coalesce(r.reason, 'unspecified') ${Object.entries(CRL_REASON_CODES)
  .map(([name, code]) => `WHEN '${name}' THEN ${code}`)
  .join(' ')} ELSE 127 END`;

/**
 * Per certificate on the CRL: issuer, group (0 = revoked, 1 = outcome_unknown: the CRL lists
 * group 0 then group 1, each in serial order, as it always has), serial, certificate id, DER.
 * The entry is the one sqlite-store.ts revokedEntryStream() describes: revocationDate = when the
 * revocation was recorded (an outcome_unknown serial without one: its reservation), reasonCode
 * unless unspecified (§5.3.1), invalidityDate = revoked_at when earlier (§5.3.2).
 */
export const CRL_ENTRY_SOURCE_VIEW = `
CREATE VIEW crl_entry_source AS
SELECT issuer_id, grp, serial, certificate_id, CAST(x'30' || char(length(body)) || body AS BLOB) AS der FROM (
  SELECT issuer_id, grp, serial, certificate_id,
    CAST(x'02' || char(length(serial)) || serial || ${timeDer('rd')} || CASE WHEN length(eb) > 0 THEN x'30' || char(length(eb)) || eb ELSE x'' END AS BLOB) AS body
  FROM (
    SELECT issuer_id, grp, serial, certificate_id, rd,
      CAST(CASE WHEN code <> 0 THEN x'300A0603551D1504030A01' || char(code) ELSE x'' END
        || CASE WHEN inv IS NOT NULL THEN x'30180603551D180411180F' || substr(inv, 1, 4) || ${mmddhhmmss('inv')} || 'Z' ELSE x'' END AS BLOB) AS eb
    FROM (
      SELECT c.issuer_id, CASE c.status WHEN 'revoked' THEN 0 ELSE 1 END AS grp, c.serial, c.id AS certificate_id,
        coalesce(r.recorded_at, c.reserved_at) AS rd, ${REASON_CODE} AS code,
        CASE WHEN r.revoked_at < r.recorded_at THEN r.revoked_at END AS inv
      FROM certificates c LEFT JOIN revocations r ON r.certificate_id = c.id
      WHERE c.status IN ('revoked', 'outcome_unknown')
    )
  )
);`;

const upsert = (idExpr: string): string =>
  `INSERT INTO crl_entries (issuer_id, grp, serial, certificate_id, der) SELECT issuer_id, grp, serial, certificate_id, der FROM crl_entry_source WHERE certificate_id = ${idExpr}
    ON CONFLICT (certificate_id) DO UPDATE SET grp = excluded.grp, der = excluded.der;`;

/** Migration 9 (migrations.ts). */
export const CRL_ENTRIES_MIGRATION = `
-- The CRL's entries pre-encoded (issue #14 item 3): one row per certificate on the CRL with the
-- DER of its entry, in the order the CRL lists them (PRIMARY KEY), so ca crl reads them as a few
-- concatenated chunks instead of a million rows, and its size is a SQL sum.
-- UNIQUE (issuer_id, serial) proves the CRL has no duplicate serial (RFC 5280 §5.1.2.6); the
-- trigger below proves every entry names a certificate of this issuer that is revoked or
-- outcome_unknown (the lint's e_crl_entry_serial_unknown), and the CHECK that the entry's DER
-- is one SEQUENCE that starts with that serial. Rows are never deleted (revoked and
-- outcome_unknown are final statuses: migration 1).
CREATE TABLE crl_entries (
  issuer_id      INTEGER NOT NULL REFERENCES cas(id),
  grp            INTEGER NOT NULL CHECK (grp IN (0, 1)),
  serial         BLOB NOT NULL CHECK (length(serial) BETWEEN 1 AND 20),
  certificate_id INTEGER NOT NULL UNIQUE REFERENCES certificates(id),
  der            BLOB NOT NULL CHECK (
    hex(substr(der, 1, 2)) = '30' || printf('%02X', length(der) - 2)
    AND substr(der, 3, 2 + length(serial)) = CAST(x'02' || char(length(serial)) || serial AS BLOB)),
  PRIMARY KEY (issuer_id, grp, serial),
  UNIQUE (issuer_id, serial)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER crl_entries_of_a_certificate BEFORE INSERT ON crl_entries
WHEN NOT EXISTS (SELECT 1 FROM certificates c WHERE c.id = NEW.certificate_id AND c.issuer_id = NEW.issuer_id AND c.serial = NEW.serial
  AND c.status = CASE NEW.grp WHEN 0 THEN 'revoked' ELSE 'outcome_unknown' END)
BEGIN SELECT RAISE(ABORT, 'a CRL entry names a revoked or outcome_unknown certificate of its issuer'); END;
CREATE TRIGGER crl_entries_frozen BEFORE UPDATE OF issuer_id, grp, serial, certificate_id ON crl_entries
WHEN NEW.issuer_id IS NOT OLD.issuer_id OR NEW.grp IS NOT OLD.grp OR NEW.serial IS NOT OLD.serial OR NEW.certificate_id IS NOT OLD.certificate_id
BEGIN SELECT RAISE(ABORT, 'a CRL entry keeps its certificate'); END;
CREATE TRIGGER crl_entries_no_delete BEFORE DELETE ON crl_entries BEGIN SELECT RAISE(ABORT, 'CRL entries are never deleted'); END;
-- Entries and octets per issuer and group, kept in the same transaction: the CRL's exact size
-- without reading the entries twice (ca db check compares them with a full sum).
CREATE TABLE crl_entry_totals (
  issuer_id INTEGER NOT NULL REFERENCES cas(id),
  grp       INTEGER NOT NULL,
  n         INTEGER NOT NULL CHECK (n >= 0),
  octets    INTEGER NOT NULL CHECK (octets >= 0),
  PRIMARY KEY (issuer_id, grp)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER crl_entry_totals_insert AFTER INSERT ON crl_entries
BEGIN
  INSERT INTO crl_entry_totals (issuer_id, grp, n, octets) VALUES (NEW.issuer_id, NEW.grp, 1, length(NEW.der))
    ON CONFLICT (issuer_id, grp) DO UPDATE SET n = n + 1, octets = octets + length(NEW.der);
END;
CREATE TRIGGER crl_entry_totals_update AFTER UPDATE OF der ON crl_entries
BEGIN
  UPDATE crl_entry_totals SET octets = octets - length(OLD.der) + length(NEW.der) WHERE issuer_id = NEW.issuer_id AND grp = NEW.grp;
END;
${CRL_ENTRY_SOURCE_VIEW}
CREATE TRIGGER crl_entries_certificate_insert AFTER INSERT ON certificates WHEN NEW.status IN ('revoked', 'outcome_unknown')
BEGIN ${upsert('NEW.id')} END;
CREATE TRIGGER crl_entries_certificate_update AFTER UPDATE OF status, reserved_at ON certificates WHEN NEW.status IN ('revoked', 'outcome_unknown')
BEGIN ${upsert('NEW.id')} END;
CREATE TRIGGER crl_entries_revocation_insert AFTER INSERT ON revocations
BEGIN ${upsert('NEW.certificate_id')} END;
CREATE TRIGGER crl_entries_revocation_update AFTER UPDATE ON revocations
BEGIN ${upsert('NEW.certificate_id')} END;
INSERT INTO crl_entries (issuer_id, grp, serial, certificate_id, der) SELECT issuer_id, grp, serial, certificate_id, der FROM crl_entry_source;
`;
