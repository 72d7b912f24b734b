import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { bytesEqual } from '../../../common/hex.js';
import { CardError } from '../../errors.js';
import { discoverKey, fidOf, stagingFid, type EfReader } from './key-discovery.js';
import { FID_PREFIX } from './sc-hsm-commands.js';

/** The file operations a write-back needs (the SmartCard-HSM driver's own). */
export interface EfFileOps {
  read: EfReader;
  write(fid: number, data: Uint8Array): Promise<void>;
  /** DELETE FILE; a missing file is fine. */
  remove(fid: number): Promise<void>;
  /** Whether ENUMERATE lists this FID (used only for `C8 xx` descriptors). */
  listed(fid: number): Promise<boolean>;
}

const hex4 = (fid: number): string => fid.toString(16).toUpperCase().padStart(4, '0');

/**
 * Store `certificate` as the certificate of key `keyRef` (`CE xx`) without ever leaving the key
 * without a readable public key:
 *
 *  1. the certificate must parse and its SPKI must be the key's public key (else nothing is
 *     written: `CARD_CERT_KEY_MISMATCH`);
 *  2. it is written to the staging EF `CA xx` and read back;
 *  3. only then is `CE xx` (the CV request, or an older certificate) replaced, and read back;
 *  4. the staging copy is deleted.
 *
 * An interruption at any APDU leaves either the old `CE xx` intact, or the complete new
 * certificate in `CA xx` (which key discovery falls back to), or both; running this again
 * finishes the job (it is idempotent).
 */
export async function writeCertificateSafely(ops: EfFileOps, keyRef: number, certificate: Uint8Array, where: string): Promise<void> {
  const cert = parseCertificateToWrite(certificate);
  const newSpki = new Uint8Array(AsnConvert.serialize(cert.tbsCertificate.subjectPublicKeyInfo));
  const cdFid = fidOf(FID_PREFIX.cd, keyRef);
  const described = await ops.listed(cdFid);
  const key = await discoverKey(ops.read, keyRef, () => described);
  if (!key.publicKey) {
    throw new CardError('CARD_KEY_INCOMPLETE', `key ${keyRef} on ${where} has no readable public key; cardca cannot check that the certificate belongs to it`, {
      hint: `Delete the incomplete key with \`ca card delete-key --slot ${keyRef}\` and generate a new one.`,
    });
  }
  if (!bytesEqual(key.publicKey, newSpki)) {
    throw new CardError('CARD_CERT_KEY_MISMATCH', `the certificate's public key is not the public key of key ${keyRef} (id ${key.id}) on ${where}; the card was not changed`, {
      hint: 'Check --key-id and the certificate file.',
    });
  }
  const ceFid = fidOf(FID_PREFIX.eeCertificate, keyRef);
  const current = await ops.read(ceFid);
  const staging = stagingFid(keyRef);
  if (current && bytesEqual(current, certificate)) {
    if (!described) await ops.remove(staging); // leftover of an interrupted run, if any
    return;
  }
  if (described) {
    throw new CardError('CARD_STAGING_IN_USE', `EF ${hex4(staging)} on ${where} holds another program's CA certificate (described by EF ${hex4(cdFid)})`, {
      hint: 'cardca stages a certificate there before replacing the old one; move that object or use another key slot.',
    });
  }
  await writeVerified(ops, staging, certificate, where);
  await ops.remove(ceFid);
  await writeVerified(ops, ceFid, certificate, where);
  await ops.remove(staging);
}

/** The certificate to store, parsed; anything but exactly one DER certificate is refused before the card is touched. */
export function parseCertificateToWrite(certificate: Uint8Array): Certificate {
  try {
    const cert = AsnConvert.parse(certificate, Certificate);
    if (AsnConvert.serialize(cert).byteLength !== certificate.length) throw new RangeError('trailing bytes after the certificate');
    return cert;
  } catch (e) {
    throw new CardError('CARD_BAD_CERTIFICATE', `the file to write is not a DER X.509 certificate: ${(e as Error).message}`, {
      hint: 'Pass the DER (or PEM) certificate that was issued for this key.',
    });
  }
}

/** Replace EF `fid` with `data` and read it back. */
export async function writeVerified(ops: EfFileOps, fid: number, data: Uint8Array, where: string): Promise<void> {
  await ops.remove(fid); // replace, not overwrite: a shorter file must not keep old bytes
  await ops.write(fid, data);
  const back = await ops.read(fid);
  if (!back || !bytesEqual(back, data)) {
    throw new CardError('CARD_WRITE_VERIFY', `EF ${hex4(fid)} on ${where} does not read back what was written`, {
      hint: 'Run the command again; if it persists, the card may be full or damaged (`ca card list` shows what it holds).',
    });
  }
}
