/**
 * The audit log read by event. The log only grows (a CA that has issued two million
 * certificates holds six million records or more), so a lookup of one kind of record must not
 * read the whole log: migration 12's index audit_log_by_event (event, seq) answers the first
 * two below from the index. test/unit/db/audit-by-event.test.ts checks each plan with
 * EXPLAIN QUERY PLAN (https://sqlite.org/eqp.html).
 */

/** The newest profile pin (`ca init` or `ca profiles accept`): every command reads it. */
export const NEWEST_PROFILE_PIN_SQL =
  "SELECT seq, at, data FROM audit_log WHERE event IN ('ca.init', 'profiles.accepted') ORDER BY seq DESC LIMIT 1";

/** Every record of one event, oldest first (`ca status`: the card checkpoints). */
export const RECORDS_OF_EVENT_SQL = 'SELECT at, data FROM audit_log WHERE event = ? ORDER BY seq';

/**
 * Intent and sent records from the newest backwards, read only until the caller has what it
 * needs (the tail of one interrupted run). `+event` keeps SQLite off the event index on purpose:
 * through the index it would collect and sort every intent of the CA's life before the first
 * row; a backwards walk of the table stops after the run's own records.
 */
export const SENT_OR_INTENT_NEWEST_FIRST_SQL =
  "SELECT event, ca, data FROM audit_log WHERE +event IN ('certificate.sent', 'certificate.intent') ORDER BY seq DESC";
