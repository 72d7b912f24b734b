import { CardcaError } from '../common/cardca-error.js';

/**
 * Errors of the issuance database. Codes: `DB_…` (opening, pragmas, migrations, integrity),
 * `STORE_…` (a write the store refuses), `LOCK_…` (another `ca` process holds the home),
 * `AUDIT_…` (the hash chain is broken). The CLI maps the prefixes to exit codes.
 */
export class DbError extends CardcaError {}
