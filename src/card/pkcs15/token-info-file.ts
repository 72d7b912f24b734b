import { AsnConvert, BitString, OctetString } from '@peculiar/asn1-schema';
import { TokenFlags, TokenInfo } from './schema/token-info.js';

/** EF.TokenInfo (PKCS#15 §6.9) as cardca writes it at initialisation (SmartCard-HSM `2F03`). */
export function encodeTokenInfo(serial: string, label: string): Uint8Array {
  const ti = new TokenInfo({
    version: 0,
    serialNumber: new OctetString(new TextEncoder().encode(serial)),
    manufacturerID: 'cardca',
    label,
    tokenflags: new BitString(TokenFlags.loginRequired),
  });
  return new Uint8Array(AsnConvert.serialize(ti));
}

export function parseTokenInfo(der: Uint8Array): { serial: string; label: string | undefined; manufacturer: string | undefined } {
  const ti = AsnConvert.parse(der, TokenInfo);
  return {
    serial: new TextDecoder().decode(ti.serialNumber.buffer),
    label: ti.label,
    manufacturer: ti.manufacturerID,
  };
}
