import { randomBytes } from 'node:crypto';
import { generateKeyPairSync } from 'node:crypto';
import { ecParts, hash, rsaPkcs1, digestInfo, rsaPublic } from './card-crypto.js';
import { bigintToBytes } from '../../common/bigint-math.js';
import type { CurveName } from './ec-curves.js';
import { tlv } from './tlv.js';

/**
 * Card-verifiable certificates and requests (BSI TR-03110-3 §C / ISO 7816-8), as the
 * SmartCard-HSM returns them from GENERATE ASYMMETRIC KEY PAIR and stores them in EF 2F02.
 * Layout per card-protocols.md §3.1.
 */
export const OID_TA_RSA_V15_SHA256 = Uint8Array.from([0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x02, 0x01, 0x02]);
export const OID_TA_ECDSA_SHA256 = Uint8Array.from([0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x02, 0x02, 0x03]);
/** Prefix shared by all id-TA-RSA (…02 02 02 01 xx) and id-TA-ECDSA (…02 02 02 02 xx) OIDs. */
export const OID_TA_RSA_PREFIX = OID_TA_RSA_V15_SHA256.subarray(0, 9);
export const OID_TA_ECDSA_PREFIX = OID_TA_ECDSA_SHA256.subarray(0, 9);

const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

export type KeyRef = { kind: 'rsa'; pkcs8: Uint8Array } | { kind: 'ec'; curve: CurveName; pkcs8: Uint8Array };

/** Public key data object `7F49` (TR-03110-3 §D.3). EC keys carry the full domain (81–87). */
export function publicKeyTemplate(key: KeyRef, withDomain = true): Uint8Array {
  if (key.kind === 'rsa') {
    const { n, e } = rsaPublic(key.pkcs8);
    return tlv(0x7f49, tlv(0x06, OID_TA_RSA_V15_SHA256), tlv(0x81, n), tlv(0x82, e));
  }
  const { curve, q, d } = ecParts(key.pkcs8, key.curve);
  d.fill(0);
  const s = curve.size;
  const g = new Uint8Array(1 + 2 * s);
  g[0] = 0x04;
  g.set(bigintToBytes(curve.gx, s), 1);
  g.set(bigintToBytes(curve.gy, s), 1 + s);
  const parts = [tlv(0x06, OID_TA_ECDSA_SHA256)];
  if (withDomain) {
    parts.push(
      tlv(0x81, bigintToBytes(curve.p, s)),
      tlv(0x82, bigintToBytes(curve.a, s)),
      tlv(0x83, bigintToBytes(curve.b, s)),
      tlv(0x84, g),
      tlv(0x85, bigintToBytes(curve.n)),
    );
  }
  parts.push(tlv(0x86, q));
  if (withDomain) parts.push(tlv(0x87, bigintToBytes(curve.h)));
  return tlv(0x7f49, ...parts);
}

/** Signature inside a CVC: RSA PKCS#1 v1.5/SHA-256 or ECDSA/SHA-256 in plain r‖s form. */
export function cvcSignature(key: KeyRef, tbs: Uint8Array): Uint8Array {
  const h = hash('sha256', tbs);
  if (key.kind === 'rsa') return rsaPkcs1(key.pkcs8, digestInfo('sha256', h));
  const { curve, d } = ecParts(key.pkcs8, key.curve);
  try {
    return curve.signPlain(h, d);
  } finally {
    d.fill(0);
  }
}

export interface CvcBodyFields {
  car?: string | undefined;
  publicKey: Uint8Array;
  chr: string;
  /** Optional extra body DOs (CHAT 7F4C, dates 5F25/5F24), already encoded. */
  extra?: Uint8Array[];
}

export function cvcBody(f: CvcBodyFields): Uint8Array {
  const parts = [tlv(0x5f29, Uint8Array.of(0x00))];
  if (f.car !== undefined) parts.push(tlv(0x42, ascii(f.car)));
  parts.push(f.publicKey, tlv(0x5f20, ascii(f.chr)), ...(f.extra ?? []));
  return tlv(0x7f4e, ...parts);
}

/** `7F21 { 7F4E body, 5F37 signature by signer }`. */
export function signCvc(body: Uint8Array, signer: KeyRef): Uint8Array {
  return tlv(0x7f21, body, tlv(0x5f37, cvcSignature(signer, body)));
}

/** BCD-style CVC date (TR-03110-3 §D.2.1.3): six bytes Y Y M M D D, each a digit 0–9. */
export function cvcDate(d: Date): Uint8Array {
  const s = d.toISOString().slice(2, 10).replace(/-/g, '');
  return Uint8Array.from(s, (c) => c.charCodeAt(0) - 48);
}

function newP256(): Uint8Array {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return new Uint8Array(privateKey.export({ type: 'pkcs8', format: 'der' }));
}

export interface DeviceIdentity {
  serial: string;
  /** PKCS#8 of the device authentication key (P-256), the card's key id 0. */
  deviceKeyPkcs8: Uint8Array;
  /** EF 2F02 content: device CVC ‖ issuer (DICA) CVC. */
  deviceCertificates: Uint8Array;
}

/**
 * A fresh test device identity: serial "DETEST" + 5 random digits (so that two state files
 * never collide), a P-256 device key, and a CVC chain SRCA → DICA → device whose CHR is the
 * serial + "00001" (OpenSC derives the serial by dropping the CHR's last 5 characters).
 * The SRCA and DICA keys are throwaway: nothing verifies this chain against CardContact's root.
 */
export function createDeviceIdentity(now: Date): DeviceIdentity {
  const digits = (randomBytes(4).readUInt32BE(0) % 100000).toString().padStart(5, '0');
  const serial = `DETEST${digits}`;
  const srca = { kind: 'ec' as const, curve: 'P-256' as const, pkcs8: newP256() };
  const dica = { kind: 'ec' as const, curve: 'P-256' as const, pkcs8: newP256() };
  const dev = { kind: 'ec' as const, curve: 'P-256' as const, pkcs8: newP256() };
  const expiry = new Date(now.getTime() + 20 * 365 * 86400_000);
  const dates = [tlv(0x5f25, cvcDate(now)), tlv(0x5f24, cvcDate(expiry))];
  const dicaCert = signCvc(
    cvcBody({ car: 'DETESTSRCA00001', publicKey: publicKeyTemplate(dica, true), chr: 'DETESTDICA00001', extra: dates }),
    srca,
  );
  const devCert = signCvc(
    cvcBody({ car: 'DETESTDICA00001', publicKey: publicKeyTemplate(dev, true), chr: `${serial}00001`, extra: dates }),
    dica,
  );
  return { serial, deviceKeyPkcs8: dev.pkcs8, deviceCertificates: new Uint8Array(Buffer.concat([devCert, dicaCert])) };
}

