import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pemDecodeAll } from '../ca/chain.js';
import { sha256 } from '../ca/issuance.js';
import type { AuditRecord, CaStore } from '../ca/store.js';

/** A store whose audit log can be read (SqliteStore). */
export type ChainStore = CaStore & { auditRecords(): readonly AuditRecord[] };
import { toHex } from '../common/hex.js';
import { CliError } from './cli-error.js';

/** Where `ca ceremony subca NAME --import-cert` keeps the external chain (ceremony-external.ts). */
export function externalChainPath(home: string, caName: string): string {
  return join(home, 'certs', `${caName}.external-chain.pem`);
}

/**
 * The external chain above a sub-CA whose root is someone else's (issue #11 item 1), issuing CA
 * first … the external root last; empty for a CA of this installation's own hierarchy. The
 * file's certificates must be exactly those whose SHA-256s the import ceremony recorded in the
 * audit log (its `ceremony.step` with `chain`), so a swapped file is refused, not exported.
 */
export function externalChainOf(store: ChainStore, home: string, caName: string): Uint8Array[] {
  const ca = store.getCa(caName);
  if (!ca || ca.parentName !== undefined || !ca.certificate) return [];
  const records = [...store.auditRecords()].filter((r) => r.ca === caName);
  const imported = records.some((r) => r.event === 'ca.certificate' && r.data['issuer'] === 'external');
  if (!imported) return [];
  const step = records.reverse().find((r) => r.event === 'ceremony.step' && Array.isArray(r.data['chain']));
  const recorded = ((step?.data['chain'] ?? []) as unknown[]).map((h) => String(h).toLowerCase());
  const path = externalChainPath(home, caName);
  if (!existsSync(path)) {
    throw new CliError('EXPORT_EXTERNAL_CHAIN_MISSING', `${path} is missing: the external chain above ${caName} cannot be exported`, {
      hint: `Put back the chain the external CA gave you (the issuing CA(s) and root, PEM) as ${path}; cardca checks it against the SHA-256s the import recorded.`,
    });
  }
  const chain = pemDecodeAll(readFileSync(path, 'utf8'), 'CERTIFICATE');
  const found = chain.map((c) => toHex(sha256(c)).toLowerCase());
  if (found.length !== recorded.length || found.some((h, i) => h !== recorded[i])) {
    throw new CliError('INTEGRITY_EXTERNAL_CHAIN', `${path} is not the external chain recorded when ${caName}'s certificate was imported`, {
      hint: 'Restore the file from the import ceremony (or your backup); `ca audit log` shows the recorded SHA-256s.',
      details: { recorded, found },
    });
  }
  return chain;
}
