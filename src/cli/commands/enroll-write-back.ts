import { X509Certificate } from 'node:crypto';
import type { TokenCard } from '../../ca/enroll.js';
import type { DriverCardSession } from '../../card/card-session-impl.js';

/**
 * The one place `ca enroll` stores a certificate on a user's card: the write-back the
 * ceremonies and `ca card cert write` use (`CardSession.writeCertificate` → the driver's
 * `writeCertificate`), which checks the certificate against the key's public key before it
 * touches the card and never leaves the key without a readable public key.
 */
export async function writeTokenCertificate(card: TokenCard, keyId: string, der: Uint8Array): Promise<void> {
  await (card as DriverCardSession).writeCertificate(keyId, der);
}

/**
 * The issuing CA's chain (issuing CA first) onto the user's token, where its card family keeps
 * CA certificates (SmartCard-HSM `CA xx`/`C8 xx`, read by OpenSC as authority certificates;
 * the driver reads each file back). `undefined`: the family has no place for them (PIV: SP
 * 800-73-4 has no container for a key-less certificate, and OpenSC's PIV emulation would
 * show a certificate in a retired slot as a key that is not there), so the chain stays in the
 * files `ca enroll` writes. Labels are the certificates' subject CNs.
 */
export async function writeTokenCaCertificates(card: TokenCard, chain: readonly Uint8Array[]): Promise<{ stored: number; written: number } | undefined> {
  const s = card as DriverCardSession;
  if (!s.capabilities.caCertificates) return undefined;
  let written = 0;
  for (const der of chain) {
    const cn = /^CN=(.*)$/m.exec(new X509Certificate(der).subject)?.[1] ?? 'CA certificate';
    if ((await s.writeCaCertificate(der, cn))?.written) written++;
  }
  return { stored: chain.length, written };
}
