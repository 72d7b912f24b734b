/**
 * Benchmark (not a test): certificates per second for a batch of 200 CSRs through the whole
 * issuance cycle (CSR parse + key policy → TX1 → lint → card SIGN → assemble/verify → TX2) on
 * the emulated SmartCard-HSM, in-process and through pcscd, with the time split between CA
 * work (host) and card work (inside Signer.sign).
 *
 *   npx tsc -p . && node dist/bench/issuance.js [port]     (pcscd part uses vpcd ports 35963 and 35964)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startEmulator } from '../test/helpers/emulator-process.js';
import { PcscCardService } from '../src/card/pcsc-card-service.js';
import { DriverCardSession } from '../src/card/card-session-impl.js';
import { ScHsmCard } from '../src/card/emulator/sc-hsm-card.js';
import { InProcessTransport } from '../src/card/transport/in-process-transport.js';
import { openDatabase } from '../src/db/database.js';
import { SqliteStore } from '../src/db/sqlite-store.js';
import { rootCeremony, subCaCeremony } from '../src/ca/ceremony.js';
import { issueCertificate } from '../src/ca/issuance.js';
import { issueBatch } from '../src/ca/batch-issuance.js';
import { issuerInfoFromCertificate } from '../src/ca/issuance-issuer.js';
import { systemClock } from '../src/ca/clock.js';
import { checkCsrKeyPolicy, loadProfiles, parseCsr } from '../src/ca/index.js';

const PIN = Buffer.from('648219');
const SO = Buffer.from('3537363231383830', 'hex');
const PROFILES = new URL('../../profiles', import.meta.url).pathname;
const BATCH = 200;

/** CSRs made by `openssl req` (EC P-256), outside the timed part. */
function makeCsrs(n: number): Uint8Array[] {
  const dir = mkdtempSync(join(tmpdir(), 'cardca-bench-csr-'));
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const cn = `host${i}.example.test`;
    const file = join(dir, `${i}.csr`);
    execFileSync('openssl', ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', join(dir, `${i}.key`),
      '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`, '-outform', 'DER', '-out', file], { stdio: 'ignore' });
    out.push(new Uint8Array(readFileSync(file)));
  }
  return out;
}

async function initCard(s: DriverCardSession, label: string): Promise<void> {
  await s.initialize({ soPin: SO, userPin: PIN, retries: 3, label });
  await s.verifyPin(PIN);
}

/** A fresh home with a root and a `servers` sub-CA on the two cards (untimed set-up of both rows). */
async function servingCa(rootCard: DriverCardSession, subCard: DriverCardSession) {
  const dir = mkdtempSync(join(tmpdir(), 'cardca-bench-'));
  const store = new SqliteStore(openDatabase(join(dir, 'ca.db'), { create: true }));
  const profiles = loadProfiles(PROFILES);
  await rootCeremony({ store, clock: systemClock, profiles }, { card: rootCard });
  await subCaCeremony({ store, clock: systemClock, profiles }, { caName: 'servers', subjectCard: async () => subCard, issuerCard: async () => rootCard });
  const ca = store.getCa('servers')!;
  const info = issuerInfoFromCertificate(ca.certificate!, profiles.caProfile('servers'));
  const signer = await subCard.signer(ca.keyId);
  return { store, profiles, info, signer };
}

async function batch(label: string, rootCard: DriverCardSession, subCard: DriverCardSession, csrs: readonly Uint8Array[]): Promise<void> {
  const { store, profiles, info, signer } = await servingCa(rootCard, subCard);
  const leaf = profiles.leafProfile('tls-server');
  let cardMs = 0;
  const t0 = performance.now();
  for (const der of csrs) {
    const csr = parseCsr(der);
    checkCsrKeyPolicy(csr);
    const r = await issueCertificate(
      { store, clock: systemClock, signer, issuerName: 'servers', issuer: info },
      { profile: leaf, spki: csr.spki, subject: csr.subject, csrSans: csr.sans, csrDer: csr.der },
    );
    cardMs += r.signMs;
  }
  const total = performance.now() - t0;
  store.db.close();
  console.log(
    `  ${label}: ${csrs.length} certificates in ${(total / 1000).toFixed(2)} s = ${((csrs.length * 1000) / total).toFixed(1)} cert/s; ` +
      `card ${(cardMs / 1000).toFixed(2)} s (${((100 * cardMs) / total).toFixed(0)} %), CA ${((total - cardMs) / 1000).toFixed(2)} s`,
  );
}

/**
 * The same CSRs through `issueBatch` (what `ca sign a.csr b.csr …` runs: one plan, chunked
 * reservations, one commit per certificate): host time per certificate with the card's signing
 * excluded (issue #14 item 2's "host CA work"), and the process CPU time per certificate.
 */
export async function engineBatch(label: string, rootCard: DriverCardSession, subCard: DriverCardSession, csrs: readonly Uint8Array[]): Promise<void> {
  const { store, profiles, info, signer } = await servingCa(rootCard, subCard);
  const cpu0 = process.cpuUsage();
  const r = await issueBatch(
    { store, clock: systemClock, issuerName: 'servers', issuer: info },
    { profile: profiles.leafProfile('tls-server'), csrs: csrs.map((data, i) => ({ source: `${i}.csr`, data })) },
    { withSigner: (fn) => fn(signer) },
  );
  const cpu = process.cpuUsage(cpu0);
  store.db.close();
  const n = r.issued.length;
  console.log(
    `  ${label}: ${n} certificates in ${(r.totalMs / 1000).toFixed(2)} s; host CA work ${((r.totalMs - r.cardMs - r.sessionMs) / n).toFixed(2)} ms/cert (card excluded, goal ≤ 2), ` +
      `card ${(r.cardMs / n).toFixed(2)} ms/cert; process CPU ${((cpu.user + cpu.system) / 1000 / n).toFixed(2)} ms/cert (card's crypto included)`,
  );
}

export async function run(port = 35963): Promise<void> {
  const csrs = makeCsrs(BATCH);
  {
    const root = await DriverCardSession.open(new InProcessTransport(new ScHsmCard()));
    const sub = await DriverCardSession.open(new InProcessTransport(new ScHsmCard()));
    await initCard(root, 'bench root');
    await initCard(sub, 'bench sub');
    await batch('in-process card', root, sub, csrs);
  }
  {
    const root = await DriverCardSession.open(new InProcessTransport(new ScHsmCard()));
    const sub = await DriverCardSession.open(new InProcessTransport(new ScHsmCard()));
    await initCard(root, 'bench root');
    await initCard(sub, 'bench sub');
    await engineBatch('issueBatch, in-process card', root, sub, csrs);
  }
  const emuRoot = await startEmulator({ port });
  const emuSub = await startEmulator({ port: port + 1 });
  const service = new PcscCardService();
  try {
    const root = await service.open({ reader: emuRoot.readerName });
    const sub = await service.open({ reader: emuSub.readerName });
    await initCard(root, 'bench root');
    await initCard(sub, 'bench sub');
    await batch('pcscd + vpcd card', root, sub, csrs);
    await root.close();
    await sub.close();
  } finally {
    await service.close();
    await emuRoot.stop();
    await emuSub.stop();
  }
}

if (process.argv[1]?.endsWith('issuance.js')) {
  run(process.argv[2] ? Number(process.argv[2]) : undefined).catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
