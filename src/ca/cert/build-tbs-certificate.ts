import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  Extension,
  Extensions,
  Name,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import type { SignatureAlgorithm } from '../../crypto/signer.js';
import { bytesEqual } from '../../common/hex.js';
import { CaError } from '../errors.js';
import { children, readSingle, slice } from '../x509/der.js';
import { signatureAlgorithmIdentifier } from '../x509/signature-algorithm-identifier.js';
import type { TbsCertificateInput } from './tbs-certificate-input.js';

/** Checks RFC 5280 §4.1.2.2: positive, non-zero, minimal, at most 20 octets. */
export function checkSerial(serial: Uint8Array): void {
  if (serial.length === 0 || serial.length > 20) {
    throw new CaError('CA_BAD_SERIAL', `serial is ${serial.length} octets; RFC 5280 §4.1.2.2 allows 1..20`);
  }
  if (serial[0]! & 0x80) throw new CaError('CA_BAD_SERIAL', 'serial is negative (top bit set); prefix 0x00');
  if (serial.length > 1 && serial[0] === 0 && !(serial[1]! & 0x80)) {
    throw new CaError('CA_BAD_SERIAL', 'serial is not minimally encoded (leading 0x00)');
  }
  if (serial.every((b) => b === 0)) throw new CaError('CA_BAD_SERIAL', 'serial is zero');
}

function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.slice().buffer as ArrayBuffer;
}

/**
 * Serialise a TBSCertificate (RFC 5280 §4.1) to DER. Version is v3 (extensions are always
 * present). The result is re-read and the issuer, subject and key are checked byte-for-byte
 * against the input, so what gets signed is exactly what was validated.
 */
export function buildTbsCertificate(input: TbsCertificateInput, signatureAlgorithm: SignatureAlgorithm): Uint8Array {
  checkSerial(input.serial);
  const algDer = signatureAlgorithmIdentifier(signatureAlgorithm);
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: toArrayBuffer(input.serial),
    signature: AsnConvert.parse(algDer, AlgorithmIdentifier),
    issuer: AsnConvert.parse(input.issuerName, Name),
    validity: new Validity({ notBefore: wholeSeconds(input.notBefore), notAfter: wholeSeconds(input.notAfter) }),
    subject: AsnConvert.parse(input.subjectName, Name),
    subjectPublicKeyInfo: AsnConvert.parse(input.spki, SubjectPublicKeyInfo),
  });
  if (input.extensions.length > 0) {
    tbs.extensions = new Extensions(
      input.extensions.map(
        (e) => new Extension({ extnID: e.oid, critical: e.critical, extnValue: new OctetString(toArrayBuffer(e.value)) }),
      ),
    );
  }
  const der = new Uint8Array(AsnConvert.serialize(tbs));

  // Byte-identity of the parts we took as DER (a lossy round trip through the ASN.1 classes
  // would silently change the issuer name and break chain building, RFC 5280 §4.1.2.4).
  const parts = children(der, readSingle(der));
  const expect: [number, Uint8Array, string][] = [
    [2, algDer, 'signature'],
    [3, input.issuerName, 'issuer'],
    [5, input.subjectName, 'subject'],
    [6, input.spki, 'subjectPublicKeyInfo'],
  ];
  for (const [i, bytes, what] of expect) {
    if (!parts[i] || !bytesEqual(slice(der, parts[i]!), bytes)) {
      throw new CaError('CA_TBS_ENCODING', `${what} did not survive encoding byte-for-byte`, {
        hint: 'The input DER is not canonical; re-encode it before issuing.',
      });
    }
  }
  return der;
}

export function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}
