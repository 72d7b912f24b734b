import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';

/**
 * cardca's PIV emulator (src/card/emulator/piv-attestation.ts) signs its slot-F9 attestation
 * certificate with a throwaway TEST root whose name starts with this text; a real YubiKey's F9
 * certificate is issued by "Yubico PIV Root CA" (developers.yubico.com/PIV/Introduction/
 * PIV_attestation.html). So a token whose F9 issuer carries it is emulated.
 */
export const PIV_EMULATOR_ISSUER_PREFIX = 'cardca emulator TEST';

/** The sentence that says how we know the token is emulated, or undefined. */
export function emulatedPivEvidence(f9Certificate: Uint8Array | undefined): string | undefined {
  if (!f9Certificate) return undefined;
  let issuer: string[];
  try {
    const cert = AsnConvert.parse(f9Certificate, Certificate);
    issuer = cert.tbsCertificate.issuer.flatMap((rdn) => rdn.map((atv) => atv.value.toString()));
  } catch {
    return undefined; // a damaged F9 object is no evidence either way
  }
  const hit = issuer.find((v) => v.startsWith(PIV_EMULATOR_ISSUER_PREFIX));
  return hit ? `its attestation certificate (slot F9) is issued by "${hit}", the cardca emulator's TEST root, not Yubico's PIV root` : undefined;
}
