import { createPublicKey, randomBytes, timingSafeEqual } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import type { KeyAlgorithm } from '../../crypto/signer.js';
import { emsaPssEncode, hashOfLength } from '../../crypto/emsa-pss.js';
import type { ApduChannel } from '../apdu/apdu-channel.js';
import { statusWordError, triesLeftOf } from '../apdu/status-words.js';
import type { CardKeyInfo, PinStatus } from '../card-service.js';
import { CardError, PinError, StatusWordError } from '../errors.js';
import { decodeCertObject, encodeCertObject } from '../piv/cert-object.js';
import { mgmtBlockSize, mgmtDecrypt, mgmtEncrypt } from '../piv/mgmt-key-crypto.js';
import * as piv from '../piv/piv-commands.js';
import {
  certificateTag,
  FACTORY,
  KEY_REF,
  KEY_SLOTS,
  MGMT_ALG_BY_ID,
  MGMT_KEY_LENGTH,
  mgmtAlgId,
  METADATA_TAG,
  OBJECT_TAG,
  PIN_POLICY,
  PIV_ALG,
  PIV_PIX,
  parseSlot,
  slotHex,
  slotName,
  TOUCH_POLICY,
  type MgmtKeyAlgorithm,
} from '../piv/piv-constants.js';
import { findTlv, readTlv, tlv } from '../tlv.js';
import type { CardDriver, DeviceInfo, DriverCapabilities, DriverFactory, InitOptions, KeyAttestation, KeyPlacement, RawSignMode } from './card-driver.js';
import { emulatedPivEvidence } from '../piv/emulator-provenance.js';
import { keyAlgorithmOfSpki as algorithmOfSpki } from '../../crypto/public-key-type.js';

/** PIV key algorithm identifier for each cardca key algorithm (SP 800-78-4 Table 6-2; P-521 has none). */
const ALG_ID: Partial<Record<KeyAlgorithm, number>> = {
  rsa2048: PIV_ALG.rsa2048,
  rsa3072: PIV_ALG.rsa3072,
  rsa4096: PIV_ALG.rsa4096,
  p256: PIV_ALG.p256,
  p384: PIV_ALG.p384,
};
const FIELD_BYTES: Partial<Record<KeyAlgorithm, number>> = { p256: 32, p384: 48 };
const MOD_BITS: Partial<Record<KeyAlgorithm, number>> = { rsa2048: 2048, rsa3072: 3072, rsa4096: 4096 };

/** "YubiKey" in the ATR's historical bytes (compact TLV tag 5, as OpenSC's card-piv.c looks for it). */
function atrSaysYubiKey(atr: Uint8Array): boolean {
  return Buffer.from(atr).includes(Buffer.from('YubiKey', 'latin1')) || Buffer.from(atr).includes(Buffer.from('Yubikey', 'latin1'));
}

export const pivDriverFactory: DriverFactory = {
  name: 'piv',
  matchAtr: atrSaysYubiKey,
  async probe(ch) {
    // SP 800-73-4 Part 2 §3.1.1: a PIV card answers SELECT with the application property
    // template 61 { 4F <PIX> … } (OpenSC piv_find_aid accepts PIX or the full AID).
    const r = await ch.transmit(piv.selectPiv());
    if (r.sw !== 0x9000) return false;
    try {
      const apt = readTlv(r.data, 0);
      if (apt.tag !== 0x61) return false;
      const pix = findTlv(apt.value, 0x4f);
      return pix !== undefined && (Buffer.from(pix).equals(Buffer.from(PIV_PIX)) || Buffer.from(pix).subarray(5).equals(Buffer.from(PIV_PIX)));
    } catch {
      return false;
    }
  },
  create: (ch) => new PivDriver(ch),
};

interface SlotMetadata {
  alg: number;
  pinPolicy: number;
  touchPolicy: number;
  origin: 'generated' | 'imported' | undefined;
  publicKey: Uint8Array | undefined;
}

/**
 * PIV driver (NIST SP 800-73-4; Yubico extensions where the token has them). Not PKCS#15: keys
 * are the slots 9A/9C/9D/9E/82–95 and each slot's certificate is a data object read with GET
 * DATA. A key id is the slot's key reference in hex ("9C"), which is also what OpenSC's
 * PKCS#15 emulation (pkcs15-piv.c) maps to its ids 01, 02, …
 */
export class PivDriver implements CardDriver {
  readonly name = 'piv';
  // No CA certificates: SP 800-73-4 has no container for a certificate without a key, and
  // OpenSC's PIV emulation (pkcs15-piv.c) pairs every slot certificate with a private key object.
  readonly capabilities: DriverCapabilities = { unblockCredential: 'puk', adminKey: true, keySlots: true, attestation: true, caCertificates: false, dkekBackup: false, userPinLength: { min: 6, max: 8 } };
  /** Short APDUs with command chaining, as every PIV card must accept (SP 800-73-4 Part 2 §3). */
  readonly maxCommandData = 255;
  private readonly ch: ApduChannel;
  /** Firmware "major.minor.patch" from Yubico GET VERSION, undefined on other PIV cards. */
  private yubico: [number, number, number] | undefined;
  private serial: string | undefined;
  private mgmtAuthenticated = false;
  private readonly slotAlg = new Map<number, KeyAlgorithm>();

  constructor(ch: ApduChannel) {
    this.ch = ch;
  }

  parseKeySlot(text: string): number | undefined {
    return parseSlot(text);
  }

  private get hasMetadata(): boolean {
    const v = this.yubico;
    return v !== undefined && (v[0] > 5 || (v[0] === 5 && v[1] >= 3));
  }

  async selectApplication(): Promise<void> {
    await this.ch.expectOk(piv.selectPiv(), 'SELECT PIV application');
    this.mgmtAuthenticated = false;
    if (this.yubico === undefined) {
      const r = await this.ch.transmit(piv.getVersion());
      if (r.sw === 0x9000 && r.data.length === 3) this.yubico = [r.data[0]!, r.data[1]!, r.data[2]!];
    }
  }

  /** Read a data object; undefined when the card does not hold it (6A82). */
  private async getObject(tag: number, what: string): Promise<Uint8Array | undefined> {
    const r = await this.ch.transmit(piv.getData(tag));
    if (r.sw === 0x6a82) return undefined;
    if (r.sw !== 0x9000) throw statusWordError(r.sw, `GET DATA ${what}`);
    if (tag === OBJECT_TAG.discovery) return r.data;
    try {
      const t = readTlv(r.data, 0);
      if (t.tag !== 0x53) throw new RangeError('not a 53 template');
      return t.value;
    } catch (e) {
      throw new CardError('PIV_BAD_OBJECT', `GET DATA ${what}: the card's answer is not a PIV data object`, { cause: e });
    }
  }

  private async getSerial(): Promise<string> {
    if (this.serial) return this.serial;
    if (this.yubico && this.yubico[0] >= 5) {
      const r = await this.ch.transmit(piv.getSerial());
      if (r.sw === 0x9000 && r.data.length === 4) {
        this.serial = String(Buffer.from(r.data).readUInt32BE(0));
        return this.serial;
      }
    }
    // Other PIV cards: the GUID of the CHUID (SP 800-73-4 Part 1 Table 9, tag 34), as OpenSC does.
    const chuid = await this.getObject(OBJECT_TAG.chuid, 'CHUID');
    const guid = chuid ? findTlv(chuid, 0x34) : undefined;
    if (!guid || guid.every((b) => b === 0)) {
      throw new CardError('CARD_NO_SERIAL', 'the PIV card has neither a YubiKey serial nor a CHUID GUID', {
        hint: 'Select the card with --reader, or write a CHUID with `ca card init`.',
      });
    }
    this.serial = Buffer.from(guid).toString('hex').toUpperCase();
    return this.serial;
  }

  async deviceInfo(): Promise<DeviceInfo> {
    const serial = await this.getSerial();
    const v = this.yubico;
    return {
      serial,
      label: v ? `YubiKey PIV ${serial}` : `PIV ${serial}`,
      // A PIV token is usable as it comes; "initialised" means cardca's init wrote its CHUID.
      initialized: (await this.getObject(OBJECT_TAG.chuid, 'CHUID')) !== undefined,
      version: v ? v.join('.') : undefined,
      ...(await this.emulatedEvidence()),
      ...(await this.chuidSerial()),
    };
  }

  /**
   * The serial OpenSC's PIV driver gives the token (card-piv.c `piv_get_serial_nr_from_CHUI`):
   * the CHUID's FASC-N (tag 30) when it is non-zero and not a non-federal ";9999" FASC-N next
   * to a GUID; otherwise the GUID (tag 34) when non-zero; lower-case hex (sc_bin_to_hex).
   */
  private async chuidSerial(): Promise<{ tokenSerial?: string }> {
    const chuid = await this.getObject(OBJECT_TAG.chuid, 'CHUID');
    if (!chuid) return {};
    const fascn = findTlv(chuid, 0x30);
    const guid = findTlv(chuid, 0x34);
    const nonZero = (b: Uint8Array | undefined): b is Uint8Array => b !== undefined && b.some((x) => x !== 0);
    const goodGuid = guid?.length === 16 && nonZero(guid) ? guid : undefined;
    if (fascn?.length === 25 && nonZero(fascn)) {
      const nonFederal = fascn[0] === 0xd4 && fascn[1] === 0xe7 && fascn[2] === 0x39 && (fascn[3]! | 0x7f) === 0xff;
      if (!(goodGuid && nonFederal)) return { tokenSerial: Buffer.from(fascn).toString('hex') };
    }
    return goodGuid ? { tokenSerial: Buffer.from(goodGuid).toString('hex') } : {};
  }

  /** Yubico tokens carry an F9 attestation certificate; the emulator's names its TEST root. */
  private async emulatedEvidence(): Promise<{ emulated?: string }> {
    if (!this.yubico) return {};
    const obj = await this.getObject(OBJECT_TAG.attestationCert, 'attestation certificate (slot F9)').catch(() => undefined);
    let cert: Uint8Array | undefined;
    try {
      cert = obj ? decodeCertObject(obj, 'slot F9') : undefined;
    } catch {
      cert = undefined;
    }
    const emulated = emulatedPivEvidence(cert);
    return emulated ? { emulated } : {};
  }

  private async metadata(ref: number): Promise<Uint8Array | undefined> {
    if (!this.hasMetadata) return undefined;
    const r = await this.ch.transmit(piv.getMetadata(ref));
    if (r.sw === 0x6a88 || r.sw === 0x6a82) return undefined;
    if (r.sw !== 0x9000) throw statusWordError(r.sw, `GET METADATA ${slotHex(ref)}`);
    return r.data;
  }

  async pinStatus(): Promise<PinStatus> {
    // VERIFY with no data: 9000 verified, 63Cx tries left, 6983 blocked; spends no try (Part 2 §3.2.1).
    const r = await this.ch.transmit(piv.pinStatusQuery());
    if (r.sw === 0x9000) return { state: 'verified', triesLeft: undefined };
    const tries = triesLeftOf(r.sw);
    if (tries !== undefined) return { state: tries === 0 ? 'blocked' : 'not-verified', triesLeft: tries };
    if (r.sw === 0x6983) return { state: 'blocked', triesLeft: 0 };
    throw statusWordError(r.sw, 'PIN status query');
  }

  /** PUK tries: only GET METADATA tells them without spending one (no VERIFY on key 81). */
  async soPinStatus(): Promise<PinStatus> {
    const md = await this.metadata(KEY_REF.puk);
    const retries = md ? findTlv(md, METADATA_TAG.retries) : undefined;
    if (!retries || retries.length < 2) return { state: 'not-verified', triesLeft: undefined };
    const left = retries[1]!;
    return { state: left === 0 ? 'blocked' : 'not-verified', triesLeft: left };
  }

  /** PIN (or PUK) still at the factory value, when GET METADATA says so. */
  async isFactoryDefault(ref: number): Promise<boolean | undefined> {
    const md = await this.metadata(ref);
    const d = md ? findTlv(md, METADATA_TAG.isDefault) : undefined;
    return d && d.length === 1 ? d[0] === 1 : undefined;
  }

  async verifyPin(pin: Uint8Array): Promise<void> {
    checkPinLength(pin, 'PIN');
    const padded = piv.padPin(pin);
    try {
      const r = await this.ch.transmit(piv.verifyPin(padded));
      if (r.sw !== 0x9000) throw statusWordError(r.sw, 'VERIFY PIV PIN');
    } finally {
      padded.fill(0);
    }
  }

  private async changeRef(ref: number, oldValue: Uint8Array, newValue: Uint8Array, what: string): Promise<void> {
    checkPinLength(oldValue, what);
    checkPinLength(newValue, `new ${what}`);
    const data = paddedPair(oldValue, newValue);
    try {
      const r = await this.ch.transmit(piv.changeReference(ref, data));
      if (r.sw !== 0x9000) throw pukAware(statusWordError(r.sw, `CHANGE REFERENCE DATA (${what})`), ref);
    } finally {
      data.fill(0);
    }
  }

  changePin(oldPin: Uint8Array, newPin: Uint8Array): Promise<void> {
    return this.changeRef(KEY_REF.pin, oldPin, newPin, 'PIN');
  }

  changeUnblockCredential(oldPuk: Uint8Array, newPuk: Uint8Array): Promise<void> {
    return this.changeRef(KEY_REF.puk, oldPuk, newPuk, 'PUK');
  }

  async unblockPin(puk: Uint8Array, newPin: Uint8Array | undefined): Promise<void> {
    if (!newPin) {
      throw new CardError('PIV_NEW_PIN_REQUIRED', 'a PIV card resets the PIN only together with a new PIN', { hint: 'Give the new PIN when asked.' });
    }
    checkPinLength(puk, 'PUK');
    checkPinLength(newPin, 'new PIN');
    const data = paddedPair(puk, newPin);
    try {
      const r = await this.ch.transmit(piv.resetRetryCounter(data));
      if (r.sw !== 0x9000) throw pukAware(statusWordError(r.sw, 'RESET RETRY COUNTER (PUK)'), KEY_REF.puk);
    } finally {
      data.fill(0);
    }
  }

  /**
   * Management-key authentication (SP 800-73-4 Part 2 Appendix A.1, mutual): the card's witness
   * decrypted proves we hold the key; the card's encryption of our challenge proves it does.
   */
  async authenticateAdmin(key: Uint8Array): Promise<void> {
    const alg = await this.managementKeyAlgorithm(key.length);
    if (key.length !== MGMT_KEY_LENGTH[alg]) {
      throw new CardError('PIV_MGMT_KEY_LENGTH', `the card's management key is ${alg} (${MGMT_KEY_LENGTH[alg]} bytes), the one given has ${key.length}`, {
        hint: `Give the management key as ${MGMT_KEY_LENGTH[alg] * 2} hex digits.`,
      });
    }
    const id = mgmtAlgId(alg);
    const bs = mgmtBlockSize(alg);
    this.mgmtAuthenticated = false;
    const r1 = await this.ch.transmit(piv.mgmtWitnessRequest(id));
    if (r1.sw !== 0x9000) throw statusWordError(r1.sw, 'GENERAL AUTHENTICATE (management key witness)');
    const w = dynAuth(r1.data, 0x80);
    if (!w || w.length !== bs) throw new CardError('PIV_BAD_RESPONSE', 'the card sent no management-key witness');
    const decrypted = mgmtDecrypt(alg, key, w);
    const challenge = new Uint8Array(randomBytes(bs));
    const r2 = await this.ch.transmit(piv.mgmtWitnessResponse(id, decrypted, challenge));
    decrypted.fill(0);
    if (r2.sw === 0x6982 || r2.sw === 0x6a80) {
      throw new CardError('PIV_MGMT_KEY_WRONG', 'the card refused the management key (wrong key); nothing on the card was changed', {
        hint: 'Check the management-key file (hex, one line). A YubiKey does not count wrong management keys, but keep it in custody.',
      });
    }
    if (r2.sw !== 0x9000) throw statusWordError(r2.sw, 'GENERAL AUTHENTICATE (management key response)');
    const proof = dynAuth(r2.data, 0x82);
    const expected = mgmtEncrypt(alg, key, challenge);
    if (!proof || proof.length !== bs || !timingSafeEqual(proof, expected)) {
      throw new CardError('PIV_CARD_NOT_AUTHENTIC', 'the card does not know the management key it just accepted (mutual authentication failed)', {
        hint: 'Do not use this token: it is not the device it claims to be.',
      });
    }
    this.mgmtAuthenticated = true;
  }

  /**
   * Yubico SET MANAGEMENT KEY. The new key keeps the card's current algorithm when its length
   * fits it (24 bytes: 3DES or AES-192), else AES by length (16 → AES-128, 32 → AES-256).
   */
  async changeAdminKey(newKey: Uint8Array): Promise<void> {
    this.requireAdmin('Changing the management key');
    if (!this.yubico) {
      throw new CardError('PIV_UNSUPPORTED_OPERATION', 'SP 800-73-4 has no command to change the management key; this is a Yubico extension', {
        hint: "Use the card vendor's tool.",
      });
    }
    const current = await this.managementKeyAlgorithm(newKey.length);
    const alg: MgmtKeyAlgorithm = MGMT_KEY_LENGTH[current] === newKey.length ? current : newKey.length === 16 ? 'aes128' : newKey.length === 32 ? 'aes256' : 'tdes';
    const cmd = piv.setManagementKey(mgmtAlgId(alg), newKey);
    try {
      const r = await this.ch.transmit(cmd);
      if (r.sw === 0x6a80 || r.sw === 0x6a86) {
        throw new CardError('PIV_MGMT_KEY_REFUSED', `the token refused a ${alg} management key`, { hint: 'Its firmware may not support that algorithm (AES needs YubiKey 5.4).' });
      }
      if (r.sw !== 0x9000) throw statusWordError(r.sw, 'SET MANAGEMENT KEY');
    } finally {
      cmd.data?.fill(0);
    }
    this.mgmtAuthenticated = false;
  }

  private async managementKeyAlgorithm(keyLength: number): Promise<MgmtKeyAlgorithm> {
    const md = await this.metadata(KEY_REF.management);
    const a = md ? findTlv(md, METADATA_TAG.algorithm) : undefined;
    if (a && a.length === 1 && MGMT_ALG_BY_ID[a[0]!]) return MGMT_ALG_BY_ID[a[0]!]!;
    // No metadata (SP 800-73-4 cards, YubiKey < 5.3): 3DES is the PIV default; AES by length.
    return keyLength === 16 ? 'aes128' : keyLength === 32 ? 'aes256' : 'tdes';
  }

  private requireAdmin(what: string): void {
    if (!this.mgmtAuthenticated) {
      throw new CardError('PIV_MGMT_KEY_REQUIRED', `${what} on a PIV card needs the management key`, {
        hint: 'Pass --mgmt-key-file FILE (hex), or answer the management-key prompt.',
      });
    }
  }

  /**
   * `ca card init` on PIV: with the management key authenticated and PIN and PUK still at the
   * factory values, set the PIN retries, the new PIN and PUK, and write CHUID and CCC (which
   * Windows and OpenSC expect). Keys already on the token stay (PIV has no key deletion).
   */
  async initialize(o: InitOptions): Promise<void> {
    this.requireAdmin('Initialising');
    const pinDefault = await this.isFactoryDefault(KEY_REF.pin);
    const pukDefault = await this.isFactoryDefault(KEY_REF.puk);
    if (pinDefault === false || pukDefault === false) {
      throw new CardError('PIV_ALREADY_PERSONALISED', 'the PIN or PUK of this PIV token is no longer the factory value', {
        hint: 'Change them with `ca card pin change` / `ca card pin change-puk`, or reset the token to factory state with its vendor tool.',
      });
    }
    const defPin = Buffer.from(FACTORY.pin, 'latin1');
    const defPuk = Buffer.from(FACTORY.puk, 'latin1');
    if (this.hasMetadata) {
      // SET PIN RETRIES needs the PIN verified and resets PIN and PUK to the factory values.
      await this.verifyPin(defPin);
      await this.ch.expectOk(piv.setPinRetries(o.retries, o.retries), 'SET PIN RETRIES');
    }
    await this.changePin(defPin, o.userPin);
    await this.changeUnblockCredential(defPuk, o.soPin);
    await this.putObject(OBJECT_TAG.chuid, newChuid(), 'CHUID');
    await this.putObject(OBJECT_TAG.ccc, newCcc(), 'CCC');
  }

  private async putObject(tag: number, content: Uint8Array, what: string): Promise<void> {
    this.requireAdmin(`Writing ${what}`);
    await this.ch.expectOk(piv.putData(tag, content), `PUT DATA ${what}`);
  }

  private async slotMetadata(slot: number): Promise<SlotMetadata | undefined> {
    const md = await this.metadata(slot);
    if (!md) return undefined;
    const alg = findTlv(md, METADATA_TAG.algorithm);
    const pol = findTlv(md, METADATA_TAG.policy);
    const origin = findTlv(md, METADATA_TAG.origin);
    const pub = findTlv(md, METADATA_TAG.publicKey);
    return {
      alg: alg?.[0] ?? 0,
      pinPolicy: pol?.[0] ?? 0,
      touchPolicy: pol?.[1] ?? 0,
      origin: origin?.[0] === 1 ? 'generated' : origin?.[0] === 2 ? 'imported' : undefined,
      publicKey: pub ? spkiFromTemplate(alg?.[0] ?? 0, pub) : undefined,
    };
  }

  async listKeys(): Promise<CardKeyInfo[]> {
    const keys: CardKeyInfo[] = [];
    for (const slot of KEY_SLOTS) {
      const k = await this.slotKey(slot);
      if (k) keys.push(k);
    }
    return keys;
  }

  private async slotKey(slot: number): Promise<CardKeyInfo | undefined> {
    const obj = await this.getObject(certificateTag(slot), `certificate of slot ${slotHex(slot)}`);
    const certificate = obj ? decodeCertObject(obj, `slot ${slotHex(slot)}`) : undefined;
    const md = await this.slotMetadata(slot);
    let spki = md?.publicKey;
    if (!spki && certificate) {
      try {
        spki = new Uint8Array(AsnConvert.serialize(AsnConvert.parse(certificate, Certificate).tbsCertificate.subjectPublicKeyInfo));
      } catch {
        spki = undefined; // a foreign, unparseable certificate: the slot is not usable by cardca
      }
    }
    if (!spki) return undefined;
    let algorithm: KeyAlgorithm;
    try {
      algorithm = algorithmOfSpki(spki);
    } catch {
      return undefined; // e.g. RSA-1024 or Ed25519: not a CA key cardca can use
    }
    this.slotAlg.set(slot, algorithm);
    return { id: slotHex(slot), keyRef: slot, label: slotName(slot), algorithm, publicKey: spki, certificate };
  }

  async generateKey(o: { label: string; algorithm: KeyAlgorithm } & KeyPlacement): Promise<CardKeyInfo> {
    const slot = o.slot ?? KEY_REF.signature;
    if (!KEY_SLOTS.includes(slot)) {
      throw new CardError('PIV_BAD_SLOT', `${slotHex(slot)} is not a PIV key slot`, { hint: 'Use 9a, 9c, 9d, 9e or 82–95.' });
    }
    const algId = ALG_ID[o.algorithm];
    if (algId === undefined) {
      throw new CardError('CARD_ALGORITHM_UNSUPPORTED', `PIV has no ${o.algorithm} keys (SP 800-78-4)`, {
        hint: 'Use rsa2048, rsa3072, rsa4096 (YubiKey 5.7+), p256 or p384 in the CA profile.',
      });
    }
    this.requireAdmin('Generating a key');
    if (!o.overwrite && (await this.slotKey(slot)) !== undefined) {
      throw new CardError('PIV_SLOT_OCCUPIED', `slot ${slotHex(slot)} (${slotName(slot)}) already holds a key; generating would destroy it`, {
        hint: 'Choose another slot with --slot, or confirm the replacement (ca card keygen --overwrite after typing the confirmation).',
      });
    }
    const r = await this.ch.transmit(
      piv.generateKeyPair(slot, algId, {
        ...(o.pinPolicy ? { pin: PIN_POLICY[o.pinPolicy] } : {}),
        ...(o.touchPolicy ? { touch: TOUCH_POLICY[o.touchPolicy] } : {}),
      }),
    );
    if (r.sw === 0x6a80 || r.sw === 0x6a81 || r.sw === 0x6a86) {
      throw new CardError('CARD_ALGORITHM_UNSUPPORTED', `the token refused to generate ${o.algorithm} in slot ${slotHex(slot)} (SW ${r.sw.toString(16).toUpperCase()})`, {
        hint: 'This token does not support that algorithm or policy; check its firmware (RSA-4096 needs YubiKey 5.7).',
      });
    }
    if (r.sw !== 0x9000) throw statusWordError(r.sw, `GENERATE ASYMMETRIC KEY PAIR ${o.algorithm} in slot ${slotHex(slot)}`);
    let spki: Uint8Array;
    try {
      const t = readTlv(r.data, 0);
      if (t.tag !== 0x7f49) throw new RangeError('no 7F49 template');
      spki = spkiFromTemplate(algId, t.value);
    } catch (e) {
      throw new CardError('PIV_BAD_RESPONSE', `the public key returned by GENERATE is malformed: ${(e as Error).message}`, { cause: e });
    }
    const algorithm = algorithmOfSpki(spki);
    if (algorithm !== o.algorithm) throw new CardError('CARD_KEYGEN_MISMATCH', `asked the card for ${o.algorithm} but it generated ${algorithm}`);
    this.slotAlg.set(slot, algorithm);
    return { id: slotHex(slot), keyRef: slot, label: slotName(slot), algorithm, publicKey: spki, certificate: undefined };
  }

  async writeCertificate(keyRef: number, certificate: Uint8Array): Promise<void> {
    await this.putObject(certificateTag(keyRef), encodeCertObject(certificate), `certificate of slot ${slotHex(keyRef)}`);
  }

  async deleteKey(keyRef: number): Promise<void> {
    throw new CardError('PIV_CANNOT_DELETE_KEY', `PIV has no command to delete the key in slot ${slotHex(keyRef)}`, {
      hint: 'Generate a new key over it (ca card keygen --slot … --overwrite), or reset the token with its vendor tool.',
    });
  }

  private async algorithmOf(slot: number): Promise<KeyAlgorithm> {
    const known = this.slotAlg.get(slot);
    if (known) return known;
    const k = await this.slotKey(slot);
    if (!k) throw new CardError('KEY_NOT_FOUND', `no usable key in slot ${slotHex(slot)}`, { hint: 'List the keys with `ca card list`.' });
    return k.algorithm;
  }

  /**
   * Signature through GENERAL AUTHENTICATE (SP 800-73-4 Part 2 §3.2.4, Appendix A.3). PIV RSA is
   * raw only, so PSS blocks are built here on the host; ECDSA takes the hash fitted to the field
   * size (leftmost bytes, FIPS 186-4 §6.4) and returns DER.
   */
  async sign(keyRef: number, mode: RawSignMode, input: Uint8Array): Promise<Uint8Array> {
    const algorithm = await this.algorithmOf(keyRef);
    const algId = ALG_ID[algorithm]!;
    let block: Uint8Array;
    if (mode.kind === 'rsa-raw') block = input;
    else if (mode.kind === 'rsa-pss') block = emsaPssEncode(hashOfLength(mode.hashLength), input, MOD_BITS[algorithm]!);
    else {
      const f = FIELD_BYTES[algorithm]!;
      block = new Uint8Array(f);
      if (input.length >= f) block.set(input.subarray(0, f));
      else block.set(input, f - input.length);
    }
    const r = await this.ch.transmit(piv.signWithSlot(algId, keyRef, block));
    if (r.sw === 0x6982 && (await this.touchWanted(keyRef))) {
      throw new CardError('PIV_TOUCH_TIMEOUT', `slot ${slotHex(keyRef)} of token ${await this.getSerial()} needs a touch, and none came before the token gave up (about 15 s)`, {
        hint: 'Run the command again and touch the token when it blinks; or generate the key with --touch-policy never for unattended signing.',
      });
    }
    if (r.sw === 0x6982) {
      throw new PinError('PIN_REQUIRED', `slot ${slotHex(keyRef)} needs the PIN verified (again) before this signature`, {
        hint: 'Its PIN policy may be "always" (YubiKey default for 9C): generate CA keys with --pin-policy once, or sign one item per session.',
      });
    }
    if (r.sw !== 0x9000) throw statusWordError(r.sw, `GENERAL AUTHENTICATE (sign) with slot ${slotHex(keyRef)}`);
    const sig = dynAuth(r.data, 0x82);
    if (!sig) throw new CardError('CARD_BAD_SIGNATURE', 'the card returned no signature (tag 82) in its GENERAL AUTHENTICATE answer');
    return sig;
  }

  /**
   * 6982 after a signature: a missing touch rather than a PIN when the key's touch policy wants
   * one (GET METADATA, YubiKey 5.3+) and the PIN is verified. Tokens without metadata: the PIN.
   */
  private async touchWanted(keyRef: number): Promise<boolean> {
    const md = await this.slotMetadata(keyRef).catch(() => undefined);
    if (!md || (md.touchPolicy !== TOUCH_POLICY.always && md.touchPolicy !== TOUCH_POLICY.cached)) return false;
    return (await this.pinStatus()).state === 'verified';
  }

  async attest(keyRef: number): Promise<KeyAttestation> {
    if (!this.yubico) {
      throw new CardError('PIV_NO_ATTESTATION', 'this PIV card has no attestation (a YubiKey extension)', {
        hint: 'Attestation needs a YubiKey 4.3 or later.',
      });
    }
    const r = await this.ch.transmit(piv.attest(keyRef));
    if (r.sw === 0x6a80 || r.sw === 0x6a88) {
      throw new CardError('PIV_NOT_ATTESTABLE', `slot ${slotHex(keyRef)} holds no key generated on the device (imported keys cannot be attested)`, {
        hint: 'Only a key generated on the token can be proven to have been generated there.',
      });
    }
    if (r.sw !== 0x9000) throw statusWordError(r.sw, `ATTEST slot ${slotHex(keyRef)}`);
    const obj = await this.getObject(OBJECT_TAG.attestationCert, 'attestation certificate (slot F9)');
    const intermediate = obj ? decodeCertObject(obj, 'slot F9') : undefined;
    if (!intermediate) throw new CardError('PIV_NO_ATTESTATION', 'the token has no attestation certificate in slot F9');
    return { certificate: r.data, intermediate };
  }
}

/** Value of `tag` inside a dynamic authentication template `7C { … }`. */
function dynAuth(data: Uint8Array, tag: number): Uint8Array | undefined {
  try {
    const t = readTlv(data, 0);
    return t.tag === 0x7c ? findTlv(t.value, tag) : undefined;
  } catch {
    return undefined;
  }
}

/** `old‖new` (or `PUK‖new PIN`), each FF-padded to 8 bytes (SP 800-73-4 Part 2 §3.2.2–3.2.3); the caller wipes it. */
function paddedPair(first: Uint8Array, second: Uint8Array): Uint8Array {
  const data = new Uint8Array(16);
  const a = piv.padPin(first);
  const b = piv.padPin(second);
  data.set(a);
  data.set(b, 8);
  a.fill(0);
  b.fill(0);
  return data;
}

/** PIV PINs and PUKs are 6–8 bytes (SP 800-73-4 Part 2 §2.4.3; YubiKey enforces 6). */
function checkPinLength(v: Uint8Array, what: string): void {
  if (v.length < 6 || v.length > 8) {
    throw new PinError('PIN_FORMAT', `a PIV ${what} is 6 to 8 characters`, { hint: `Enter a ${what} of 6 to 8 characters.` });
  }
}

/** The PUK's SW errors say "PUK", and a blocked PUK says what that means. */
function pukAware(e: StatusWordError | PinError, ref: number): Error {
  if (ref !== KEY_REF.puk || !(e instanceof PinError)) return e;
  if (e.code === 'PIN_BLOCKED' || e.triesLeft === 0) {
    return new PinError('PUK_BLOCKED', 'the PUK is blocked (no tries left): the PIN can no longer be reset', {
      triesLeft: 0,
      hint: 'Only a factory reset of the PIV application (which destroys every key) makes the token usable again.',
    });
  }
  return new PinError('PUK_INCORRECT', `wrong PUK, ${e.triesLeft} ${e.triesLeft === 1 ? 'try' : 'tries'} left`, {
    ...(e.triesLeft === undefined ? {} : { triesLeft: e.triesLeft }),
    hint: 'Check the PUK; every wrong entry costs a try, and a blocked PUK cannot be reset.',
  });
}

/** DER SPKI from a public-key template (RSA `81 n 82 e`, EC `86 point`; SP 800-73-4 Part 2 Table 11). */
export function spkiFromTemplate(algId: number, t: Uint8Array): Uint8Array {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
  let jwk: Record<string, string>;
  if (algId === PIV_ALG.p256 || algId === PIV_ALG.p384) {
    const q = findTlv(t, 0x86);
    const size = algId === PIV_ALG.p256 ? 32 : 48;
    if (!q || q.length !== 1 + 2 * size || q[0] !== 0x04) throw new RangeError('EC point missing or not uncompressed');
    jwk = { kty: 'EC', crv: size === 32 ? 'P-256' : 'P-384', x: b64(q.subarray(1, 1 + size)), y: b64(q.subarray(1 + size)) };
  } else {
    const n = findTlv(t, 0x81);
    const e = findTlv(t, 0x82);
    if (!n || !e) throw new RangeError('RSA modulus or exponent missing');
    jwk = { kty: 'RSA', n: b64(n), e: b64(e) };
  }
  return new Uint8Array(createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' }));
}

/**
 * A CHUID (SP 800-73-4 Part 1 Table 9): FASC-N of "no agency" (as yubico-piv-tool writes it),
 * a random GUID (tag 34), expiry 2099-12-31, empty issuer signature, LRC.
 */
function newChuid(): Uint8Array {
  const fascn = Buffer.from('D4E739DA739CED39CE739D836858210842108421C84210C3EB', 'hex');
  const guid = randomBytes(16);
  return new Uint8Array(Buffer.concat([tlv(0x30, fascn), tlv(0x34, guid), tlv(0x35, Buffer.from('20991231', 'latin1')), tlv(0x3e, []), tlv(0xfe, [])]));
}

/** A Card Capability Container (SP 800-73-4 Part 1 Table 8) with a random card identifier. */
function newCcc(): Uint8Array {
  const id = Buffer.concat([Buffer.from('a000000116ff02', 'hex'), randomBytes(14)]);
  return new Uint8Array(Buffer.concat([
    tlv(0xf0, id), tlv(0xf1, [0x21]), tlv(0xf2, [0x21]), tlv(0xf3, []), tlv(0xf4, [0x00]), tlv(0xf5, [0x10]),
    tlv(0xf6, []), tlv(0xf7, []), tlv(0xfa, []), tlv(0xfb, []), tlv(0xfc, []), tlv(0xfd, []), tlv(0xfe, []),
  ]));
}
