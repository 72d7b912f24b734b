import type { SignatureAlgorithm } from '../../crypto/signer.js';
import { concatBytes } from '../../common/hex.js';
import { timeTlv } from '../crl/write-tbs-cert-list.js';
import { CaError } from '../errors.js';
import { encodeOid, encodeTlv, walkDer } from '../x509/der.js';
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

/** Extension OIDs are a handful of constants: encoded once each. */
const oidCache = new Map<string, Uint8Array>();
function oidTlv(oid: string): Uint8Array {
  let t = oidCache.get(oid);
  if (!t) oidCache.set(oid, (t = encodeTlv(0x06, encodeOid(oid))));
  return t;
}

/** `[0] EXPLICIT INTEGER 2` (v3) and `BOOLEAN TRUE`, as DER. */
const VERSION_V3 = Uint8Array.of(0xa0, 0x03, 0x02, 0x01, 0x02);
const CRITICAL = Uint8Array.of(0x01, 0x01, 0xff);

/**
 * Serialise a TBSCertificate (RFC 5280 §4.1) to DER. Version is v3 (extensions are always
 * present). Written directly with the DER encoder (common/der.ts): issuer, subject, key and
 * extension values are the caller's exact bytes, each first read back strictly (every nested
 * TLV, minimal lengths, no trailing bytes: X.690 §10) and refused if it is not DER of the right
 * type, so what gets signed is exactly what was validated, byte for byte. (It was built through
 * the @peculiar/asn1-schema classes, a re-encoding whose byte identity then had to be checked,
 * at about a tenth of a batch's host time; test/unit/ca/builders.test.ts compares the two.)
 */
export function buildTbsCertificate(input: TbsCertificateInput, signatureAlgorithm: SignatureAlgorithm): Uint8Array {
  checkSerial(input.serial);
  const algDer = signatureAlgorithmIdentifier(signatureAlgorithm);
  for (const [bytes, what] of [[input.issuerName, 'issuer'], [input.subjectName, 'subject'], [input.spki, 'subjectPublicKeyInfo']] as const) {
    try {
      if (bytes[0] !== 0x30) throw new Error('not a SEQUENCE');
      walkDer(bytes);
    } catch (e) {
      throw new CaError('CA_TBS_ENCODING', `${what} is not DER: ${(e as Error).message}`, { cause: e, hint: 'The input DER is not canonical; re-encode it before issuing.' });
    }
  }
  const time = (d: Date, what: string): Uint8Array => {
    if (!Number.isFinite(d.getTime())) throw new CaError('CA_BAD_VALIDITY', `${what} is not a date`);
    return timeTlv(wholeSeconds(d).toISOString(), what);
  };
  const validity = encodeTlv(0x30, concatBytes(time(input.notBefore, 'notBefore'), time(input.notAfter, 'notAfter')));
  const parts: Uint8Array[] = [VERSION_V3, encodeTlv(0x02, input.serial), algDer, input.issuerName, validity, input.subjectName, input.spki];
  if (input.extensions.length > 0) {
    // Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }:
    // DEFAULT FALSE is omitted in DER (X.690 §11.5).
    const exts = input.extensions.map((e) => encodeTlv(0x30, e.critical ? concatBytes(oidTlv(e.oid), CRITICAL, encodeTlv(0x04, e.value)) : concatBytes(oidTlv(e.oid), encodeTlv(0x04, e.value))));
    parts.push(encodeTlv(0xa3, encodeTlv(0x30, concatBytes(...exts))));
  }
  return encodeTlv(0x30, concatBytes(...parts));
}

export function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}
