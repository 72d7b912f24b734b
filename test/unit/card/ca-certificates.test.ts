/**
 * Issue 11: the issuing CA's certificate on a user's SmartCard-HSM, as OpenSC's pkcs15init
 * stores a certificate without a key: DER in `CA xx`, a PKCS#15 CDF entry in `C8 xx` pointing
 * at it (authority, iD = OpenSC's intrinsic iD of the public key). cardca counts xx down from FF
 * so it never takes the `CA <keyRef>` staging file of a key's write-back; storing the same
 * certificate again changes nothing. Also: driver capabilities are declared, not guessed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsnConvert } from '@peculiar/asn1-schema';
import { ScHsmCard } from '../../../src/card/emulator/sc-hsm-card.js';
import { PivCard } from '../../../src/card/emulator/piv-card.js';
import { InProcessTransport } from '../../../src/card/transport/in-process-transport.js';
import { DriverCardSession } from '../../../src/card/card-session-impl.js';
import { CertificateType } from '../../../src/card/pkcs15/schema/certificate.js';
import { driverCapabilities } from '../../../src/card/drivers/driver-capabilities.js';
import { intrinsicKeyId } from '../../../src/card/drivers/sc-hsm-driver.js';
import type { CardDriver } from '../../../src/card/drivers/card-driver.js';
import { fromHex, toHex } from '../../../src/common/hex.js';
import { CardcaError } from '../../../src/common/cardca-error.js';
import { selfSignedForTest } from './helpers/self-signed.js';
import { readySession } from './card-truth-helpers.js';
import { X509Certificate } from 'node:crypto';
import * as cmd from '../../../src/card/drivers/sc-hsm/sc-hsm-commands.js';

test('a CA certificate goes to CA FF with its CDF entry in C8 FF; the same one again is not stored twice', async () => {
  const card = new ScHsmCard();
  const { session } = await readySession(card);
  const user = await session.generateKey({ label: 'alice', algorithm: 'p256' });
  const caKey = await session.generateKey({ label: 'stand-in CA', algorithm: 'p256' });
  const caCert = await selfSignedForTest(await session.signer(caKey.id), 'CN=Example Clients CA');
  const rootCert = await selfSignedForTest(await session.signer(user.id), 'CN=Example Root CA');
  assert.deepEqual(session.capabilities.caCertificates, true);
  assert.equal((await session.writeCaCertificate(caCert, 'Example Clients CA'))?.written, true);
  assert.equal((await session.writeCaCertificate(rootCert, 'Example Root CA'))?.written, true);
  const files = card.snapshot().files;
  assert.equal(files['CAFF'], toHex(caCert).toUpperCase());
  assert.equal(files['CAFE'], toHex(rootCert).toUpperCase());
  const entry = AsnConvert.parse(fromHex(files['C8FF']!), CertificateType).x509Certificate!;
  assert.equal(entry.commonObjectAttributes.label, 'Example Clients CA');
  assert.equal(entry.classAttributes.authority, true);
  assert.equal(toHex(new Uint8Array(entry.classAttributes.iD.buffer)), toHex(intrinsicKeyId(new Uint8Array(new X509Certificate(caCert).publicKey.export({ format: 'der', type: 'spki' })))));
  assert.equal(toHex(new Uint8Array(entry.typeAttributes.value.indirect!.path.buffer)).toUpperCase(), 'CAFF');
  const before = JSON.stringify(card.snapshot().files);
  assert.equal((await session.writeCaCertificate(caCert, 'Example Clients CA'))?.written, false);
  assert.equal(JSON.stringify(card.snapshot().files), before, 'a re-run changes nothing');
  // The keys and the write-back of a key's own certificate are untouched by the CA files.
  const userCert = await selfSignedForTest(await session.signer(user.id), 'CN=alice');
  await session.writeCertificate(user.id, userCert);
  assert.deepEqual((await session.listKeys()).map((k) => k.label), ['alice', 'stand-in CA']);
  assert.deepEqual((await session.listKeys())[0]!.certificate, userCert);
  await assert.rejects(session.writeCaCertificate(Uint8Array.of(0x30, 0x00), 'x'), (e: unknown) => e instanceof CardcaError && e.code === 'CARD_BAD_CERTIFICATE');
});

test('an interrupted store (CA xx written, no C8 xx yet) is finished by the next run, not duplicated', async () => {
  const card = new ScHsmCard();
  const { session } = await readySession(card);
  const k = await session.generateKey({ label: 'k', algorithm: 'p256' });
  const cert = await selfSignedForTest(await session.signer(k.id), 'CN=Half Written CA');
  await session.writeCaCertificate(cert, 'Half Written CA');
  await session.channel.expectOk(cmd.deleteFile(0xc8ff), 'DELETE C8FF'); // as if the run stopped before the descriptor
  assert.equal((await session.writeCaCertificate(cert, 'Half Written CA'))?.written, true);
  const files = Object.keys(card.snapshot().files).filter((f) => /^C[A8]/.test(f)).sort();
  assert.deepEqual(files, ['C8FF', 'CAFF']);
});

test('capabilities: declared by both drivers; derived from the operations of a driver that declares none', async () => {
  const sc = await DriverCardSession.open(new InProcessTransport(new ScHsmCard(), { readerName: 'unit' }));
  assert.deepEqual(sc.capabilities, { unblockCredential: 'so-pin', adminKey: false, keySlots: false, attestation: false, caCertificates: true, dkekBackup: true, userPinLength: { min: 6, max: 16 } });
  const piv = await DriverCardSession.open(new InProcessTransport(new PivCard(), { readerName: 'unit' }));
  assert.deepEqual(piv.capabilities, { unblockCredential: 'puk', adminKey: true, keySlots: true, attestation: true, caCertificates: false, dkekBackup: false, userPinLength: { min: 6, max: 8 } });
  assert.equal(await piv.writeCaCertificate(Uint8Array.of(0x30, 0x00), 'x'), undefined, 'PIV has no place for a key-less certificate');
  const legacy = { name: 'legacy', unblockCredential: 'puk', authenticateAdmin: async () => undefined } as unknown as CardDriver;
  assert.deepEqual(driverCapabilities(legacy), { unblockCredential: 'puk', adminKey: true, keySlots: false, attestation: false, caCertificates: false, dkekBackup: false, userPinLength: { min: 6, max: 16 } });
});
