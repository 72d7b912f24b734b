import type { TokenCard } from '../../ca/enroll.js';
import type { DriverCardSession } from '../../card/card-session-impl.js';

/**
 * The one place `ca enroll` stores a certificate on a user's card. Today it is the write-back
 * path the ceremonies use (`CardSession.writeCertificate` → the driver's `writeCertificate`);
 * keeping it behind this function lets the safe write-back (checked against the key's public
 * key, atomic replace) take over without touching the enrolment engine.
 */
export async function writeTokenCertificate(card: TokenCard, keyId: string, der: Uint8Array): Promise<void> {
  await (card as DriverCardSession).writeCertificate(keyId, der);
}
