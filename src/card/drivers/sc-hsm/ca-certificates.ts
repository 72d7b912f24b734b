import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { bytesEqual } from '../../../common/hex.js';
import { CardError } from '../../errors.js';
import { CertificateType, X509CertificateAttributes, X509CertificateObject } from '../../pkcs15/schema/certificate.js';
import { CommonCertificateAttributes, CommonObjectAttributes, ObjectValue, Pkcs15Path } from '../../pkcs15/schema/common-attributes.js';
import { parseCertificateToWrite, writeVerified, type EfFileOps } from './cert-write-back.js';
import { fidOf, intrinsicKeyId } from './key-discovery.js';
import { FID_PREFIX } from './sc-hsm-commands.js';

/**
 * A certificate without a key on a SmartCard-HSM (the issuing CA above a user's key), stored
 * the way OpenSC's own pkcs15init writes one (`src/pkcs15init/pkcs15-sc-hsm.c`,
 * `sc_hsm_emu_store_cert` + `sc_hsm_emu_update_cd`): the DER certificate in EF `CA xx` and a
 * PKCS#15 CDF entry in EF `C8 xx` whose path is `CA xx`. OpenSC's reader
 * (`src/libopensc/pkcs15-sc-hsm.c`, `sc_pkcs15emu_sc_hsm_add_cd`) lists a `CA xx` only through
 * its `C8 xx` (read into a 512-byte buffer, so the entry must stay small), and then
 * `pkcs15-tool -D` and `pkcs11-tool -O` show it as an authority certificate.
 *
 * Which xx: OpenSC takes the lowest free `CA xx`, but cardca stages a key's certificate in
 * `CA <keyRef>` during write-back (cert-write-back.ts) and keys are numbered from 1 upwards, so
 * cardca counts down from FF and skips any xx that is a key reference, a `CA xx` or a `C8 xx`.
 * The same certificate is never stored twice (a re-run, or `--resume`, finds it).
 */
export interface CaCertificateOps extends EfFileOps {
  /** Every FID the card lists (ENUMERATE OBJECTS). */
  fids(): Promise<readonly number[]>;
}

export interface StoredCaCertificate {
  /** The `CA xx` EF that holds it. */
  readonly fid: number;
  /** False when the card already held exactly this certificate. */
  readonly written: boolean;
}

/** Longest CDF label written: keeps the `C8 xx` entry far below OpenSC's 512-byte read buffer. */
const MAX_LABEL = 64;

export function encodeCaCertificateEntry(label: string, id: Uint8Array, caFid: number): Uint8Array {
  const entry = new CertificateType({
    x509Certificate: new X509CertificateObject({
      commonObjectAttributes: new CommonObjectAttributes({ label: [...label].slice(0, MAX_LABEL).join('') }),
      classAttributes: new CommonCertificateAttributes({ iD: new OctetString(id), authority: true }),
      typeAttributes: new X509CertificateAttributes({
        value: new ObjectValue({ indirect: new Pkcs15Path({ path: new OctetString(Uint8Array.of(caFid >> 8, caFid & 0xff)) }) }),
      }),
    }),
  });
  return new Uint8Array(AsnConvert.serialize(entry));
}

export async function storeCaCertificate(ops: CaCertificateOps, certificate: Uint8Array, label: string, where: string): Promise<StoredCaCertificate> {
  const cert = parseCertificateToWrite(certificate);
  const fids = new Set(await ops.fids());
  const has = (prefix: number, xx: number): boolean => fids.has(fidOf(prefix, xx));
  // Already there (described, or left undescribed by an interrupted run of this function)?
  for (let xx = 0xff; xx >= 0; xx--) {
    if (!has(FID_PREFIX.caCertificate, xx) || has(FID_PREFIX.privateKey, xx)) continue;
    const current = await ops.read(fidOf(FID_PREFIX.caCertificate, xx));
    if (!current || !bytesEqual(current, certificate)) continue;
    if (has(FID_PREFIX.cd, xx)) return { fid: fidOf(FID_PREFIX.caCertificate, xx), written: false };
    await writeDescriptor(ops, cert, label, xx, where);
    return { fid: fidOf(FID_PREFIX.caCertificate, xx), written: true };
  }
  let xx = 0xff;
  while (xx > 0 && (has(FID_PREFIX.caCertificate, xx) || has(FID_PREFIX.cd, xx) || has(FID_PREFIX.privateKey, xx))) xx--;
  if (xx === 0) throw new CardError('CARD_FULL', `no free CA certificate file on ${where}`, { hint: 'Delete unused certificates or keys first (`ca card list`).' });
  // Certificate first, descriptor last: an interruption leaves an invisible `CA xx` that the
  // next run finds and describes, never a descriptor pointing at nothing.
  await writeVerified(ops, fidOf(FID_PREFIX.caCertificate, xx), certificate, where);
  await writeDescriptor(ops, cert, label, xx, where);
  return { fid: fidOf(FID_PREFIX.caCertificate, xx), written: true };
}

async function writeDescriptor(ops: CaCertificateOps, cert: ReturnType<typeof parseCertificateToWrite>, label: string, xx: number, where: string): Promise<void> {
  // The iD OpenSC's pkcs15init gives a certificate: the intrinsic (mozilla-style) iD of its public key.
  const id = intrinsicKeyId(new Uint8Array(AsnConvert.serialize(cert.tbsCertificate.subjectPublicKeyInfo)));
  await writeVerified(ops, fidOf(FID_PREFIX.cd, xx), encodeCaCertificateEntry(label, id, fidOf(FID_PREFIX.caCertificate, xx)), where);
}
