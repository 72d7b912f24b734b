import { storeCaCertificate, type CaCertificateOps } from './sc-hsm/ca-certificates.js';
import type { KeyAlgorithm } from '../../crypto/signer.js';
import { concatBytes, toHex } from '../../common/hex.js';
import type { ApduChannel } from '../apdu/apdu-channel.js';
import { statusWordError, triesLeftOf } from '../apdu/status-words.js';
import type { CardKeyEntry, CardKeyInfo, PinStatus } from '../card-service.js';
import { CardError, PinError } from '../errors.js';
import { changeReferenceData, readBinaryOdd, resetRetryCounter, updateBinaryOdd, verify, verifyStatus } from '../iso7816/commands.js';
import { encodePrivateKeyEntry } from '../pkcs15/prkdf.js';
import { encodeTokenInfo, parseTokenInfo } from '../pkcs15/token-info-file.js';
import { findTlv, readTlv } from '../tlv.js';
import type { CardDriver, DeviceInfo, DriverCapabilities, DriverFactory, InitOptions, RawSignMode } from './card-driver.js';
import { parseCvc, chrOfFirstCvc } from './sc-hsm/cv-request.js';
import { buildGakp } from './sc-hsm/gakp.js';
import { writeCertificateSafely } from './sc-hsm/cert-write-back.js';
import { discoverKey, intrinsicKeyId, stagingFid } from './sc-hsm/key-discovery.js';
import { emulatedDeviceEvidence } from './sc-hsm/device-provenance.js';
import { protectedDataFid } from './sc-hsm/protected-data.js';
import * as cmd from './sc-hsm/sc-hsm-commands.js';
import { LengthPolicy } from './sc-hsm/length-policy.js';

/** "THSM1" followed by the capability bytes `73 80 21 40` in the historical bytes (OpenSC `sc_hsm_atrs`). */
const ATR_MARKER = Uint8Array.of(0x54, 0x48, 0x53, 0x4d, 0x31);

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** Largest data chunk per UPDATE BINARY (the card takes ~1223 data bytes; 8 go to the 54/53 DOs). */
const WRITE_CHUNK = 1000;
/** The same over short APDUs: 255 data bytes minus `54 02 oo oo` and `53 81 LL`. */
const SHORT_WRITE_CHUNK = 248;
/** Short READ BINARY asks for 256 bytes (Le = 00) at a time. */
const SHORT_READ_CHUNK = 256;

export const scHsmDriverFactory: DriverFactory = {
  name: 'sc-hsm',
  matchAtr: (atr) => contains(atr, ATR_MARKER),
  async probe(ch) {
    const r = await ch.transmit(cmd.selectApplet());
    // The FCP must carry tag 85 of at least 2 bytes (OpenSC `sc_hsm_match_card`).
    if (r.sw !== 0x9000) return false;
    try {
      const fcp = readTlv(r.data, 0);
      const v = findTlv(fcp.value, 0x85);
      return v !== undefined && v.length >= 2;
    } catch {
      return false;
    }
  },
  create: (ch) => new ScHsmDriver(ch),
};

/**
 * SmartCard-HSM / Nitrokey HSM 2 driver (card-protocols.md §3.1). The card has no PKCS#15 file
 * system; the PKCS#15 view is synthesised from `C4xx` (PrKDF entries) and `CExx` (certificate or
 * the CV request from key generation), as OpenSC does in `pkcs15-sc-hsm.c`.
 */
export class ScHsmDriver implements CardDriver {
  readonly name = 'sc-hsm';
  readonly capabilities: DriverCapabilities = { unblockCredential: 'so-pin', adminKey: false, keySlots: false, attestation: false, caCertificates: true, dkekBackup: true, userPinLength: { min: 6, max: 16 } };
  private readonly ch: ApduChannel;
  private version: string | undefined;
  private serial: string | undefined;
  /** Extended APDUs where the reader carries them, short ones where not (length-policy.ts). */
  readonly lengths: LengthPolicy;
  /** EF 2F02 as read for the serial (device CVC ‖ DICA CVC), for `emulatedDeviceEvidence`. */
  private deviceCertificates: Uint8Array | undefined;

  constructor(ch: ApduChannel) {
    this.ch = ch;
    this.lengths = new LengthPolicy(ch, () => (this.serial ? `card ${this.serial}` : 'the card'));
  }

  async selectApplication(): Promise<void> {
    const fci = await this.ch.expectOk(cmd.selectApplet(), 'SELECT SmartCard-HSM applet');
    try {
      const v = findTlv(readTlv(fci, 0).value, 0x85);
      if (v && v.length >= 2) this.version = `${v[v.length - 2]}.${v[v.length - 1]}`;
    } catch {
      /* version stays unknown */
    }
  }

  /** Read a whole EF with the odd READ BINARY (one extended APDU; `6282` is a normal end). */
  async readFile(fid: number): Promise<Uint8Array | undefined> {
    const what = `READ BINARY of EF ${fid.toString(16).toUpperCase()}`;
    const r = await this.lengths.transmit(readBinaryOdd(fid, 0, 65536), readBinaryOdd(fid, 0, SHORT_READ_CHUNK), what);
    if (r.sw === 0x6a82) return undefined;
    if (r.sw !== 0x9000 && r.sw !== 0x6282) throw statusWordError(r.sw, what);
    if (this.lengths.extended !== false || r.sw === 0x6282 || r.data.length < SHORT_READ_CHUNK) return r.data;
    // Short APDUs: continue by offset until a short chunk, 6282 (end of file) or 6B00 (beyond it).
    const parts = [r.data];
    let off = r.data.length;
    for (;;) {
      const next = await this.ch.transmit(readBinaryOdd(fid, off, SHORT_READ_CHUNK));
      if (next.sw === 0x6b00 || next.sw === 0x6a86) break;
      if (next.sw !== 0x9000 && next.sw !== 0x6282) throw statusWordError(next.sw, `${what} at offset ${off}`);
      parts.push(next.data);
      off += next.data.length;
      if (next.sw === 0x6282 || next.data.length < SHORT_READ_CHUNK) break;
    }
    return concatBytes(...parts);
  }

  async writeFile(fid: number, data: Uint8Array): Promise<void> {
    if (data.length === 0) {
      await this.ch.expectOk(updateBinaryOdd(fid, 0, data), `UPDATE BINARY of EF ${fid.toString(16).toUpperCase()}`);
      return;
    }
    for (let off = 0; off < data.length; ) {
      const size = this.lengths.extended === false ? SHORT_WRITE_CHUNK : WRITE_CHUNK;
      const chunk = data.subarray(off, Math.min(off + size, data.length));
      const what = `UPDATE BINARY of EF ${fid.toString(16).toUpperCase()} at ${off}`;
      const first = chunk.subarray(0, Math.min(chunk.length, SHORT_WRITE_CHUNK));
      const r = await this.lengths.transmit(updateBinaryOdd(fid, off, chunk), updateBinaryOdd(fid, off, first), what);
      if (r.sw !== 0x9000) throw statusWordError(r.sw, what);
      // After a switch to short APDUs only `first` went out.
      off += this.lengths.extended === false ? first.length : chunk.length;
    }
  }

  /**
   * PIN-protected data object `CD id` (card-protocols.md §3.1 file table: `CD xx` is
   * PIN-protected data; reading and writing need the user PIN verified in this session).
   */
  async readDataObject(id: number): Promise<Uint8Array | undefined> {
    return this.readFile(protectedDataFid(id));
  }

  /** Replace the content of `CD id`: UPDATE BINARY never shortens an EF, so delete it first. */
  async writeDataObject(id: number, data: Uint8Array): Promise<void> {
    const fid = protectedDataFid(id);
    await this.deleteFile(fid, false);
    await this.writeFile(fid, data);
  }

  private async deleteFile(fid: number, mustExist: boolean): Promise<void> {
    const r = await this.ch.transmit(cmd.deleteFile(fid));
    if (r.sw === 0x9000 || (!mustExist && r.sw === 0x6a82)) return;
    throw statusWordError(r.sw, `DELETE FILE ${fid.toString(16).toUpperCase()}`);
  }

  async getSerial(): Promise<string> {
    if (this.serial) return this.serial;
    const dev = await this.readFile(cmd.EF_DEVICE_CERT);
    if (!dev || dev.length === 0) {
      throw new CardError('CARD_NO_DEVICE_CERT', 'the SmartCard-HSM has no device certificate (EF 2F02)', {
        hint: 'The card cannot be identified by serial; it may be damaged or not a SmartCard-HSM.',
      });
    }
    // Serial = CHR of the device CVC minus its 5-character sequence number (OpenSC `sc_hsm_get_serialnr`).
    const chr = chrOfFirstCvc(dev);
    this.deviceCertificates = dev;
    this.serial = chr.length > 5 ? chr.slice(0, -5) : chr;
    return this.serial;
  }

  async deviceInfo(): Promise<DeviceInfo> {
    const serial = await this.getSerial();
    const status = await this.pinStatus();
    const initialized = status.state !== 'not-initialized';
    let label: string | undefined;
    let manufacturer: string | undefined;
    if (initialized) {
      const ti = await this.readFile(cmd.EF_TOKEN_INFO);
      if (ti && ti.length > 0) {
        try {
          ({ label, manufacturer } = parseTokenInfo(ti));
        } catch {
          label = undefined; // a foreign or damaged TokenInfo must not stop status/list
        }
      }
    }
    const emulated = emulatedDeviceEvidence(this.deviceCertificates);
    return { serial, label, initialized, version: this.version, ...(manufacturer === undefined ? {} : { manufacturer }), ...(emulated ? { emulated } : {}) };
  }

  private async pinStatusOf(ref: number): Promise<PinStatus> {
    const r = await this.ch.transmit(verifyStatus(ref));
    const tries = triesLeftOf(r.sw);
    if (r.sw === 0x9000) return { state: 'verified', triesLeft: undefined };
    if (tries !== undefined) return { state: tries === 0 ? 'blocked' : 'not-verified', triesLeft: tries };
    if (r.sw === 0x6983) return { state: 'blocked', triesLeft: 0 };
    if (r.sw === 0x6984) return { state: 'transport', triesLeft: undefined };
    if (r.sw === 0x6a88) return { state: 'not-initialized', triesLeft: undefined };
    throw statusWordError(r.sw, 'PIN status query');
  }

  pinStatus(): Promise<PinStatus> {
    return this.pinStatusOf(cmd.PIN_REF.user);
  }

  soPinStatus(): Promise<PinStatus> {
    return this.pinStatusOf(cmd.PIN_REF.so);
  }

  async verifyPin(pin: Uint8Array): Promise<void> {
    const r = await this.ch.transmit(verify(cmd.PIN_REF.user, pin));
    if (r.sw === 0x9000) return;
    if (r.sw === 0x6a88) {
      throw new PinError('PIN_NOT_INITIALIZED', 'the card is not initialised (no user PIN set)', {
        hint: 'Initialise it with `ca card init --label LABEL`.',
      });
    }
    throw statusWordError(r.sw, 'VERIFY user PIN');
  }

  async changePin(oldPin: Uint8Array, newPin: Uint8Array): Promise<void> {
    const data = new Uint8Array(oldPin.length + newPin.length);
    data.set(oldPin);
    data.set(newPin, oldPin.length);
    try {
      await this.ch.expectOk(changeReferenceData(cmd.PIN_REF.user, data), 'CHANGE REFERENCE DATA (user PIN)');
    } finally {
      data.fill(0);
    }
  }

  async unblockPin(soPin: Uint8Array, newPin: Uint8Array | undefined): Promise<void> {
    if (soPin.length !== 8) throw new RangeError('SO-PIN must be 8 bytes');
    const data = new Uint8Array(8 + (newPin?.length ?? 0));
    data.set(soPin);
    if (newPin) data.set(newPin, 8);
    try {
      // P1 00: SO-PIN ‖ new PIN; P1 01: SO-PIN only, resets the counter (ISO 7816-4 §11.5.10).
      await this.ch.expectOk(resetRetryCounter(newPin ? 0x00 : 0x01, cmd.PIN_REF.user, data), 'RESET RETRY COUNTER (user PIN)');
    } finally {
      data.fill(0);
    }
  }

  async initialize(o: InitOptions): Promise<void> {
    const data = cmd.initializeData(o.userPin, o.soPin, o.retries, o.dkekShares);
    try {
      await this.ch.expectOk(cmd.initializeDevice(data), 'INITIALIZE DEVICE');
    } finally {
      data.fill(0);
    }
    // TokenInfo (label) is written with the new user PIN verified, then the applet is re-selected (logout).
    await this.verifyPin(o.userPin);
    await this.writeFile(cmd.EF_TOKEN_INFO, encodeTokenInfo(await this.getSerial(), o.label));
    await this.selectApplication();
  }

  private async enumerate(): Promise<number[]> {
    // No short form: the card requires extended Le 000000 for ENUMERATE OBJECTS (CardContact
    // in OpenSC issue #715; SC-HSM user manual v2.4 as quoted in OpenSC issue #2944).
    const r = await this.lengths.transmit(cmd.enumerateObjects(), undefined, 'ENUMERATE OBJECTS');
    if (r.sw !== 0x9000) throw statusWordError(r.sw, 'ENUMERATE OBJECTS');
    const list = r.data;
    const fids: number[] = [];
    for (let i = 0; i + 1 < list.length; i += 2) fids.push((list[i]! << 8) | list[i + 1]!);
    return fids;
  }

  /** Every key slot (CC xx, xx ≠ 0), foreign and incomplete keys included (key-discovery.ts). */
  async listKeyEntries(): Promise<CardKeyEntry[]> {
    const fids = await this.enumerate();
    const set = new Set(fids);
    const entries: CardKeyEntry[] = [];
    for (const fid of fids) {
      if (fid >> 8 !== cmd.FID_PREFIX.privateKey || (fid & 0xff) === 0) continue; // CC00 = device key
      entries.push(await discoverKey((f) => this.readFile(f), fid & 0xff, (f) => set.has(f)));
    }
    return entries;
  }

  async listKeys(): Promise<CardKeyInfo[]> {
    return (await this.listKeyEntries()).flatMap((k) =>
      k.usable && k.algorithm && k.publicKey
        ? [{ id: k.id, keyRef: k.keyRef, label: k.label, algorithm: k.algorithm, publicKey: k.publicKey, certificate: k.certificate }]
        : [],
    );
  }

  async generateKey(o: { label: string; algorithm: KeyAlgorithm }): Promise<CardKeyInfo> {
    const fids = new Set(await this.enumerate());
    let keyRef = 1;
    while (keyRef < 256 && fids.has((cmd.FID_PREFIX.privateKey << 8) | keyRef)) keyRef++;
    if (keyRef === 256) throw new CardError('CARD_FULL', 'no free key slot on the card', { hint: 'Delete an unused key first.' });
    const serial = await this.getSerial();
    const gakp = buildGakp(o.algorithm, 'UTCA00001', `${serial}00001`);
    const what = `GENERATE KEY PAIR ${o.algorithm} in slot ${keyRef}`;
    const ext = cmd.generateKeyPair(keyRef, gakp);
    // No short form either: GENERATE ASYMMETRIC KEY PAIR must carry extended Le (OpenSC issue #2944).
    const r = await this.lengths.transmit(ext, undefined, what);
    if (r.sw !== 0x9000) throw statusWordError(r.sw, what);
    const req = r.data;
    const { spki, algorithm, keyType } = parseCvc(req);
    if (algorithm !== o.algorithm) {
      throw new CardError('CARD_KEYGEN_MISMATCH', `asked the card for ${o.algorithm} but it generated ${algorithm}`);
    }
    const id = intrinsicKeyId(spki);
    const size = keyType.bits;
    // Keep the CV request in CExx (it carries the public key until a certificate replaces it).
    await this.writeFile((cmd.FID_PREFIX.eeCertificate << 8) | keyRef, req);
    await this.writeFile(
      (cmd.FID_PREFIX.prkd << 8) | keyRef,
      encodePrivateKeyEntry({ kind: keyType.curve ? 'ec' : 'rsa', label: o.label, id, keyReference: keyRef, size }),
    );
    return { id: toHex(id), keyRef, label: o.label, algorithm, publicKey: spki, certificate: undefined };
  }

  /** The EF operations the certificate writers need (sc-hsm/cert-write-back.ts, sc-hsm/ca-certificates.ts). */
  private efOps(): CaCertificateOps {
    return {
      read: (fid) => this.readFile(fid),
      write: (fid, data) => this.writeFile(fid, data),
      remove: (fid) => this.deleteFile(fid, false),
      listed: async (fid) => (await this.enumerate()).includes(fid),
      fids: () => this.enumerate(),
    };
  }

  async writeCertificate(keyRef: number, certificate: Uint8Array): Promise<void> {
    await writeCertificateSafely(this.efOps(), keyRef, certificate, `card ${await this.getSerial()}`);
  }

  /** A CA certificate without a key: `CA xx` + its `C8 xx` CDF entry, as OpenSC's pkcs15init (sc-hsm/ca-certificates.ts). */
  async writeCaCertificate(certificate: Uint8Array, label: string): Promise<{ written: boolean }> {
    return storeCaCertificate(this.efOps(), certificate, label, `card ${await this.getSerial()}`);
  }

  async deleteKey(keyRef: number): Promise<void> {
    await this.deleteFile((cmd.FID_PREFIX.privateKey << 8) | keyRef, true);
    await this.deleteFile((cmd.FID_PREFIX.prkd << 8) | keyRef, false);
    await this.deleteFile((cmd.FID_PREFIX.eeCertificate << 8) | keyRef, false);
    // The staging copy of an interrupted certificate write-back, unless another program owns CA xx.
    if (!(await this.enumerate()).includes((cmd.FID_PREFIX.cd << 8) | keyRef)) await this.deleteFile(stagingFid(keyRef), false);
  }

  async sign(keyRef: number, mode: RawSignMode, input: Uint8Array): Promise<Uint8Array> {
    const alg = mode.kind === 'rsa-raw' ? cmd.SIGN_ALG.rsaRaw : mode.kind === 'rsa-pss' ? cmd.SIGN_ALG.rsaPss : cmd.SIGN_ALG.ecdsa;
    const what = `SIGN with key ${keyRef}`;
    const ext = cmd.sign(keyRef, alg, input);
    const short = input.length <= 255 ? { ...ext, le: 256, extended: false } : undefined;
    const r = await this.lengths.transmit(ext, short, what);
    if (r.sw !== 0x9000) throw statusWordError(r.sw, what);
    return r.data;
  }
}

/** OpenSC's intrinsic key iD (pkcs15init, mozilla style); see key-discovery.ts. */
export { intrinsicKeyId } from './sc-hsm/key-discovery.js';
