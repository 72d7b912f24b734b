import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  BasicConstraints,
  Certificate,
  Extension,
  Extensions,
  Name,
  RelativeDistinguishedName,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_basicConstraints,
} from '@peculiar/asn1-x509';
import type { PivStateData, PivStoredKey } from './piv-state.js';
import { slotHex } from '../piv/piv-constants.js';

/**
 * YubiKey PIV attestation, emulated (developers.yubico.com/PIV/Introduction/PIV_attestation.html):
 * the token holds an attestation key in slot F9 whose certificate (object 5FFF01) is issued by a
 * vendor root; ATTEST makes a certificate for a slot's public key, signed by F9, with Yubico's
 * extensions 1.3.6.1.4.1.41482.3.3 (firmware), .3.7 (serial), .3.8 (PIN/touch policy), .3.9
 * (form factor). The emulator's "vendor root" is a TEST root of its own, kept in the state file.
 */
const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const OID_CN = '2.5.4.3';
const YUBICO = '1.3.6.1.4.1.41482.3';

function name(cn: string): Name {
  const atv = new AttributeTypeAndValue({ type: OID_CN });
  atv.value.utf8String = cn;
  return new Name([new RelativeDistinguishedName([atv])]);
}

function spkiOf(pkcs8: Uint8Array): SubjectPublicKeyInfo {
  const der = createPublicKey(createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' })).export({ type: 'spki', format: 'der' });
  return AsnConvert.parse(der, SubjectPublicKeyInfo);
}

/**
 * A positive serial of exactly `random.length` octets whose DER INTEGER is minimal (X.690
 * §8.3.2: a leading 00 octet only before a byte with its top bit set). Clearing the top bit alone
 * left a leading 00 before a byte < 0x80 in about 1 of 256 certificates: a non-DER INTEGER, which
 * OpenSSL refuses, so `ca card attest` failed at random ("no start line", piv-card test).
 */
export function attestationSerial(random: Uint8Array): Uint8Array<ArrayBuffer> {
  const serial = new Uint8Array(random);
  serial[0] = 0x40 | (serial[0]! & 0x3f);
  return serial;
}

function buildCertificate(o: {
  issuer: string;
  subject: string;
  spki: SubjectPublicKeyInfo;
  signerPkcs8: Uint8Array;
  ca: boolean;
  extensions?: Extension[];
}): Uint8Array {
  const now = Date.now();
  const alg = new AlgorithmIdentifier({ algorithm: OID_ECDSA_SHA256 });
  const serial = attestationSerial(randomBytes(16));
  const exts: Extension[] = [...(o.extensions ?? [])];
  if (o.ca) {
    exts.push(new Extension({ extnID: id_ce_basicConstraints, critical: true, extnValue: new OctetString(AsnConvert.serialize(new BasicConstraints({ cA: true }))) }));
  }
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serial.buffer.slice(serial.byteOffset, serial.byteOffset + serial.length),
    signature: alg,
    issuer: name(o.issuer),
    validity: new Validity({ notBefore: new Date(now - 60_000), notAfter: new Date('2099-12-31T23:59:59Z') }),
    subject: name(o.subject),
    subjectPublicKeyInfo: o.spki,
    ...(exts.length ? { extensions: new Extensions(exts) } : {}),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const key = createPrivateKey({ key: Buffer.from(o.signerPkcs8), format: 'der', type: 'pkcs8' });
  const sig = sign('sha256', tbsDer, { key, dsaEncoding: 'der' });
  const cert = new Certificate({ tbsCertificate: tbs, signatureAlgorithm: alg, signatureValue: sig.buffer.slice(sig.byteOffset, sig.byteOffset + sig.length) });
  return new Uint8Array(AsnConvert.serialize(cert));
}

function newEcKey(): Uint8Array {
  return new Uint8Array(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'der' }));
}

/** Create the F9 key, its certificate and the TEST root on first use. */
export function ensureAttestationIdentity(s: PivStateData): { changed: boolean } {
  if (s.attestation) return { changed: false };
  const rootKey = newEcKey();
  const f9Key = newEcKey();
  const rootName = 'cardca emulator TEST PIV attestation root (not Yubico)';
  const root = buildCertificate({ issuer: rootName, subject: rootName, spki: spkiOf(rootKey), signerPkcs8: rootKey, ca: true });
  const f9 = buildCertificate({ issuer: rootName, subject: `cardca emulator TEST PIV attestation ${s.serial}`, spki: spkiOf(f9Key), signerPkcs8: rootKey, ca: true });
  s.attestation = {
    keyPkcs8: Buffer.from(f9Key).toString('base64'),
    certificate: Buffer.from(f9).toString('base64'),
    rootKeyPkcs8: Buffer.from(rootKey).toString('base64'),
    rootCertificate: Buffer.from(root).toString('base64'),
  };
  return { changed: true };
}

function rawExtension(oid: string, value: Uint8Array): Extension {
  return new Extension({ extnID: oid, critical: false, extnValue: new OctetString(value) });
}

/** ATTEST: a certificate for the public key in `slot`, signed by the F9 key. */
export function createAttestation(s: PivStateData, slot: number, key: PivStoredKey): Uint8Array {
  const a = s.attestation!;
  const serialDer = integerDer(s.serial);
  return buildCertificate({
    issuer: `cardca emulator TEST PIV attestation ${s.serial}`,
    subject: `YubiKey PIV Attestation ${slotHex(slot).toLowerCase()}`,
    spki: spkiOf(Buffer.from(key.pkcs8, 'base64')),
    signerPkcs8: Buffer.from(a.keyPkcs8, 'base64'),
    ca: false,
    extensions: [
      rawExtension(`${YUBICO}.3`, Uint8Array.from(s.version)),
      rawExtension(`${YUBICO}.7`, serialDer),
      rawExtension(`${YUBICO}.8`, Uint8Array.of(key.pinPolicy, key.touchPolicy)),
      rawExtension(`${YUBICO}.9`, Uint8Array.of(0x01)),
    ],
  });
}

/** DER INTEGER of a non-negative number (the serial extension is a DER INTEGER). */
function integerDer(v: number): Uint8Array {
  const bytes: number[] = [];
  for (let x = v; x > 0; x = Math.floor(x / 256)) bytes.unshift(x & 0xff);
  if (bytes.length === 0 || bytes[0]! & 0x80) bytes.unshift(0);
  return Uint8Array.of(0x02, bytes.length, ...bytes);
}
