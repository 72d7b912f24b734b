/**
 * Batch issuance (src/ca/batch-issuance.ts) with the in-process SmartCard-HSM emulator and a
 * real SQLite store: every serial and TBS of a chunk is durable before its signature is asked
 * for, whole-batch refusals change nothing, a card failure half-way leaves issued /
 * outcome_unknown / abandoned rows exactly, and a re-run plans the done CSRs as already issued.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase } from '../../../src/db/database.js';
import { SqliteStore } from '../../../src/db/sqlite-store.js';
import { checkDatabase } from '../../../src/db/db-check.js';
import { rootCeremony, subCaCeremony } from '../../../src/ca/ceremony.js';
import { CHUNK, SENT_WINDOW, issueBatch, planBatch, sentGroupSize } from '../../../src/ca/batch-issuance.js';
import { issuerInfoFromCertificate } from '../../../src/ca/issuance-issuer.js';
import type { Clock } from '../../../src/ca/clock.js';
import { loadProfiles, verifyIssuedCertificate } from '../../../src/ca/index.js';
import { sha256 } from '../../../src/common/sha256.js';
import { toHex } from '../../../src/common/hex.js';
import type { Signer } from '../../../src/crypto/signer.js';
import { CardcaError } from '../../../src/common/cardca-error.js';
import { inProcessCard as card } from '../../helpers/in-process-card.js';

const PROFILES = new URL('../../../../profiles', import.meta.url).pathname;

function csrs(dir: string, tag: string, n: number): { source: string; data: Uint8Array }[] {
  const out = [];
  for (let i = 0; i < n; i++) {
    const file = join(dir, `${tag}${i}.csr`);
    const cn = `${tag}${i}.example.test`;
    execFileSync('openssl', ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', join(dir, `${tag}${i}.key`),
      '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`, '-outform', 'DER', '-out', file], { stdio: 'ignore' });
    out.push({ source: `${tag}${i}.csr`, data: new Uint8Array(readFileSync(file)) });
  }
  return out;
}

let now = new Date('2026-11-20T09:00:00.000Z');
const ticking: Clock = { now: () => (now = new Date(now.getTime() + 1000)) };

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'cardca-batch-'));
  const dbPath = join(dir, 'ca.db');
  const store = new SqliteStore(openDatabase(dbPath, { create: true }));
  const profiles = loadProfiles(PROFILES);
  const rootCard = await card('root');
  const subCard = await card('subs');
  await rootCeremony({ store, clock: ticking, profiles }, { card: rootCard });
  await subCaCeremony({ store, clock: ticking, profiles }, { caName: 'servers', subjectCard: async () => subCard, issuerCard: async () => rootCard });
  const ca = store.getCa('servers')!;
  const info = issuerInfoFromCertificate(ca.certificate!, profiles.caProfile('servers'));
  const signer = await subCard.signer(ca.keyId);
  const deps = { store, clock: ticking, issuerName: 'servers', issuer: info };
  return { dir, dbPath, store, deps, signer, leaf: profiles.leafProfile('tls-server'), info };
}

/** Rows as another connection sees them: only what was committed. */
function committed(dbPath: string): { serial_hex: string; status: string; tbs: Buffer; queued: number }[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare("SELECT c.serial_hex, c.status, c.tbs, c.queued FROM certificates c JOIN cas i ON i.id = c.issuer_id WHERE i.name = 'servers' ORDER BY c.id").all() as never;
  } finally {
    db.close();
  }
}

test('issueBatch: every serial and TBS of the chunk is committed before its signature is asked for, and the row being signed is durably marked sent', async () => {
  const s = await setup();
  const input = csrs(s.dir, 'a', 5);
  const seenAtSign: string[] = [];
  const watching: Signer = {
    publicKey: () => s.signer.publicKey(),
    sign: async (tbs, alg) => {
      // A separate connection: the reservation is durable, not just visible inside a transaction.
      const rows = committed(s.dbPath).slice(-5);
      const mine = rows.find((r) => toHex(sha256(new Uint8Array(r.tbs))) === toHex(sha256(tbs)));
      assert.ok(mine, 'the TBS being signed is already committed');
      assert.equal(mine.status, 'reserved');
      assert.equal(mine.queued, 0, 'marked sent before the card is asked');
      // i = issued, s = reserved and sent, q = reserved and queued (never sent)
      seenAtSign.push(rows.map((r) => (r.status === 'issued' ? 'i' : r.status === 'reserved' ? (r.queued ? 'q' : 's') : '?')).join(''));
      return s.signer.sign(tbs, alg);
    },
  } as Signer;
  const r = await issueBatch(s.deps, { profile: s.leaf, csrs: input }, { withSigner: (fn) => fn(watching) });
  assert.equal(r.issued.length, 5);
  // One chunk (CHUNK > 5): all five intents durable before the first signature. Groups of 1, 2,
  // 2 (of 4, cut by the batch): at each signature the row being signed and the rest of its group
  // are sent without a result, the earlier groups issued (recorded in the commit that marked
  // this group sent), the later rows still queued.
  assert.ok(CHUNK > 5);
  assert.deepEqual(seenAtSign, ['sqqqq', 'issqq', 'issqq', 'iiiss', 'iiiss']);
  for (const x of r.issued) {
    assert.equal(x.record.status, 'issued');
    verifyIssuedCertificate(x.der, new Uint8Array(committed(s.dbPath).find((c) => c.serial_hex === x.record.serialHex)!.tbs), s.info.spki);
  }
  assert.deepEqual(committed(s.dbPath).slice(-5).map((c) => [c.status, c.queued]), Array.from({ length: 5 }, () => ['issued', 0]));
  assert.equal(r.plan.toSign, 5);
  assert.deepEqual(checkDatabase(s.store).problems, []);
});

test('issueBatch: onRecorded follows each commit\'s onIssued calls, while the card signs the next group\'s first row and before its second', async () => {
  const s = await setup();
  const input = csrs(s.dir, 'r', 5);
  const events: string[] = [];
  const counting: Signer = { publicKey: () => s.signer.publicKey(), sign: async (tbs, alg) => (events.push('sign'), s.signer.sign(tbs, alg)) } as Signer;
  await issueBatch(s.deps, { profile: s.leaf, csrs: input }, {
    withSigner: (fn) => fn(counting),
    onIssued: async (x) => void events.push(`issued ${x.entry.index + 1}`),
    onRecorded: async () => void events.push('flush'),
  });
  // Groups 1 | 2–3 | 4–5: each group's results are recorded by the next group's commit (the
  // last by the final one), and their files written while the card signs that group's first row.
  assert.deepEqual(events, ['sign', 'sign', 'issued 1', 'flush', 'sign', 'sign', 'issued 2', 'issued 3', 'flush', 'sign', 'issued 4', 'issued 5', 'flush']);
});

test('planBatch: a duplicate key anywhere in the batch refuses it before anything is written or signed', async () => {
  const s = await setup();
  const input = csrs(s.dir, 'd', 2);
  const before = committed(s.dbPath).length;
  let asked = 0;
  await assert.rejects(
    issueBatch(s.deps, { profile: s.leaf, csrs: [...input, { source: 'again.csr', data: input[0]!.data }] }, { withSigner: async (fn) => (asked++, fn(s.signer)) }),
    (e: unknown) => e instanceof CardcaError && e.code === 'KEY_DUPLICATE' && /again\.csr/.test(e.message),
  );
  assert.equal(asked, 0, 'no card session');
  assert.equal(committed(s.dbPath).length, before, 'nothing reserved');
});

test('issueBatch: a card failure half-way records the signed ones issued, the failed one outcome_unknown, the rest abandoned', async () => {
  const s = await setup();
  const input = csrs(s.dir, 'f', 5);
  let n = 0;
  const failing: Signer = {
    publicKey: () => s.signer.publicKey(),
    sign: async (tbs, alg) => {
      if (++n === 2) throw new CardcaError('CARD_IO', 'the card went away');
      return s.signer.sign(tbs, alg);
    },
  } as Signer;
  const written: string[] = [];
  await assert.rejects(
    issueBatch(s.deps, { profile: s.leaf, csrs: input }, { withSigner: (fn) => fn(failing), onIssued: async (x) => void written.push(x.entry.source) }),
    (e: unknown) => e instanceof CardcaError && e.code === 'CARD_IO',
  );
  assert.deepEqual(written, ['f0.csr'], 'the certificate signed before the failure is handed out');
  // Groups 1 | 2–3 | 4–5: the 2nd fails at the card; the 3rd was marked sent with it (the audit
  // log says sent: outcome_unknown, never abandoned); the 4th and 5th were never sent (abandoned).
  const statuses = committed(s.dbPath).slice(-5).map((r) => r.status);
  assert.deepEqual(statuses, ['issued', 'outcome_unknown', 'outcome_unknown', 'abandoned', 'abandoned']);
  const check = checkDatabase(s.store);
  assert.deepEqual(check.problems ?? [], []);

  // The re-run: the done CSR is written again, the outcome_unknown ones are skipped without
  // --reissue, the two abandoned ones are signed now.
  const plan = planBatch(s.deps, { profile: s.leaf, csrs: input });
  assert.deepEqual(plan.entries.map((e) => e.action), ['already-issued', 'skip', 'skip', 'sign', 'sign']);
  const again = await issueBatch(s.deps, { profile: s.leaf, csrs: input }, { withSigner: (fn) => fn(s.signer) });
  assert.deepEqual(again.issued.map((x) => x.entry.source), ['f3.csr', 'f4.csr']);
});

test('sentGroupSize: groups of 1, 2, 4, 8, then SENT_WINDOW; a crash never leaves more than SENT_WINDOW rows sent without a result', () => {
  const sizes: number[] = [];
  for (let sent = 0; sent < 100; ) {
    const n = sentGroupSize(sent);
    sizes.push(n);
    sent += n;
  }
  assert.deepEqual(sizes.slice(0, 6), [1, 2, 4, 8, 16, 16]);
  assert.ok(sizes.every((n) => n >= 1 && n <= SENT_WINDOW));
  assert.equal(SENT_WINDOW, 16);
});

test('issueBatch: the card is asked for the next row of a group while the host checks the last one, never for two at once', async () => {
  const s = await setup();
  const input = csrs(s.dir, 'p', 7);
  let inFlight = 0;
  let most = 0;
  const log: string[] = [];
  const slow: Signer = {
    publicKey: () => s.signer.publicKey(),
    sign: async (tbs, alg) => {
      inFlight++;
      most = Math.max(most, inFlight);
      log.push('sign');
      try {
        // A card that takes a while: the batch must not send another request meanwhile.
        await new Promise((r) => setTimeout(r, 5));
        return await s.signer.sign(tbs, alg);
      } finally {
        inFlight--;
      }
    },
  } as Signer;
  const r = await issueBatch(s.deps, { profile: s.leaf, csrs: input }, { withSigner: (fn) => fn(slow), onRecorded: async () => void log.push('flush') });
  assert.equal(r.issued.length, 7);
  assert.equal(most, 1, 'one request at a time');
  // Groups 1 | 2–3 | 4–7: each commit's files are flushed while the card signs the next group's first row.
  assert.deepEqual(log, ['sign', 'sign', 'flush', 'sign', 'sign', 'flush', 'sign', 'sign', 'sign', 'flush']);
  for (const x of r.issued) verifyIssuedCertificate(x.der, new Uint8Array(committed(s.dbPath).find((c) => c.serial_hex === x.record.serialHex)!.tbs), s.info.spki);
});

test('issueBatch: a signature that fails the host\'s check stops the batch after the request already sent for the next row has come back', async () => {
  const s = await setup();
  const input = csrs(s.dir, 'v', 7);
  let n = 0;
  let answered = 0;
  const wrong: Signer = {
    publicKey: () => s.signer.publicKey(),
    sign: async (tbs, alg) => {
      const i = ++n;
      // The 4th row (first of group 4–7) gets a valid signature over other bytes: the
      // certificate does not verify. The 5th row's request is then already on its way.
      const sig = await s.signer.sign(i === 4 ? Uint8Array.from(tbs, (b) => b ^ 1) : tbs, alg);
      if (i === 5) await new Promise((r) => setTimeout(r, 30));
      answered = i;
      return sig;
    },
  } as Signer;
  await assert.rejects(issueBatch(s.deps, { profile: s.leaf, csrs: input }, { withSigner: (fn) => fn(wrong) }), (e: unknown) => e instanceof CardcaError);
  assert.equal(n, 5, 'the card was asked for the 5th row before the 4th was checked');
  assert.equal(answered, 5, 'the batch returned only after that request came back');
  // 1–3 issued; 4 failed its check and 5 was sent (both outcome_unknown: 5 may be signed); 6–7
  // are marked sent with their group (outcome_unknown, the audit log says sent), never abandoned.
  assert.deepEqual(committed(s.dbPath).slice(-7).map((r) => r.status), ['issued', 'issued', 'issued', 'outcome_unknown', 'outcome_unknown', 'outcome_unknown', 'outcome_unknown']);
  assert.deepEqual(checkDatabase(s.store).problems ?? [], []);
});
