/**
 * TEST-ONLY generator (issue #14 item 5): fills a rehearsal CA home's database with a large
 * number of certificate rows, some revoked, for the scale bench (bench/scale.ts) and the
 * large-CRL integration test. Never reachable from the CLI: it lives under test/helpers/, and
 * nothing in src/ imports it. It refuses a home that is not a rehearsal home.
 *
 * What the rows are: real-looking rows of the `certificates` and `revocations` tables, written
 * through the db layer's connection in one transaction, with the schema's triggers and checks
 * active (ISO time formats, status rules, the certificate counts of migration 5). Serials are
 * 16 octets (positive, minimal, a counter in octets 1..4 so they never collide), subjects and
 * SANs per row, notAfter spread over the next two years with a share inside 30 days, revocation
 * reasons as a user CA sees them (superseded, keyCompromise with an earlier invalidity date,
 * affiliationChanged, cessationOfOperation, privilegeWithdrawn, unspecified).
 *
 * What it bypasses, on purpose (so a million rows take seconds, not hours):
 *   - no card signs anything: `der` and `tbs` are copies of one real certificate of the issuing
 *     CA (sizes realistic; serial, subject and signature inside them are that certificate's),
 *     `tbs_sha256` is the true hash of the stored `tbs`;
 *   - no per-row audit records (certificate.intent / issued / revoked): ONE `test.scale-fill`
 *     record says how many rows were added, keeping the hash chain valid.
 * So `ca audit verify` passes, but `ca db check` reports every generated row (its DER does not
 * carry its serial, and it has no intent record). That is the price of a fast fill; a home
 * filled this way is for benchmarks and tests only.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { CrlReason } from '../../src/ca/crl/tbs-cert-list-input.js';
import { readHomeMode } from '../../src/cli/home-mode.js';
import { writeTransaction } from '../../src/db/database.js';
import type { SqliteStore } from '../../src/db/sqlite-store.js';

export interface ScaleFillOptions {
  /** CA whose rows to add (must exist, with its certificate). */
  readonly issuer: string;
  /** Rows to add. */
  readonly count: number;
  /** How many of them are revoked (the first `revoked` rows of the batch, spread by reason). */
  readonly revoked: number;
  /** Of the non-revoked rows, how many expire within 30 days of `now` (the rest: 31..730 days). */
  readonly expiringWithin30Days?: number;
  /** Reference instant: rows were issued before it, revocations recorded before it. */
  readonly now: Date;
  /** Rows per transaction (default: all in one). */
  readonly batch?: number;
}

export interface ScaleFillResult {
  readonly added: number;
  readonly revoked: number;
  readonly expiring: number;
  /** Serial hex of the first revoked row (for spot checks). */
  readonly firstRevokedSerialHex: string | undefined;
}

const DAY = 86_400_000;
const REASONS: readonly (CrlReason | 'unspecified')[] = ['superseded', 'superseded', 'superseded', 'unspecified', 'unspecified', 'keyCompromise', 'affiliationChanged', 'cessationOfOperation', 'privilegeWithdrawn', 'superseded'];

const iso = (ms: number): string => new Date(ms).toISOString();

export function fillScale(store: SqliteStore, o: ScaleFillOptions): ScaleFillResult {
  const db = store.db;
  if (!readHomeMode(store).rehearsal) throw new Error('scale-fill: refusing a production CA home; only rehearsal homes (`ca init --rehearsal`) may be filled');
  const ca = store.getCa(o.issuer);
  if (!ca?.certificate) throw new Error(`scale-fill: CA ${o.issuer} does not exist or has no certificate`);
  const issuerId = ca.id;
  // One real certificate of this CA as the byte template: its newest issued leaf, else the CA
  // certificate itself.
  const leaf = db.prepare("SELECT tbs, der FROM certificates WHERE issuer_id = ? AND der IS NOT NULL ORDER BY id DESC LIMIT 1").get(issuerId) as { tbs: Buffer; der: Buffer } | undefined;
  const der = leaf?.der ?? Buffer.from(ca.certificate);
  const tbs = leaf?.tbs ?? der;
  const tbsSha = createHash('sha256').update(tbs).digest();
  const base = (db.prepare('SELECT coalesce(max(id), 0) FROM certificates').pluck().get() as number) + 1;

  const insertCert = db.prepare(
    `INSERT INTO certificates (issuer_id, serial, serial_hex, status, profile, subject, sans, not_before, not_after, spki_sha256, tbs, tbs_sha256, der, is_ca, reserved_at, issued_at)
     VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,0,?,?)`,
  );
  // Each revoked row's pre-encoded CRL entry (migration 9) is written by the database's triggers
  // on these two inserts, exactly as for `ca revoke`: nothing to add here.
  const insertRev = db.prepare('INSERT INTO revocations (certificate_id, revoked_at, reason, recorded_at) VALUES (?,?,?,?)');
  const now = o.now.getTime();
  const expiring = Math.min(o.expiringWithin30Days ?? 0, o.count - o.revoked);
  const batch = o.batch ?? o.count;
  const random = randomBytes(32 * Math.min(batch, 100_000) + 16);
  let firstRevoked: string | undefined;
  let i = 0;
  // A large page cache for this connection while filling: the random SPKI hashes go into an
  // index, and with SQLite's default 2 MB cache every insert would re-read index pages.
  const cache = db.pragma('cache_size', { simple: true }) as number;
  db.pragma('cache_size = -262144');
  while (i < o.count) {
    const end = Math.min(o.count, i + batch);
    writeTransaction(db, () => {
      for (; i < end; i++) {
        const n = base + i;
        const serial = Buffer.alloc(16);
        random.copy(serial, 0, (i * 16) % (random.length - 16), ((i * 16) % (random.length - 16)) + 16);
        serial[0] = 0x40;
        serial.writeUInt32BE(n >>> 0, 1); // unique within the fill
        const serialHex = serial.toString('hex').toUpperCase();
        const spki = createHash('sha256').update(serial).digest();
        const issuedAt = now - ((i * 7919) % 365) * DAY - 3_600_000;
        const revokedRow = i < o.revoked;
        const nonRevokedIndex = i - o.revoked;
        const notAfter = !revokedRow && nonRevokedIndex < expiring
          ? now + (1 + (nonRevokedIndex % 29)) * DAY
          : now + (31 + (i % 700)) * DAY;
        const user = `user${n}`;
        const id = Number(
          insertCert.run(
            issuerId, serial, serialHex, revokedRow ? 'revoked' : 'issued', 'user', `C=DE, O=Example VPN, CN=${user}`, JSON.stringify([`email:${user}@example.test`]),
            iso(issuedAt), iso(notAfter), spki, tbs, tbsSha, der, iso(issuedAt - 1000), iso(issuedAt),
          ).lastInsertRowid,
        );
        if (revokedRow) {
          firstRevoked ??= serialHex;
          const reason = REASONS[i % REASONS.length]!;
          const recordedAt = Math.min(now - 60_000, issuedAt + (1 + (i % 300)) * DAY);
          // keyCompromise with the operator's compromise date a day earlier (→ invalidityDate).
          const revokedAt = reason === 'keyCompromise' ? recordedAt - DAY : recordedAt;
          insertRev.run(id, iso(revokedAt), reason, iso(recordedAt));
        }
      }
    });
  }
  db.pragma(`cache_size = ${cache}`);
  store.audit({ event: 'test.scale-fill', ca: o.issuer, data: { added: o.count, revoked: o.revoked, expiringWithin30Days: expiring, note: 'test-only generator (test/helpers/scale-fill.ts): rows without per-row audit records or own signatures' } }, new Date(now));
  return { added: o.count, revoked: o.revoked, expiring, firstRevokedSerialHex: firstRevoked };
}

/**
 * The peer's input for the same CA: an OpenSSL `index.txt` (the `openssl ca` database) with one
 * line per certificate row of `issuer` — V(alid) or R(evoked) with revocation time, reason and,
 * for keyCompromise, the compromise time (openssl ca's `keyTime`, written as invalidityDate).
 * privilegeWithdrawn, which openssl ca refuses, becomes cessationOfOperation (same size).
 */
export function writeOpensslIndex(store: SqliteStore, issuer: string, write: (chunk: string) => void): number {
  const ymd = (s: string, four: boolean): string => (four ? s.slice(0, 4) : s.slice(2, 4)) + s.slice(5, 7) + s.slice(8, 10) + s.slice(11, 13) + s.slice(14, 16) + s.slice(17, 19) + 'Z';
  const utc = (s: string): string => (s < '2050' ? ymd(s, false) : ymd(s, true));
  let n = 0;
  let buf: string[] = [];
  const rows = store.db
    .prepare(
      `SELECT c.serial_hex, c.status, c.not_after, c.subject, r.revoked_at, r.recorded_at, r.reason FROM certificates c JOIN cas i ON i.id = c.issuer_id
       LEFT JOIN revocations r ON r.certificate_id = c.id WHERE i.name = ? AND c.status IN ('issued', 'revoked') ORDER BY c.id`,
    )
    .raw(true);
  for (const r of rows.iterate(issuer) as IterableIterator<(string | null)[]>) {
    const [serialHex, status, notAfter, subject, revokedAt, recordedAt, reason] = r as [string, string, string, string, string | null, string | null, string | null];
    let rev = '';
    if (status === 'revoked' && recordedAt) {
      rev = utc(recordedAt);
      // openssl ca knows the RFC 5280 reasons up to removeFromCRL only (apps/ca.c crl_reasons[]:
      // no privilegeWithdrawn, "invalid reason code"): such an entry is written as
      // cessationOfOperation, which encodes to the same number of octets.
      // keyCompromise with a compromise time is openssl ca's `keyTime,TIME` (reasonCode
      // keyCompromise + invalidityDate); `keyCompromise,TIME` silently drops the time.
      const compromised = reason === 'keyCompromise' && revokedAt && revokedAt < recordedAt;
      if (compromised) rev += `,keyTime,${ymd(revokedAt, true)}`;
      else if (reason && reason !== 'unspecified') rev += `,${reason === 'privilegeWithdrawn' ? 'cessationOfOperation' : reason}`;
    }
    const dn = '/' + subject.split(', ').join('/');
    buf.push(`${status === 'revoked' ? 'R' : 'V'}\t${utc(notAfter)}\t${rev}\t${serialHex}\tunknown\t${dn}\n`);
    n++;
    if (buf.length >= 10_000) {
      write(buf.join(''));
      buf = [];
    }
  }
  if (buf.length) write(buf.join(''));
  return n;
}
