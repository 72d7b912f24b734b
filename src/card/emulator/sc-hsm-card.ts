import { PoweredCard } from './powered-card.js';
import { randomBytes } from 'node:crypto';
import type { PersistState } from './state-file.js';
import { generateCardKey, type HashName, HASH_BY_LENGTH, digestInfo, ecdsaSignHash, hash, rsaPkcs1, rsaPss, rsaRaw, stripDigestInfo } from './card-crypto.js';
import { factoryFreshState, fidKey, pinMatches, pinRecord, type CardStateData, type StoredKey, type StoredPin } from './card-state.js';
import { cvcBody, cvcSignature, OID_TA_ECDSA_PREFIX, OID_TA_RSA_PREFIX, publicKeyTemplate, signCvc, type KeyRef } from './cvc.js';
import { bytesToBigint } from '../../common/bigint-math.js';
import { curveByName, curveByPrime, type CurveName } from './ec-curves.js';
import { parseCommandApdu, type CommandApdu } from './command-apdu.js';
import { CardStatus, fail, SW, triesLeftSw } from './status-words.js';
import { findTlv, parseTlvs, tlv, type Tlv } from './tlv.js';
import { dkekCommand, dkekComplete } from './sc-hsm-dkek.js';
import { ResponseChain } from './response-chain.js';

/** SmartCard-HSM applet AID (card-protocols.md §3.1). */
export const SC_HSM_AID = Uint8Array.from([0xe8, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x81, 0xc3, 0x1f, 0x02, 0x01]);
/** ATR of a SmartCard-HSM (OpenSC card-sc-hsm.c ATR table): T=1, historical bytes "THSM1", 73 80 21 40. */
export const SC_HSM_ATR = Uint8Array.from(Buffer.from('3BFE1800008131FE458031815448534D31738021408107FA', 'hex'));

const PIN_USER = 0x81;
const PIN_SO = 0x88;
const SO_PIN_RETRIES = 15;
const KEY_PREFIX = 0xcc;
const EF_DEVICE_CERTS = 0x2f02;
const PROT_DATA_PREFIX = 0xcd;
const MAX_COMMAND_APDU = 1232;

export interface ScHsmCardOptions {
  /** Initial non-volatile state; default: a factory-fresh card with a new random serial. */
  state?: CardStateData;
  /** Called with the state after every change to non-volatile memory (e.g. saveStateFile). */
  persist?: PersistState<CardStateData>;
  /**
   * "T=0 style": responses longer than this many bytes are returned in pieces with `61xx` and
   * fetched with GET RESPONSE `00 C0`. Default: unlimited (extended-length card).
   */
  maxResponseSize?: number;
  /** Accept extended-length APDUs (default true). When false they answer `6700`. */
  extendedLength?: boolean;
  /** Applet version reported in FCP tag 85 (default 3.5). */
  version?: { major: number; minor: number };
}

interface Reply {
  data?: Uint8Array;
  sw?: number;
}

const SIGN_HASH: Readonly<Record<number, HashName>> = {
  0x31: 'sha1', 0x32: 'sha224', 0x33: 'sha256', 0x34: 'sha384', 0x35: 'sha512',
  0x41: 'sha1', 0x42: 'sha224', 0x43: 'sha256', 0x44: 'sha384', 0x45: 'sha512',
  0x71: 'sha1', 0x72: 'sha224', 0x73: 'sha256', 0x74: 'sha384', 0x75: 'sha512',
};

/**
 * An emulated SmartCard-HSM (CardContact; same protocol as Nitrokey HSM 2 and Pico HSM),
 * faithful enough for OpenSC's `sc-hsm` driver and PKCS#15 emulation. The command set and
 * status words follow card-protocols.md §3.1; ISO framing follows ISO 7816-4 §5.
 * `process()` never rejects: every failure is a status word.
 */
export class ScHsmCard extends PoweredCard {
  private s: CardStateData;
  private readonly persistFn: PersistState<CardStateData> | undefined;
  private readonly maxResponse: number;
  private readonly extended: boolean;
  private readonly version: { major: number; minor: number };
  // Volatile state (cleared by power-off, reset and re-SELECT of the applet).
  private userVerified = false;
  private soVerified = false;
  private currentEf: number | undefined;
  private readonly response = new ResponseChain();
  /** SW to send with the last piece of a 61xx-chunked response (9000 or a warning like 6282). */

  constructor(options: ScHsmCardOptions = {}) {
    super();
    this.s = options.state ?? factoryFreshState();
    this.persistFn = options.persist;
    this.maxResponse = options.maxResponseSize ?? Infinity;
    this.extended = options.extendedLength ?? true;
    this.version = options.version ?? { major: 3, minor: 5 };
  }

  /** Serial number as OpenSC reports it (device CHR minus its 5-char sequence number). */
  get serial(): string {
    return this.s.serial;
  }

  /** Signatures made since the card was manufactured (persistent card-side truth). */
  get signatureCount(): number {
    return this.s.signatureCount;
  }

  /** Signatures made with key `id`, or undefined if there is no such key. */
  keySignatureCount(id: number): number | undefined {
    return this.s.keys[String(id)]?.signatures;
  }

  /** Ids of the keys on the card. */
  keyIds(): number[] {
    return Object.keys(this.s.keys).map(Number).sort((a, b) => a - b);
  }

  /** Tries left for the user PIN, or undefined when the card is not initialised. */
  userPinTriesLeft(): number | undefined {
    return this.s.userPin?.retries;
  }

  /** A deep copy of the non-volatile state (what the state file holds). */
  snapshot(): CardStateData {
    return structuredClone(this.s);
  }

  override atr(): Uint8Array {
    return SC_HSM_ATR.slice();
  }

  protected override clearVolatile(): void {
    this.userVerified = false;
    this.soVerified = false;
    this.currentEf = undefined;
    this.response.reset();
  }

  override async process(command: Uint8Array): Promise<Uint8Array> {
    try {
      // A card without power does not answer; the reader reports it as mute. We answer 6F00
      // so that callers always get bytes back (the vpcd layer powers on before APDUs anyway).
      if (!this.powered) return swBytes(SW.NO_PRECISE_DIAGNOSIS);
      const apdu = parseCommandApdu(command);
      if (apdu.extended && !this.extended) fail(SW.WRONG_LENGTH);
      // The JCOP3 SmartCard-HSM takes APDUs of at most 1232 bytes, about 1223 data bytes
      // (card-protocols.md "Per-card size limits", from OpenSC card-sc-hsm.c comments).
      if (command.length > MAX_COMMAND_APDU) fail(SW.WRONG_LENGTH);
      if (apdu.ins === 0xc0 && (apdu.cla & 0x7f) === 0x00) {
        if (apdu.p1 !== 0 || apdu.p2 !== 0) return swBytes(SW.WRONG_P1P2);
        return this.response.getResponse(Math.min(apdu.ne === 0 ? 256 : apdu.ne, this.maxResponse));
      }
      this.response.reset();
      const reply = await this.dispatch(apdu);
      // Ne and the T=0-style limit: too much data → first part + 61xx (ISO 7816-4 §5.3.4).
      return this.response.shape(reply.data ?? new Uint8Array(0), reply.sw ?? SW.OK, Math.min(apdu.ne === 0 ? Infinity : apdu.ne, this.maxResponse));
    } catch (err) {
      if (err instanceof CardStatus) return swBytes(err.sw);
      return swBytes(SW.NO_PRECISE_DIAGNOSIS);
    }
  }

  private async dispatch(a: CommandApdu): Promise<Reply> {
    // CLA: 00 (interindustry) or 80 (proprietary). Chaining and secure messaging are not offered.
    if (a.cla & 0x10) fail(SW.CHAINING_NOT_SUPPORTED);
    if (a.cla & 0x0c) fail(SW.SM_NOT_SUPPORTED);
    if ((a.cla & 0x7f) !== 0x00) fail(SW.CLA_NOT_SUPPORTED);
    switch (a.ins) {
      case 0xa4: return this.select(a);
      case 0x20: return this.verify(a);
      case 0x24: return this.changeReferenceData(a);
      case 0x2c: return this.resetRetryCounter(a);
      case 0x50: return this.initialize(a);
      case 0x58: return this.enumerate(a);
      case 0xb0: return this.readBinaryIso(a);
      case 0xb1: return this.readBinary(a);
      case 0xd7: return this.updateBinary(a);
      case 0xe4: return this.deleteFile(a);
      case 0x46: return this.generateKeyPair(a);
      case 0x68: return this.sign(a);
      case 0x84: return this.getChallenge(a);
      case 0x52:
      case 0x72:
      case 0x74: return this.dkek(a);
      default: return fail(SW.INS_NOT_SUPPORTED);
    }
  }

  /** `durable: false` only for a change of signature counters (state-file.ts SaveOptions). */
  private save(durable = true): void {
    this.persistFn?.(this.s, { durable });
  }

  // ---------------------------------------------------------------- SELECT (ISO 7816-4 §11.2.2)

  private select(a: CommandApdu): Reply {
    const wantFcp = a.p2 === 0x00 || a.p2 === 0x04;
    if (!wantFcp && a.p2 !== 0x0c) fail(SW.WRONG_P1P2);
    switch (a.p1) {
      case 0x04: {
        // By DF name; a truncated AID of at least 5 bytes selects too (ISO 7816-4 §11.2.2).
        const ok = a.data.length >= 5 && a.data.length <= SC_HSM_AID.length && Buffer.from(SC_HSM_AID.subarray(0, a.data.length)).equals(Buffer.from(a.data));
        if (!ok) fail(SW.FILE_NOT_FOUND);
        // Selecting the applet again is the SmartCard-HSM logout.
        this.clearVolatile();
        return wantFcp ? { data: this.appletFcp() } : {};
      }
      case 0x00:
      case 0x01:
      case 0x02:
      case 0x08:
      case 0x09: {
        if (a.data.length === 0 && a.p1 === 0x00) {
          this.currentEf = undefined;
          return wantFcp ? { data: dfFcp(0x3f00) } : {};
        }
        if (a.data.length !== 2) fail(a.p1 >= 0x08 && a.data.length % 2 === 0 ? SW.FILE_NOT_FOUND : SW.WRONG_LENGTH);
        const fid = (a.data[0]! << 8) | a.data[1]!;
        if (fid === 0x3f00) {
          this.currentEf = undefined;
          return wantFcp ? { data: dfFcp(0x3f00) } : {};
        }
        const size = this.efSize(fid);
        if (size === undefined) fail(SW.FILE_NOT_FOUND);
        this.currentEf = fid;
        return wantFcp ? { data: efFcp(fid, size) } : {};
      }
      case 0x03:
        this.currentEf = undefined;
        return wantFcp ? { data: dfFcp(0x3f00) } : {};
      default:
        return fail(SW.WRONG_P1P2);
    }
  }

  private appletFcp(): Uint8Array {
    const opt = this.s.options;
    // 85: options (2) ‖ type (00 = JCOP applet) ‖ major ‖ minor (OpenSC sc_hsm_init reads these).
    const prop = [0x85, 0x05, (opt >> 8) & 0xff, opt & 0xff, 0x00, this.version.major, this.version.minor];
    const body = [0x82, 0x01, 0x38, 0x84, SC_HSM_AID.length, ...SC_HSM_AID, ...prop];
    return Uint8Array.from([0x62, body.length, ...body]);
  }

  private efSize(fid: number): number | undefined {
    if (fid === EF_DEVICE_CERTS) return this.s.device.certificates.length / 2;
    if (fid >> 8 === KEY_PREFIX) return this.s.keys[String(fid & 0xff)] ? 0 : undefined;
    const hex = this.s.files[fidKey(fid)];
    return hex === undefined ? undefined : hex.length / 2;
  }

  private efContent(fid: number): Uint8Array | undefined {
    if (fid === EF_DEVICE_CERTS) return Buffer.from(this.s.device.certificates, 'hex');
    const hex = this.s.files[fidKey(fid)];
    return hex === undefined ? undefined : new Uint8Array(Buffer.from(hex, 'hex'));
  }

  // ---------------------------------------------------------------- PINs (ISO 7816-4 §11.5)

  private pinFor(ref: number): StoredPin | null {
    if (ref === PIN_USER) return this.s.userPin;
    if (ref === PIN_SO) return this.s.soPin;
    // 85/86 are biometric references; absent ones must answer 6A88, or OpenSC assumes a
    // protected authentication path (card-protocols.md §3.1).
    return fail(SW.REF_DATA_NOT_FOUND);
  }

  private verify(a: CommandApdu): Reply {
    if (a.p1 !== 0x00) fail(SW.WRONG_P1P2);
    const pin = this.pinFor(a.p2);
    if (!pin) fail(SW.REF_DATA_NOT_FOUND);
    const isUser = a.p2 === PIN_USER;
    // Transport-PIN mode: the PIN must be changed first (sc-hsm-embedded updatePinStatus: 6984).
    if (isUser && pin.transport) fail(SW.REF_DATA_NOT_USABLE);
    if (a.data.length === 0) {
      // Status query: never spends a try.
      if (isUser ? this.userVerified : this.soVerified) return {};
      if (pin.retries === 0) fail(SW.AUTH_BLOCKED);
      return { sw: triesLeftSw(pin.retries) };
    }
    this.checkPin(pin, a.data);
    if (isUser) this.userVerified = true;
    else this.soVerified = true;
    return {};
  }

  /** Compare, spending a try on mismatch; resets the counter on success (ISO 7816-4 §11.5.6). */
  private checkPin(pin: StoredPin, candidate: Uint8Array): void {
    if (pin.retries === 0) fail(SW.AUTH_BLOCKED);
    if (pinMatches(pin, candidate)) {
      if (pin.retries !== pin.maxRetries) {
        pin.retries = pin.maxRetries;
        this.save();
      }
      return;
    }
    pin.retries -= 1;
    if (pin === this.s.userPin) this.userVerified = false;
    if (pin === this.s.soPin) this.soVerified = false;
    this.save();
    fail(triesLeftSw(pin.retries));
  }

  private changeReferenceData(a: CommandApdu): Reply {
    if (a.p1 !== 0x00) fail(SW.WRONG_P1P2);
    const pin = this.pinFor(a.p2);
    if (!pin) fail(SW.REF_DATA_NOT_FOUND);
    const oldLen = pin.length;
    if (a.data.length <= oldLen) fail(SW.WRONG_LENGTH);
    const newPin = a.data.subarray(oldLen);
    if (a.p2 === PIN_SO && newPin.length !== 8) fail(SW.WRONG_LENGTH);
    if (a.p2 === PIN_USER && newPin.length > 16) fail(SW.WRONG_LENGTH);
    this.checkPin(pin, a.data.subarray(0, oldLen));
    const rec = pinRecord(newPin, pin.maxRetries); // a changed transport PIN is an ordinary PIN
    if (a.p2 === PIN_USER) {
      this.s.userPin = rec;
      this.userVerified = true;
    } else {
      this.s.soPin = rec;
    }
    this.save();
    return {};
  }

  private resetRetryCounter(a: CommandApdu): Reply {
    if (a.p1 !== 0x00 && a.p1 !== 0x01) fail(SW.WRONG_P1P2);
    if (a.p2 !== PIN_USER) fail(SW.REF_DATA_NOT_FOUND);
    const user = this.s.userPin;
    const so = this.s.soPin;
    if (!user || !so) fail(SW.REF_DATA_NOT_FOUND);
    // Option bit 0x0001 "SO may reset the user PIN" (INITIALIZE tag 80).
    if ((this.s.options & 0x0001) === 0) fail(0x6986);
    if (a.p1 === 0x01 ? a.data.length !== 8 : a.data.length <= 8) fail(SW.WRONG_LENGTH);
    const newPin = a.data.subarray(8);
    if (newPin.length > 16) fail(SW.WRONG_LENGTH);
    this.checkPin(so, a.data.subarray(0, 8));
    if (a.p1 === 0x00) this.s.userPin = pinRecord(newPin, user.maxRetries);
    else user.retries = user.maxRetries;
    this.save();
    return {};
  }

  // ---------------------------------------------------------------- INITIALIZE DEVICE (80 50)

  private initialize(a: CommandApdu): Reply {
    if (a.p1 !== 0x00 || a.p2 !== 0x00) fail(SW.WRONG_P1P2);
    if (a.data.length === 0) {
      // Without data the card reports free memory (4 bytes, big-endian).
      return { data: Uint8Array.of(0x00, 0x01, 0x2c, 0x00) };
    }
    const tlvs = parseOrFail(a.data);
    const options = findTlv(tlvs, 0x80);
    const userPin = findTlv(tlvs, 0x81);
    const initCode = findTlv(tlvs, 0x82);
    const retries = findTlv(tlvs, 0x91);
    const shares = findTlv(tlvs, 0x92);
    if (!userPin || !initCode || initCode.length !== 8 || userPin.length < 1 || userPin.length > 16) fail(SW.WRONG_DATA);
    if (options && options.length !== 2) fail(SW.WRONG_DATA);
    if (retries && (retries.length !== 1 || retries[0]! < 1 || retries[0]! > 15)) fail(SW.WRONG_DATA);
    if (shares && shares.length !== 1) fail(SW.WRONG_DATA);
    // Initialisation needs the current SO-PIN as initialisation code: the factory default on a
    // new card (card-state.ts), the one set at the last INITIALIZE on a used one. State files
    // of older emulator versions have none; those accept any 8-byte code.
    if (this.s.soPin) this.checkPin(this.s.soPin, initCode);
    this.s.initialized = true;
    this.s.options = options ? (options[0]! << 8) | options[1]! : 0x0001;
    this.s.userPin = pinRecord(userPin, retries ? retries[0]! : 3);
    if (this.s.options & 0x0002) this.s.userPin.transport = true; // card-protocols.md §3.1 options 0x02
    this.s.soPin = pinRecord(initCode, SO_PIN_RETRIES);
    this.s.dkek = shares ? { total: shares[0]!, imported: 0, value: '00'.repeat(32) } : null;
    this.s.files = {};
    this.s.keys = {};
    this.save();
    // Nobody is authenticated afterwards: OpenSC's sc_hsm_initialize (card-sc-hsm.c) VERIFYs
    // the new user PIN before it writes EF 2F03, so a host must not rely on a login here.
    this.clearVolatile();
    return {};
  }

  // ---------------------------------------------------------------- files

  private enumerate(a: CommandApdu): Reply {
    if (a.p1 !== 0x00 || a.p2 !== 0x00) fail(SW.WRONG_P1P2);
    // Extended Le 000000 only (SC-HSM user manual v2.4, quoted in OpenSC issue #2944; CardContact
    // in OpenSC issue #715: "requires … extended length APDUs, in particular in ENUMERATE OBJECTS").
    if (!a.extended) fail(SW.WRONG_LENGTH);
    // CC00 is the device authentication key, always present; hosts pick free key ids from 1.
    const fids = new Set<number>([KEY_PREFIX << 8]);
    for (const id of Object.keys(this.s.keys)) fids.add((KEY_PREFIX << 8) | Number(id));
    for (const k of Object.keys(this.s.files)) fids.add(parseInt(k, 16));
    const list = [...fids].sort((x, y) => x - y);
    const out = new Uint8Array(list.length * 2);
    list.forEach((f, i) => {
      out[2 * i] = f >> 8;
      out[2 * i + 1] = f & 0xff;
    });
    return { data: out };
  }

  private resolveFid(p1: number, p2: number): number {
    const fid = (p1 << 8) | p2;
    if (fid !== 0) return fid;
    if (this.currentEf === undefined) fail(0x6986);
    return this.currentEf;
  }

  private readFrom(fid: number, offset: number, ne: number): Reply {
    if (fid >> 8 === KEY_PREFIX) fail(SW.SECURITY_NOT_SATISFIED);
    if (fid >> 8 === PROT_DATA_PREFIX && !this.userVerified) fail(SW.SECURITY_NOT_SATISFIED);
    const content = this.efContent(fid);
    if (!content) fail(SW.FILE_NOT_FOUND);
    this.currentEf = fid;
    if (offset > content.length) fail(SW.OFFSET_OUT_OF_RANGE);
    const want = ne === 0 ? 65536 : ne;
    const data = content.subarray(offset, offset + want);
    // Fewer bytes than asked: end of file reached (ISO 7816-4 §11.3.3, warning 6282).
    return { data, sw: data.length < want ? SW.EOF_REACHED : SW.OK };
  }

  /** READ BINARY odd INS `B1` with offset DO `54` (ISO 7816-4 §11.3.3). */
  private readBinary(a: CommandApdu): Reply {
    const fid = this.resolveFid(a.p1, a.p2);
    const t = parseOrFail(a.data);
    const off = findTlv(t, 0x54);
    if (!off || off.length < 1 || off.length > 3) fail(SW.WRONG_DATA);
    return this.readFrom(fid, Number(bytesToBigint(off)), a.ne);
  }

  /** READ BINARY even INS `B0` on the current EF, 15-bit offset in P1-P2. */
  private readBinaryIso(a: CommandApdu): Reply {
    if (a.p1 & 0x80) fail(SW.FUNC_NOT_SUPPORTED);
    if (this.currentEf === undefined) fail(0x6986);
    return this.readFrom(this.currentEf, ((a.p1 & 0x7f) << 8) | a.p2, a.ne);
  }

  /** UPDATE BINARY odd INS `D7`: `54` offset, `53` data; writing a new FID creates the EF. */
  private updateBinary(a: CommandApdu): Reply {
    const fid = this.resolveFid(a.p1, a.p2);
    const t = parseOrFail(a.data);
    const off = findTlv(t, 0x54);
    const data = findTlv(t, 0x53);
    if (!off || off.length < 1 || off.length > 3 || !data) fail(SW.WRONG_DATA);
    if (!this.s.initialized || !this.userVerified) fail(SW.SECURITY_NOT_SATISFIED);
    if (fid === EF_DEVICE_CERTS || fid >> 8 === KEY_PREFIX || fid === 0x3f00) fail(SW.SECURITY_NOT_SATISFIED);
    const offset = Number(bytesToBigint(off));
    const current = this.efContent(fid) ?? new Uint8Array(0);
    const end = Math.max(current.length, offset + data.length);
    if (end > 0x7fff) fail(SW.NOT_ENOUGH_MEMORY);
    const next = new Uint8Array(end);
    next.set(current, 0);
    next.set(data, offset);
    this.s.files[fidKey(fid)] = Buffer.from(next).toString('hex').toUpperCase();
    this.currentEf = fid;
    this.save();
    return {};
  }

  /** DELETE FILE `00 E4 02 00 02 <FID>` (SmartCard-HSM form). Deleting `CCxx` deletes the key. */
  private deleteFile(a: CommandApdu): Reply {
    if (a.p1 !== 0x02 || a.p2 !== 0x00) fail(SW.WRONG_P1P2);
    if (a.data.length !== 2) fail(SW.WRONG_LENGTH);
    if (!this.userVerified) fail(SW.SECURITY_NOT_SATISFIED);
    const fid = (a.data[0]! << 8) | a.data[1]!;
    if (fid >> 8 === KEY_PREFIX) {
      const id = String(fid & 0xff);
      if (!this.s.keys[id]) fail(SW.FILE_NOT_FOUND);
      delete this.s.keys[id];
    } else {
      if (this.s.files[fidKey(fid)] === undefined) fail(SW.FILE_NOT_FOUND);
      delete this.s.files[fidKey(fid)];
    }
    if (this.currentEf === fid) this.currentEf = undefined;
    this.save();
    return {};
  }

  // ---------------------------------------------------------------- keys

  /** GENERATE ASYMMETRIC KEY PAIR `00 46 <id> <signing key>` with a GAKP template; returns a CV request. */
  private async generateKeyPair(a: CommandApdu): Promise<Reply> {
    if (a.p1 === 0x00) fail(SW.WRONG_P1P2);
    if (!this.s.initialized || !this.userVerified) fail(SW.SECURITY_NOT_SATISFIED);
    // An occupied key slot is not overwritten: hosts pick a free id first (OpenSC pkcs15init
    // sc-hsm `sc_hsm_determine_free_id` walks ENUMERATE for one). 6A89: object exists (ISO 7816-4 §5.6).
    if (this.s.keys[String(a.p1)]) fail(0x6a89);
    // Extended Le 000000 only, as for ENUMERATE (OpenSC issue #2944).
    if (!a.extended) fail(SW.WRONG_LENGTH);
    const t = parseOrFail(a.data);
    const pk = findTlv(t, 0x7f49);
    if (!pk) fail(SW.WRONG_DATA);
    const pkt = parseOrFail(pk);
    const oid = findTlv(pkt, 0x06);
    if (!oid || oid.length !== 10) fail(SW.WRONG_DATA);
    let spec: StoredKey['spec'];
    let exponent = 65537;
    if (Buffer.from(oid.subarray(0, 9)).equals(Buffer.from(OID_TA_RSA_PREFIX))) {
      const bitsField = findTlv(pkt, 0x02);
      const bits = bitsField ? Number(bytesToBigint(bitsField)) : 2048;
      if (![1024, 1536, 2048, 3072, 4096].includes(bits)) fail(SW.WRONG_DATA);
      const e = findTlv(pkt, 0x82);
      if (e) exponent = Number(bytesToBigint(e));
      if (exponent < 3 || exponent % 2 === 0 || exponent > 0xffffffff) fail(SW.WRONG_DATA);
      spec = { kind: 'rsa', bits };
    } else if (Buffer.from(oid.subarray(0, 9)).equals(Buffer.from(OID_TA_ECDSA_PREFIX))) {
      const p = findTlv(pkt, 0x81);
      const curve = p ? curveByPrime(bytesToBigint(p)) : undefined;
      if (!curve) fail(SW.WRONG_DATA);
      spec = { kind: 'ec', curve: curve.name };
    } else {
      return fail(SW.WRONG_DATA);
    }
    const car = findTlv(t, 0x42);
    const chr = findTlv(t, 0x5f20);
    const useCounter = findTlv(t, 0x90);
    const algs = findTlv(t, 0x91);
    const key = await generateCardKey(spec.kind === 'rsa' ? { kind: 'rsa', bits: spec.bits, exponent } : spec);
    const ref: KeyRef = spec.kind === 'rsa' ? { kind: 'rsa', pkcs8: key.pkcs8 } : { kind: 'ec', curve: spec.curve, pkcs8: key.pkcs8 };
    const body = cvcBody({
      car: car ? Buffer.from(car).toString('latin1') : undefined,
      publicKey: publicKeyTemplate(ref, true),
      chr: chr ? Buffer.from(chr).toString('latin1') : `${this.s.serial}00001`,
    });
    // Authenticated request (TR-03110-3 §C.2): the self-signed request wrapped in `67` with an
    // outer signature by the device key (key 0) over request ‖ outer CAR. OpenSC only derives
    // a public key object from CE xx when it starts with `67`.
    const inner = signCvc(body, ref);
    const outerCar = tlv(0x42, new Uint8Array(Buffer.from(`${this.s.serial}00001`, 'latin1')));
    const device: KeyRef = { kind: 'ec', curve: 'P-256', pkcs8: new Uint8Array(Buffer.from(this.s.device.keyPkcs8, 'base64')) };
    const outerSig = cvcSignature(device, new Uint8Array(Buffer.concat([inner, outerCar])));
    const request = tlv(0x67, inner, outerCar, tlv(0x5f37, outerSig));
    const stored: StoredKey = {
      spec,
      pkcs8: Buffer.from(key.pkcs8).toString('base64'),
      signatures: 0,
      createdAt: new Date().toISOString(),
    };
    if (algs && algs.length > 0) stored.algorithms = Buffer.from(algs).toString('hex').toUpperCase();
    if (useCounter && useCounter.length > 0) stored.remainingUses = Number(bytesToBigint(useCounter));
    if (dkekComplete(this.s.dkek)) stored.exportable = true;
    this.s.keys[String(a.p1)] = stored;
    key.pkcs8.fill(0);
    this.save();
    return { data: request };
  }

  /** SIGN `80 68 <key id> <algorithm>` (card-protocols.md §3.1 sign table). */
  private sign(a: CommandApdu): Reply {
    if (a.cla !== 0x80) fail(SW.CLA_NOT_SUPPORTED);
    const key = this.s.keys[String(a.p1)];
    if (!key || a.p1 === 0) fail(SW.REF_DATA_NOT_FOUND);
    if (!this.userVerified) fail(SW.SECURITY_NOT_SATISFIED);
    const alg = a.p2;
    const known = [0x20, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75];
    if (!known.includes(alg)) fail(SW.WRONG_P1P2);
    if ((alg >= 0x70) !== (key.spec.kind === 'ec')) fail(SW.FUNC_NOT_SUPPORTED);
    if (key.algorithms !== undefined && !Buffer.from(key.algorithms, 'hex').includes(alg)) fail(SW.FUNC_NOT_SUPPORTED);
    if (key.remainingUses !== undefined && key.remainingUses <= 0) fail(SW.REF_DATA_NOT_USABLE);
    if (a.data.length === 0) fail(SW.WRONG_DATA);
    const pkcs8 = new Uint8Array(Buffer.from(key.pkcs8, 'base64'));
    let sig: Uint8Array;
    try {
      sig = this.signWith(key, pkcs8, alg, a.data);
    } finally {
      pkcs8.fill(0);
    }
    key.signatures += 1;
    if (key.remainingUses !== undefined) key.remainingUses -= 1;
    this.s.signatureCount += 1;
    // A use-limited key's counter is a security limit: durable; the plain counters are not.
    this.save(key.remainingUses !== undefined);
    return { data: sig };
  }

  private signWith(key: StoredKey, pkcs8: Uint8Array, alg: number, input: Uint8Array): Uint8Array {
    if (key.spec.kind === 'ec') {
      const curve: CurveName = key.spec.curve;
      // Plain ECDSA takes a hash no longer than the field: hosts truncate it (FIPS 186-4 §6.4), as
      // OpenSC's pkcs15-sec.c does before it reaches card-sc-hsm.c; the card refuses more (6A80).
      if (alg === 0x70 && input.length > curveByName(curve)!.size) fail(SW.WRONG_DATA);
      const h = alg === 0x70 ? input : hash(SIGN_HASH[alg]!, input);
      return ecdsaSignHash(pkcs8, curve, h);
    }
    if (alg === 0x20) return rsaRaw(pkcs8, input);
    if (alg === 0x30) return rsaPkcs1(pkcs8, input);
    if (alg >= 0x31 && alg <= 0x35) {
      const name = SIGN_HASH[alg]!;
      return rsaPkcs1(pkcs8, digestInfo(name, hash(name, input)));
    }
    if (alg === 0x40) {
      // Input is the hash (its length picks the hash); a DigestInfo is accepted too.
      const di = stripDigestInfo(input);
      const name = di?.hash ?? HASH_BY_LENGTH[input.length];
      if (!name) fail(SW.WRONG_DATA);
      return rsaPss(pkcs8, name, di?.h ?? input);
    }
    const name = SIGN_HASH[alg]!;
    return rsaPss(pkcs8, name, hash(name, input));
  }

  // ---------------------------------------------------------------- misc

  private getChallenge(a: CommandApdu): Reply {
    if (a.p1 !== 0x00 || a.p2 !== 0x00) fail(SW.WRONG_P1P2);
    if (a.ne === 0 || a.ne > 1024 || a.data.length > 0) fail(SW.WRONG_LENGTH);
    return { data: new Uint8Array(randomBytes(a.ne)) };
  }

  /** DKEK share import, WRAP and UNWRAP (card-protocols.md §3.1 "DKEK"; sc-hsm-dkek.ts). */
  private dkek(a: CommandApdu): Reply {
    if (a.cla !== 0x80) fail(SW.CLA_NOT_SUPPORTED);
    const card = this;
    return dkekCommand({ state: this.s, get userVerified() { return card.userVerified; }, save: () => this.save() }, a.ins, a.p1, a.p2, a.data);
  }
}

function parseOrFail(data: Uint8Array): Tlv[] {
  try {
    return parseTlvs(data);
  } catch {
    return fail(SW.WRONG_DATA);
  }
}

function dfFcp(fid: number): Uint8Array {
  return Uint8Array.from([0x62, 0x07, 0x82, 0x01, 0x38, 0x83, 0x02, fid >> 8, fid & 0xff]);
}

function efFcp(fid: number, size: number): Uint8Array {
  return Uint8Array.from([0x62, 0x0b, 0x80, 0x02, (size >> 8) & 0xff, size & 0xff, 0x82, 0x01, 0x01, 0x83, 0x02, fid >> 8, fid & 0xff]);
}

export function swBytes(sw: number): Uint8Array {
  return Uint8Array.of(sw >> 8, sw & 0xff);
}

