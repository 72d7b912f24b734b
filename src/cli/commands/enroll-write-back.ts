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
