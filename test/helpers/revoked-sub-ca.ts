import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCeremony, subCaCeremony } from '../../src/ca/ceremony.js';
import type { Clock } from '../../src/ca/clock.js';
import { loadProfiles, parseCsr } from '../../src/ca/index.js';
import { issueCertificate } from '../../src/ca/issuance.js';
import { issuerInfoFromCertificate } from '../../src/ca/issuance-issuer.js';
import { openDatabase } from '../../src/db/database.js';
import { SqliteStore } from '../../src/db/sqlite-store.js';
import { inProcessCard } from './in-process-card.js';

const PROFILES = new URL('../../../profiles', import.meta.url).pathname;

/**
 * A sub-CA `servers` under a root, both on in-process cards, in a CA home on disk (`dir/ca.db`),
 * with one tls-server certificate per name in `cns` (openssl CSRs, P-256) issued and revoked for
 * keyCompromise: what the CRL cycle's unit tests sign CRLs for.
 */
export async function revokedSubCa(prefix: string, clock: Clock, cns: readonly string[]) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const store = new SqliteStore(openDatabase(join(dir, 'ca.db'), { create: true }));
  const profiles = loadProfiles(PROFILES);
  const rootCard = await inProcessCard('root');
  const subCard = await inProcessCard('subs');
  await rootCeremony({ store, clock, profiles }, { card: rootCard });
  await subCaCeremony({ store, clock, profiles }, { caName: 'servers', subjectCard: async () => subCard, issuerCard: async () => rootCard });
  const ca = store.getCa('servers')!;
  const info = issuerInfoFromCertificate(ca.certificate!, profiles.caProfile('servers'));
  const signer = await subCard.signer(ca.keyId);
  for (const cn of cns) {
    execFileSync('openssl', ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', join(dir, `${cn}.key`), '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`, '-out', join(dir, `${cn}.csr`)], { stdio: 'ignore' });
    const parsed = parseCsr(new Uint8Array(readFileSync(join(dir, `${cn}.csr`))));
    const issued = await issueCertificate({ store, clock, signer, issuerName: 'servers', issuer: info }, { profile: profiles.leafProfile('tls-server'), spki: parsed.spki, subject: parsed.subject, csrSans: parsed.sans });
    const at = clock.now();
    store.revokeCertificate(issued.record.id, at, 'keyCompromise', { event: 'certificate.revoked', ca: 'servers', data: { serial: issued.record.serialHex, reason: 'keyCompromise', revocationDate: at.toISOString() } }, at);
  }
  return { dir, store, info, signer, cert: ca.certificate! };
}
