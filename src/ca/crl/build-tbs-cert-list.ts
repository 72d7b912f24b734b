import type { SignatureAlgorithm } from '../../crypto/signer.js';
import { CaError } from '../errors.js';
import { crlEntryStreamOf } from './crl-entry-stream.js';
import type { TbsCertListInput } from './tbs-cert-list-input.js';
import { writeTbsCertList } from './write-tbs-cert-list.js';

function iso(d: Date, what: string): string {
  if (!Number.isFinite(d.getTime())) throw new CaError('CA_BAD_CRL_DATES', `${what} is not a valid date`);
  return d.toISOString();
}

/**
 * Serialise a v2 TBSCertList (RFC 5280 §5.1) from an in-memory entry list: the same writer as
 * the CRL cycle's streaming path (write-tbs-cert-list.ts), so both produce identical bytes.
 */
export function buildTbsCertList(input: TbsCertListInput, signatureAlgorithm: SignatureAlgorithm): Uint8Array {
  const entries = crlEntryStreamOf(
    input.entries.map((e) => ({
      serial: e.serial,
      revocationDate: iso(e.revocationDate, 'revocationDate'),
      ...(e.reason ? { reason: e.reason } : {}),
      ...(e.invalidityDate ? { invalidityDate: iso(e.invalidityDate, 'invalidityDate') } : {}),
    })),
  );
  const header = { issuerName: input.issuerName, aki: input.aki, thisUpdate: iso(input.thisUpdate, 'thisUpdate'), nextUpdate: iso(input.nextUpdate, 'nextUpdate'), crlNumber: input.crlNumber };
  return writeTbsCertList(header, signatureAlgorithm, entries).tbs.slice();
}
